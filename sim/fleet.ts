/**
 * A fleet of virtual handsets against one DM server: created (or reloaded) in a state
 * directory with ids deterministic from seed + index, handed to the caller to provision
 * on the server, then run — one session each with bounded concurrency, or kept alive on a
 * schedule and listening for Package #0 until stopped — with a summary for the CLI and
 * benchmarks.
 */
import type { AuthScheme } from '../lib/omadm/auth';
import type { InProcessPush } from '../lib/omadm/push';
import type { ClientNonces } from '../lib/omadm/session/client';
import { MODEL_IDS } from './catalog';
import { generateIdentity, type GenerateOptions, type HandsetIdentity } from './generate';
import { emptyHandsetDs } from './ds-store';
import { VirtualHandset, type HandsetOptions, type SessionSummary } from './handset';
import { hash32 } from './random';
import { HandsetStore } from './store';
import { dmAccPaths } from '../lib/omadm/mo/dmacc';

export type FleetHandsetInfo = HandsetIdentity & { nonces: ClientNonces };

export interface FleetOptions {
  /** The DM server URL, e.g. http://localhost:3000/dm. Authoritative: stored handsets are pointed at it. */
  server: string;
  devices: number;
  stateDir: string;
  encoding?: 'xml' | 'wbxml' | 'mixed';
  /** Both directions' scheme (default md5); `clientAuth` and `serverAuth` each win for their own. */
  auth?: AuthScheme;
  /** How the handsets prove themselves to the server (DMAcc AppAuth, client side). */
  clientAuth?: AuthScheme;
  /** How the handsets check the server (DMAcc AppAuth, server side). */
  serverAuth?: AuthScheme;
  concurrency?: number;
  /** true (default): one session per handset. false: schedule + Package #0 until `signal` aborts. */
  once?: boolean;
  seed?: number;
  /** Provision the handsets on the server (called once, before any session). */
  register?: (ids: FleetHandsetInfo[]) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
  /** Models to draw from (default: the whole catalog). */
  models?: readonly string[];
  /** Media size factor (default 0.1: about 400 KB per handset instead of 4 MB). */
  mediaScale?: number;
  serverId?: string;
  /** once=false: interval between each handset's own sessions (default 60 s). */
  everyMs?: number;
  /** once=false: where handsets listen for Package #0. */
  push?: InProcessPush;
  /** once=false: stops the fleet. */
  signal?: AbortSignal;
  /** Passed to every handset (transport with fault injection, user, timeouts...). */
  handset?: Omit<HandsetOptions, 'store'>;
  /** New handsets' contacts and calendar: generated from the seed (default), or empty (new phones). */
  dsStores?: 'generated' | 'empty';
  /**
   * The password every handset authenticates with from now on, instead of its account's (a
   * user who re-typed it wrongly): to see how the server tells a wrong password.
   */
  clientPassword?: string;
}

export interface FleetSummary {
  handsets: number;
  sessions: number;
  ok: number;
  failed: number;
  messages: number;
  /** The handsets' messages, each answered by the server: a round trip each. */
  roundTrips: number;
  bytesOut: number;
  bytesIn: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  wallMs: number;
  errorsByKind: Record<string, number>;
}

/** Seed of the handset at `index` in a fleet seeded with `seed`. */
export function fleetSeed(seed: number, index: number): number {
  return hash32(`fleet:${seed >>> 0}:${index}`);
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(handsets: number, sessions: readonly SessionSummary[], wallMs: number): FleetSummary {
  const real = sessions.filter((s) => s.end !== 'skipped');
  const durations = real.map((s) => s.durationMs).sort((a, b) => a - b);
  const errorsByKind: Record<string, number> = {};
  for (const s of real) if (s.error) errorsByKind[s.error.kind] = (errorsByKind[s.error.kind] ?? 0) + 1;
  return {
    handsets,
    sessions: real.length,
    ok: real.filter((s) => s.ok).length,
    failed: real.filter((s) => !s.ok).length,
    messages: real.reduce((a, s) => a + s.messagesOut + s.messagesIn, 0),
    roundTrips: real.reduce((a, s) => a + s.messagesOut, 0),
    bytesOut: real.reduce((a, s) => a + s.bytesOut, 0),
    bytesIn: real.reduce((a, s) => a + s.bytesIn, 0),
    p50Ms: percentile(durations, 0.5),
    p99Ms: percentile(durations, 0.99),
    maxMs: durations[durations.length - 1] ?? 0,
    wallMs,
    errorsByKind,
  };
}

/** Creates (first run) or loads (later runs) the fleet's handsets; saved before returning. */
export function openFleet(opts: FleetOptions): VirtualHandset[] {
  const store = new HandsetStore(opts.stateDir);
  const models = opts.models && opts.models.length > 0 ? opts.models : MODEL_IDS;
  const seed = opts.seed ?? 1;
  const out: VirtualHandset[] = [];
  for (let i = 0; i < opts.devices; i++) {
    const s = fleetSeed(seed, i);
    const model = models[s % models.length]!;
    const encoding = opts.encoding === 'mixed' ? (i % 2 === 0 ? 'xml' : 'wbxml') : (opts.encoding ?? 'xml');
    const gen: GenerateOptions = {
      serverUri: opts.server,
      encoding,
      clientScheme: opts.clientAuth ?? opts.auth ?? 'md5',
      serverScheme: opts.serverAuth ?? opts.auth ?? 'md5',
      mediaScale: opts.mediaScale ?? 0.1,
      ...(opts.serverId !== undefined ? { serverId: opts.serverId } : {}),
    };
    const { devId } = generateIdentity(s, model, gen);
    let h: VirtualHandset;
    if (store.exists(devId)) {
      h = VirtualHandset.load(store, devId, opts.handset ?? {});
      // The fleet's server and encoding win over what an earlier run stored.
      h.state.identity = { ...h.state.identity, serverUri: opts.server, encoding };
      const addr = dmAccPaths(h.identity.account).addr('1').Addr;
      if (h.tree.has(addr)) h.tree.set(addr, opts.server);
    } else {
      h = VirtualHandset.create(s, model, gen, { ...(opts.handset ?? {}), store });
      if (opts.dsStores === 'empty') h.state.ds = emptyHandsetDs(model);
    }
    h.save();
    out.push(h);
  }
  return out;
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const x = items[next++]!;
      await fn(x);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

export async function runFleet(opts: FleetOptions): Promise<FleetSummary> {
  const started = Date.now();
  const handsets = openFleet(opts);
  if (opts.register) await opts.register(handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })));
  if (opts.clientPassword) for (const h of handsets) h.setClientPassword(opts.clientPassword);
  const sessions: SessionSummary[] = [];
  const unsubscribe = handsets.map((h) => h.onSession((s) => sessions.push(s)));
  const total = handsets.length;
  try {
    if (opts.once ?? true) {
      let done = 0;
      await pool(handsets, opts.concurrency ?? 8, async (h) => {
        await h.connect({ initiator: 'client' });
        // Sessions the first one triggered (operation results) belong to this run too.
        await h.idle();
        opts.onProgress?.(++done, total);
      });
    } else {
      const stops: Array<() => void> = [];
      const every = opts.everyMs ?? 60_000;
      handsets.forEach((h, i) => {
        if (opts.push) stops.push(h.listen(opts.push));
        // Stagger the schedules so a hundred handsets do not all connect in the same millisecond.
        const offset = Math.floor((every * i) / Math.max(1, total));
        const t = setTimeout(() => stops.push(h.startSchedule(every)), offset);
        stops.push(() => clearTimeout(t));
      });
      await new Promise<void>((resolve) => {
        if (!opts.signal || opts.signal.aborted) return resolve();
        opts.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      for (const stop of stops) stop();
      await Promise.all(handsets.map((h) => h.idle()));
    }
  } finally {
    for (const u of unsubscribe) u();
  }
  return summarize(total, sessions, Date.now() - started);
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

export function formatSummary(s: FleetSummary): string {
  const lines = [
    `handsets  ${s.handsets}`,
    `sessions  ${s.sessions} (${s.ok} ok, ${s.failed} failed)`,
    `messages  ${s.messages}`,
    `traffic   ${fmtBytes(s.bytesOut)} up, ${fmtBytes(s.bytesIn)} down`,
    // What one session costs over the air: what a handset owner pays for, and what digests and node properties cut.
    `a session ${(s.roundTrips / Math.max(1, s.sessions)).toFixed(1)} round trips, ${fmtBytes(Math.round((s.bytesIn + s.bytesOut) / Math.max(1, s.sessions)))} both ways (mean)`,
    `duration  p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms`,
    `wall      ${(s.wallMs / 1000).toFixed(1)} s`,
  ];
  const errs = Object.entries(s.errorsByKind).sort((a, b) => b[1] - a[1]);
  if (errs.length > 0) lines.push(`errors    ${errs.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  return lines.join('\n');
}
