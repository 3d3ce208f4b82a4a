/**
 * Fault injection around a Transport, for tests of what the server does when handsets
 * misbehave the way real ones on real radio links do: a connection that dies after the
 * Nth message (before the server saw it, or after — the reply is lost), a corrupted
 * message, a slow link, a server that never answers in time.
 *
 * Messages are counted per wrapper from 1, DM POSTs only (downloads are GETs and pass
 * through unless `countGets`). Faults can be set up front or changed on demand
 * (`set`, `clear`), and every injected fault is recorded in `log`.
 */
import { Rng } from './random';
import { TransportError, type HttpReply, type HttpRequest, type Transport } from './transport';

export type FaultKind =
  /** The request never reaches the server: the POST throws ('dropped'). */
  | 'drop-request'
  /** The server gets and processes the request, but the reply is lost: the POST throws. */
  | 'drop-reply'
  /** Bytes of the request body are flipped before it is sent. */
  | 'corrupt-request'
  /** Bytes of the reply body are flipped before the handset reads it. */
  | 'corrupt-reply'
  /** The server's reply does not come within the request timeout: throws 'timeout' (simulated, no waiting). */
  | 'timeout';

export interface FaultRule {
  kind: FaultKind;
  /** Which message (1-based) it hits; 'every' hits all. */
  at: number | 'every';
  /** corrupt-*: how many bytes to flip (default 8). */
  bytes?: number;
}

export interface FaultOptions {
  rules?: FaultRule[];
  /** Slow link: added delay per KiB sent and received, ms. */
  msPerKb?: number;
  /** Fixed added latency per exchange, ms. */
  latencyMs?: number;
  /** Seed for which bytes get flipped. */
  seed?: number;
  /** Count (and fault) GETs too. Default false: only DM POSTs. */
  countGets?: boolean;
  /** Real sleeping for slow links; tests pass a fake to avoid waiting. */
  sleep?: (ms: number) => Promise<void>;
}

export interface FaultEvent {
  message: number;
  kind: FaultKind | 'slow';
  url: string;
  detail?: string;
}

export interface FaultyTransport extends Transport {
  /** Messages seen so far. */
  readonly count: number;
  readonly log: readonly FaultEvent[];
  set(opts: FaultOptions): void;
  clear(): void;
  /** Restarts message counting (e.g. per session). */
  reset(): void;
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Flips `n` bytes at seeded positions; never flips nothing (XOR with a non-zero mask). */
export function corruptBytes(b: Uint8Array, n: number, rng: Rng): Uint8Array {
  const out = b.slice();
  if (out.length === 0) return out;
  for (let i = 0; i < n; i++) {
    const at = rng.int(0, out.length - 1);
    out[at] = out[at]! ^ (1 + rng.int(0, 254));
  }
  return out;
}

export function withFaults(inner: Transport, initial: FaultOptions = {}): FaultyTransport {
  let opts: FaultOptions = { ...initial };
  let rng = new Rng(opts.seed ?? 0x5eed);
  let count = 0;
  const log: FaultEvent[] = [];

  const rulesFor = (n: number): FaultRule[] => (opts.rules ?? []).filter((r) => r.at === 'every' || r.at === n);

  const t = (async (req: HttpRequest): Promise<HttpReply> => {
    const counted = req.method === 'POST' || opts.countGets === true;
    if (!counted) return inner(req);
    const n = ++count;
    const rules = rulesFor(n);
    const has = (k: FaultKind) => rules.find((r) => r.kind === k);
    const sleep = opts.sleep ?? realSleep;

    let sent = req;
    const cReq = has('corrupt-request');
    if (cReq && req.body) {
      sent = { ...req, body: corruptBytes(req.body, cReq.bytes ?? 8, rng) };
      log.push({ message: n, kind: 'corrupt-request', url: req.url });
    }
    if (has('drop-request')) {
      log.push({ message: n, kind: 'drop-request', url: req.url });
      throw new TransportError('dropped', `connection dropped before message ${n} reached the server`);
    }
    const delay = (opts.latencyMs ?? 0) + ((opts.msPerKb ?? 0) * (req.body?.length ?? 0)) / 1024;
    if (delay > 0) {
      log.push({ message: n, kind: 'slow', url: req.url, detail: `${Math.round(delay)} ms up` });
      await sleep(delay);
    }
    if (has('timeout')) {
      // The server may well process it; the handset just stops waiting. Let it run, ignore the result.
      inner(sent).catch(() => undefined);
      log.push({ message: n, kind: 'timeout', url: req.url });
      throw new TransportError('timeout', `no reply to message ${n} in ${req.timeoutMs} ms (injected)`);
    }
    const reply = await inner(sent);
    if (has('drop-reply')) {
      log.push({ message: n, kind: 'drop-reply', url: req.url });
      throw new TransportError('dropped', `connection dropped before the reply to message ${n} arrived`);
    }
    const down = ((opts.msPerKb ?? 0) * reply.body.length) / 1024;
    if (down > 0) {
      log.push({ message: n, kind: 'slow', url: req.url, detail: `${Math.round(down)} ms down` });
      await sleep(down);
    }
    const cRep = has('corrupt-reply');
    if (cRep) {
      log.push({ message: n, kind: 'corrupt-reply', url: req.url });
      return { ...reply, body: corruptBytes(reply.body, cRep.bytes ?? 8, rng) };
    }
    return reply;
  }) as FaultyTransport;

  Object.defineProperties(t, {
    count: { get: () => count },
    log: { get: () => log },
  });
  t.set = (o: FaultOptions) => {
    opts = { ...o };
    rng = new Rng(opts.seed ?? 0x5eed);
  };
  t.clear = () => {
    opts = {};
  };
  t.reset = () => {
    count = 0;
  };
  return t;
}

/** Shorthand: drop the connection at message `n` (the reply to it is lost by default). */
export function dropAt(n: number, phase: 'request' | 'reply' = 'reply'): FaultRule {
  return { kind: phase === 'request' ? 'drop-request' : 'drop-reply', at: n };
}
