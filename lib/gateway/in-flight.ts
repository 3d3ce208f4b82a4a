/**
 * At most `max` tasks at once; the rest wait their turn in order. The DM endpoint's memory
 * grows with the messages it works on at the same time (decoded messages, session states,
 * values on their way to the store), not with the connections waiting: a thousand handsets
 * sending at once are served a few dozen at a time, at the same throughput.
 *
 * It also knows how long a task arriving now would wait for a slot (`expectedWaitMs`): the
 * tasks ahead of it times the recent time a task holds its slot, over the slots. The DM
 * endpoint's admission (dm-admission.ts) turns new sessions away when that is longer than
 * handsets should wait.
 */
export class InFlight {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Recent wall time a task held its slot, ms (exponentially weighted; 0 until one ends). */
  private holdMs = 0;

  constructor(
    readonly max: number,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    const started = this.clock();
    try {
      return await task();
    } finally {
      const held = this.clock() - started;
      // A weight of 1/16: follows a change of load within a few dozen messages, and one slow
      // message (a large value, a restore's chunk) moves it little.
      this.holdMs = this.holdMs === 0 ? held : this.holdMs + (held - this.holdMs) / 16;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; only when none waits is it given back.
      if (next) next();
      else this.running--;
    }
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** How long a task arriving now would wait for its slot, ms: 0 while one is free. */
  expectedWaitMs(): number {
    if (this.running < this.max) return 0;
    return ((this.waiting.length + 1) * this.holdMs) / this.max;
  }
}
