/**
 * At most `max` tasks at once; the rest wait their turn in order. The DM endpoint's memory
 * grows with the messages it works on at the same time (decoded messages, session states,
 * values on their way to the store), not with the connections waiting: a thousand handsets
 * sending at once are served a few dozen at a time, at the same throughput.
 *
 * It also measures what a task costs the server (`msPerTask`: the time a task held its slot
 * over the tasks that shared the slots meanwhile, so 32 messages interleaved on one event
 * loop count each for what it took, not for the 32x longer it held a slot), and from that
 * how long a task arriving now would wait (`expectedWaitMs`). The DM endpoint's admission
 * (dm-admission.ts) turns new sessions away when handsets would wait too long.
 */
export class InFlight {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** Recent server time per task, ms (exponentially weighted; 0 until one ends). */
  private perTaskMs = 0;

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
      // Its slot's time shared with those running beside it (themselves included).
      const cost = (this.clock() - started) / this.running;
      // A weight of 1/16: follows a change of load within a few dozen messages, and one slow
      // message (a large value, a restore's chunk) moves it little.
      this.perTaskMs = this.perTaskMs === 0 ? cost : this.perTaskMs + (cost - this.perTaskMs) / 16;
      const next = this.waiting.shift();
      // The slot passes straight to the next in line; only when none waits is it given back.
      if (next) next();
      else this.running--;
    }
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Recent server time per task, ms; 0 until one has ended. */
  get msPerTask(): number {
    return this.perTaskMs;
  }

  /** How long a task arriving now would wait for its slot, ms: 0 while one is free. */
  expectedWaitMs(): number {
    if (this.running < this.max) return 0;
    return (this.waiting.length + 1) * this.perTaskMs;
  }
}
