/**
 * What a soak run counts as it goes: the DM round trips timed at the handsets' transport,
 * the sessions and how they ended, the operations started and finished, the Package #0s,
 * and the live progress line.
 */
import type { SessionSummary } from '../../sim/handset';
import type { Transport } from '../../sim/transport';

export const MB = 1024 * 1024;

export function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Growable list of latencies without boxing a million numbers. */
export class Samples {
  private buf = new Float64Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.buf.length) {
      const b = new Float64Array(this.buf.length * 2);
      b.set(this.buf);
      this.buf = b;
    }
    this.buf[this.length++] = v;
  }
  sorted(from = 0): Float64Array {
    return this.buf.slice(from, this.length).sort();
  }
}

export type OpKind = 'ordered-backup' | 'button-backup' | 'restore';

export class SoakMetrics {
  readonly latencies = new Samples();
  roundTrips = 0;
  /** Sessions' first messages the server answered busy (503, Retry-After): not in the latencies. */
  turnedAway = 0;
  pushes = 0;
  readonly sessions = {
    total: 0,
    ok: 0,
    failedInjected: 0,
    failedNotInjected: 0,
    errorsNotInjected: {} as Record<string, number>,
    errorSamples: [] as string[],
    faultsInjected: 0,
    reconnects: 0,
    stalls: 0,
  };
  readonly ops = { started: 0, finished: 0, byKind: {} as Record<string, number>, restoresNotPlanned: 0 };
  /** Jobs the finished operations waited for. */
  jobsEnded = 0;
  /** Writes from this process retried because the server held the database. */
  busyRetries = 0;
  /** Work that never got a job, and handsets whose loop stopped or never ended. */
  readonly unfinished: string[] = [];

  /** `transport`, with each DM round trip (a POST) timed. */
  timed(transport: Transport): Transport {
    return async (req) => {
      const t = performance.now();
      const reply = await transport(req);
      // A turned-away message was never worked on: its quick answer would flatter the latency.
      if (req.method === 'POST' && reply.status === 503) this.turnedAway++;
      else if (req.method === 'POST') {
        this.latencies.push(performance.now() - t);
        this.roundTrips++;
      }
      return reply;
    };
  }

  /** A session ended; `injected` is how many injected faults hit it. */
  session(summary: SessionSummary, injected: number): void {
    const s = this.sessions;
    s.total++;
    s.faultsInjected += injected;
    if (summary.ok) s.ok++;
    else if (injected) s.failedInjected++;
    else {
      s.failedNotInjected++;
      const k = summary.error?.kind ?? 'unknown';
      s.errorsNotInjected[k] = (s.errorsNotInjected[k] ?? 0) + 1;
      const msg = `${k}: ${summary.error?.message ?? ''}`;
      if (s.errorSamples.length < 10 && !s.errorSamples.includes(msg)) s.errorSamples.push(msg);
    }
  }

  operationStarted(kind: OpKind): void {
    this.ops.started++;
    this.ops.byKind[kind] = (this.ops.byKind[kind] ?? 0) + 1;
  }

  /**
   * Says a progress line every `everyS` seconds (none for 0) until the returned function
   * is called: operations, sessions, the round trips since the last line and their
   * latency, and the server's memory.
   */
  startProgress(
    everyS: number,
    started: number,
    stopAt: number,
    serverRss: () => number,
    say: (line: string) => void,
  ): () => void {
    if (!(everyS > 0)) return () => undefined;
    let last = { at: started, roundTrips: 0, lat: 0 };
    const timer = setInterval(() => {
      const now = Date.now();
      const window = this.latencies.sorted(last.lat);
      const rate = (this.roundTrips - last.roundTrips) / ((now - last.at) / 1000);
      const { ops, sessions } = this;
      say(
        `+${String(Math.round((now - started) / 1000)).padStart(4)} s  ops ${ops.finished}/${ops.started}  jobs ended ${this.jobsEnded}  sessions ${sessions.total} (${sessions.failedInjected} injected, ${sessions.failedNotInjected} other failures)  ` +
          `${Math.round(rate)} rt/s  p50 ${percentile(window, 0.5).toFixed(0)} ms p99 ${percentile(window, 0.99).toFixed(0)} ms  server RSS ${(serverRss() / MB).toFixed(0)} MB${now > stopAt ? '  (draining)' : ''}`,
      );
      last = { at: now, roundTrips: this.roundTrips, lat: this.latencies.length };
    }, everyS * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }
}
