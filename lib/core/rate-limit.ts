/**
 * Counting failures per key (`ip:<addr>`, `dev:<addr>|<DevId>`, …) and refusing a key that
 * failed too often, cheaply: no database, no framework, one Map.
 *
 * Each key has a fixed window that starts at its first failure: up to `max` failures are
 * allowed in `windowMs`; once `max` is reached the key is refused until the window that
 * began with its first failure is over (`retryAfterSeconds` says how long). A success may
 * `reset` the key. Memory is bounded: at most `maxKeys` keys are tracked, and a new key
 * past that evicts the one that failed least recently (a Map keeps insertion order and a
 * failure re-inserts its key), so a flood of distinct keys costs a fixed amount of memory.
 * Such a flood can push out an older key's count; that is why callers keep address keys
 * and per-identity keys in separate limiters (spraying DevIds does not evict addresses).
 *
 * Why in process memory is enough: the limits are there to make guessing and floods
 * expensive, not to be exact. One process (`npm start`) sees every request, so the counts
 * are exact. With several processes behind a balancer each keeps its own counts, so a
 * client that is spread over N processes gets N times the allowance (the limit is N times
 * looser), and a restart forgets the counts. A deployment that needs one shared limit would
 * keep these counters in a shared store (Redis, or a table) behind the same interface.
 */

export interface FailureLimiterOptions {
  /** Failures allowed in one window; 0 turns the limiter off. */
  max: number;
  windowMs: number;
  /** Keys tracked at once (the oldest goes first). */
  maxKeys?: number;
  /** The clock, injectable for tests. */
  now?: () => number;
}

export interface LimitVerdict {
  limited: boolean;
  /** Whole seconds until the key is allowed again (0 when not limited). */
  retryAfterSeconds: number;
  /** Failures counted in the current window. */
  failures: number;
}

interface Entry {
  start: number;
  count: number;
}

export const DEFAULT_MAX_KEYS = 10_000;

export class FailureLimiter {
  readonly max: number;
  readonly windowMs: number;
  readonly maxKeys: number;
  private readonly now: () => number;
  private readonly entries = new Map<string, Entry>();

  constructor(opts: FailureLimiterOptions) {
    if (!Number.isInteger(opts.max) || opts.max < 0) throw new RangeError('max must be a whole number, 0 or more');
    if (!(opts.windowMs > 0)) throw new RangeError('windowMs must be positive');
    const maxKeys = opts.maxKeys ?? DEFAULT_MAX_KEYS;
    if (!Number.isInteger(maxKeys) || maxKeys < 1) throw new RangeError('maxKeys must be a whole number, 1 or more');
    this.max = opts.max;
    this.windowMs = opts.windowMs;
    this.maxKeys = maxKeys;
    this.now = opts.now ?? Date.now;
  }

  /** Whether `key` is refused now; counts nothing. */
  check(key: string): LimitVerdict {
    const now = this.now();
    return this.verdict(this.live(key, now), now);
  }

  /** Counts a failure of `key` and says whether it is now refused. */
  fail(key: string): LimitVerdict {
    const now = this.now();
    if (this.max === 0) return { limited: false, retryAfterSeconds: 0, failures: 0 };
    let e = this.live(key, now);
    if (e) {
      this.entries.delete(key); // re-inserted below: the most recent failure goes last
      e.count++;
    } else {
      e = { start: now, count: 1 };
      this.evict(now);
    }
    this.entries.set(key, e);
    return this.verdict(e, now);
  }

  /** Forgets `key` (a success). */
  reset(key: string): void {
    this.entries.delete(key);
  }

  /** Keys tracked (for tests and diagnostics). */
  get size(): number {
    return this.entries.size;
  }

  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.start >= this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private verdict(e: Entry | undefined, now: number): LimitVerdict {
    if (!e || this.max === 0 || e.count < this.max)
      return { limited: false, retryAfterSeconds: 0, failures: e?.count ?? 0 };
    return {
      limited: true,
      retryAfterSeconds: Math.max(1, Math.ceil((e.start + this.windowMs - now) / 1000)),
      failures: e.count,
    };
  }

  /** Room for one more key: expired ones go first, then the least recently failed. */
  private evict(now: number): void {
    if (this.entries.size < this.maxKeys) return;
    // The first entries failed least recently, so expired ones gather there: drop those up
    // to the first live one, then live ones in the same order until there is room.
    for (const [k, e] of this.entries) {
      if (this.entries.size < this.maxKeys || now - e.start < this.windowMs) break;
      this.entries.delete(k);
    }
    while (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
