/**
 * At most `max` tasks at once; the rest wait their turn in order. The DM endpoint's memory
 * grows with the messages it works on at the same time (decoded messages, session states,
 * values on their way to the store), not with the connections waiting: a thousand handsets
 * sending at once are served a few dozen at a time, at the same throughput.
 */
export class InFlight {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; only when none waits is it given back.
      if (next) next();
      else this.running--;
    }
  }

  get queued(): number {
    return this.waiting.length;
  }
}
