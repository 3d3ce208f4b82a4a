/**
 * `npm run soak -- --devices 1000 --minutes 10 [--fault-rate 0.1] [--json out.json]`: a fleet
 * of virtual handsets backing up and restoring concurrently against one Rewind server, run
 * as a child process (scripts/server-process.ts) so its memory is measured alone.
 *
 * The handsets live in this process. They are provisioned the way `rewind device add` and
 * `rewind sim` do it, in the server's database; Package #0 reaches them through the
 * operator-gateway path (PUSH_WEBHOOK_URL points at a small gateway here). For `--minutes`
 * each handset repeats, after a pause: a backup ordered server-side (a job, then Package #0,
 * as `rewind backup` does), the user's backup button (a device-initiated backup), or now and
 * then a restore of its settings from one of its snapshots (plan, safety backup, consent,
 * writes read back, as `rewind restore` does). A share of sessions (`--fault-rate`) loses its
 * connection at a random message; a handset whose session failed comes back by itself a
 * moment later, as a phone whose radio returns does. Then the run drains: no new work, and
 * every job is given time to reach its end.
 *
 * Every figure comes from the database and blob store once the server has stopped:
 *   completed  jobs that succeeded and whose result holds (below);
 *   failed     jobs that ended failed, rejected or cancelled — "injected" when one of the
 *              handset's sessions lost its connection to an injected fault while the job
 *              was open, otherwise not (a real failure);
 *   lost       a job still queued or running after the drain; work this run started that
 *              never got a job (a backup request the server never took); a succeeded backup
 *              whose snapshot is gone without retention having removed it, is not complete,
 *              or does not verify (lib/backup/verify.ts: the manifest and every value
 *              re-hashed); a succeeded restore with an item not read back as written; any
 *              complete snapshot that does not verify.
 * Sessions that failed without an injected fault (an HTTP 500, a timeout) are reported apart,
 * with the server's own error log; their handsets come back and the jobs go on. The exit
 * code is 1 when anything was lost, a job failed without an injected fault, or the server died.
 *
 * Latency is per DM round trip, measured at the handsets' transport (request written to
 * reply read). Server RSS comes from /proc/<pid>/status every second.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import type { AppContext } from '../lib/core/context';
import type { VirtualHandset, SessionSummary } from '../sim/handset';
import type { FaultyTransport } from '../sim/faults';
import type { Transport } from '../sim/transport';
import type { JobRow } from '../db/queries/jobs';
import { sampleRss, startServerProcess, type RssSample } from './server-process';
import { Rng } from '../sim/random';

export interface SoakOptions {
  devices: number;
  minutes: number;
  /** Share of sessions that lose their connection at a random message (default 0.1). */
  faultRate?: number;
  seed?: number;
  /** Mean pause between a handset's operations, seconds (default 5). */
  thinkS?: number;
  /** Share of operations that are restores (default 0.15) and the user's backup button (default 0.35). */
  restoreShare?: number;
  buttonShare?: number;
  /** How long the run may take to finish after --minutes, seconds (default 120). */
  drainS?: number;
  /** A handset waiting for work it was promised connects by itself after this long, seconds (default 60). */
  stallS?: number;
  /** Live progress line every this many seconds (default 10); 0 for none. */
  progressS?: number;
  /** Media size factor of the virtual handsets (default 0.01: about 40 KB of ringtones and images). */
  mediaScale?: number;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** Keep the data directory (database, blobs, handset state) and print where it is. */
  keep?: boolean;
}

export interface SoakReport {
  options: Required<Omit<SoakOptions, 'log' | 'keep'>>;
  wallS: number;
  /** Time spent on new work (the rest was the drain). */
  activeS: number;
  drainS: number;
  jobs: {
    total: number;
    completed: number;
    failed: { total: number; injected: number; notInjected: number };
    lost: number;
    byKind: Record<string, Record<string, number>>;
    /** The first non-injected failures and losses, with reasons. */
    notInjectedFailures: string[];
    lostDetails: string[];
  };
  operations: { started: number; finished: number; byKind: Record<string, number>; restoresNotPlanned: number };
  sessions: {
    total: number; ok: number; failedInjected: number; failedNotInjected: number;
    errorsNotInjected: Record<string, number>; errorSamples: string[]; faultsInjected: number; reconnects: number; stalls: number; pushes: number;
  };
  snapshots: { complete: number; verified: number; verifyFailed: number; prunedByRetention: number };
  /** Per DM round trip at the handsets; `handsetLoopDelayP99` is how late the handsets' own event loop ran, which that includes. */
  latencyMs: { roundTrips: number; p50: number; p99: number; max: number; handsetLoopDelayP99: number };
  /** Complete snapshots whose backup job did not succeed, and jobs with more than one (the first 20). */
  anomalies: string[];
  anomalyCount: number;
  serverRss: { startMB: number; maxMB: number; endMB: number; perMinute: Array<{ minute: number; maxMB: number; endMB: number }>; sparkline: string };
  throughput: { jobsCompletedPerMin: number; roundTripsPerS: number };
  serverExit: string | null;
  /** The server's own error log entries (the first 20). */
  serverErrors: string[];
  /** Writes from this process (job and plan rows, as the CLI makes them) retried because the server held the database. */
  busyRetries: number;
  ok: boolean;
}

type OpKind = 'ordered-backup' | 'button-backup' | 'restore';
const END = new Set(['succeeded', 'failed', 'rejected', 'cancelled']);
const MB = 1024 * 1024;

interface Handset {
  h: VirtualHandset;
  deviceId: string;
  faults: FaultyTransport;
  /** When each injected fault hit (ms since epoch). */
  injectedAt: number[];
  logSeen: number;
  inSession: boolean;
  newSession: boolean;
  lastFailed: boolean;
  failuresInRow: number;
  lastActivity: number;
  /** What the handset's loop is waiting on, for a run that does not end. */
  phase: string;
  rng: () => number;
}

function percentile(sorted: Float64Array | number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The handsets' own deterministic stream (mulberry32), as a function. */
function rngOf(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

/** Growable list of latencies without boxing a million numbers. */
class Samples {
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

const SPARK = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const per = Math.max(1, Math.ceil(values.length / width));
  const cols: number[] = [];
  for (let i = 0; i < values.length; i += per) cols.push(Math.max(...values.slice(i, i + per)));
  const lo = Math.min(...cols);
  const hi = Math.max(...cols);
  return cols.map((v) => SPARK[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (SPARK.length - 1))]).join('');
}

function rssReport(samples: readonly RssSample[]): SoakReport['serverRss'] {
  const mb = (b: number) => Math.round((b / MB) * 10) / 10;
  const perMinute: SoakReport['serverRss']['perMinute'] = [];
  for (const s of samples) {
    const minute = Math.floor(s.atMs / 60_000);
    const row = perMinute[minute] ?? (perMinute[minute] = { minute, maxMB: 0, endMB: 0 });
    row.maxMB = Math.max(row.maxMB, mb(s.rss));
    row.endMB = mb(s.rss);
  }
  return {
    startMB: mb(samples[0]?.rss ?? 0),
    maxMB: mb(samples.reduce((a, s) => Math.max(a, s.rss), 0)),
    endMB: mb(samples[samples.length - 1]?.rss ?? 0),
    perMinute: perMinute.filter(Boolean),
    sparkline: sparkline(samples.map((s) => s.rss)),
  };
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const o: SoakReport['options'] = {
    devices: opts.devices, minutes: opts.minutes, faultRate: opts.faultRate ?? 0.1, seed: opts.seed ?? 1,
    thinkS: opts.thinkS ?? 5, restoreShare: opts.restoreShare ?? 0.15, buttonShare: opts.buttonShare ?? 0.35,
    drainS: opts.drainS ?? 120, stallS: opts.stallS ?? 60, progressS: opts.progressS ?? 10, mediaScale: opts.mediaScale ?? 0.01,
  };
  if (!(Number.isInteger(o.devices) && o.devices > 0)) throw new RangeError('devices must be a positive integer');
  if (!(o.minutes > 0)) throw new RangeError('minutes must be positive');
  if (!(o.faultRate >= 0 && o.faultRate <= 1)) throw new RangeError('fault rate must be between 0 and 1');
  const say = opts.log ?? ((l: string) => console.log(l));

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-soak-'));
  const dataDir = path.join(root, 'data');
  const stateDir = path.join(root, 'handsets');
  // This process reads and writes the server's database as the CLI does; its own log stays quiet.
  process.env.LOG_LEVEL = 'silent';
  process.env.DATA_DIR = dataDir;
  const { resetEnvCache } = await import('../lib/core/env');
  const { createBlobStore, createPush, setContext } = await import('../lib/core/context');
  const { closeDb, openDatabase } = await import('../db/client');
  const { dbErrorCode } = await import('../db/sql');
  const { env } = await import('../lib/core/env');
  const { openFleet } = await import('../sim/fleet');
  const { withFaults } = await import('../sim/faults');
  const { httpTransport } = await import('../sim/transport');
  const { describeVirtualModels, provisionInput } = await import('../sim/provision');
  const { provisionDevice } = await import('../lib/devices/devices');
  const { createBackupJob } = await import('../lib/backup/jobs');
  const { createPlan, PlanError } = await import('../lib/restore/plan');
  const { executePlan } = await import('../lib/restore/engine');
  const { verifyAll } = await import('../lib/backup/verify');
  const { getJob, jobsForDevice } = await import('../db/queries/jobs');
  const { getSnapshot } = await import('../db/queries/snapshots');
  const { completeSnapshots } = await import('../db/queries/retention');
  const { listItems } = await import('../db/queries/restore');
  const { listAudit } = await import('../db/queries/audit');
  const { getDevice, getDeviceByDevId } = await import('../db/queries/devices');

  const handsets = new Map<string, Handset>();
  let pushes = 0;
  // The operator's push gateway, as the server sees it: Package #0 for a DevId goes to that handset.
  const gateway = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const devId = new URL(req.url ?? '/', 'http://gateway').searchParams.get('devId') ?? '';
      const s = handsets.get(devId);
      if (req.method !== 'POST' || !s) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(202).end();
      pushes++;
      s.lastActivity = Date.now();
      void s.h.onNotification(new Uint8Array(Buffer.concat(chunks))).catch(() => undefined);
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', () => resolve()));
  const gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}/push`;

  const closeGateway = () => new Promise<void>((resolve) => { gateway.closeAllConnections(); gateway.close(() => resolve()); });
  let server: Awaited<ReturnType<typeof startServerProcess>>;
  try {
    // Every handset comes from an address of its own, as on a radio network, rather than all
    // from loopback: the front trusts the X-Forwarded-For they send (below), so the limits on
    // failed authentication apply per handset as they would in the field.
    server = await startServerProcess({ dataDir, pushWebhookUrl: gatewayUrl, env: { TRUST_PROXY: '1' } });
  } catch (e) {
    await closeGateway();
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const rss = sampleRss(server.pid, 1000);
  let serverExit: string | null = null;
  let stopping = false;
  server.child.once('exit', (code, signal) => {
    if (!stopping) serverExit ??= `the server exited during the run (${signal ?? `code ${code}`}): ${server.stderrTail().slice(-600)}`;
  });
  // The server applied the migrations before it printed its address. This process then opens
  // the same database (DATABASE_URL, else the data directory's) and data directory as the CLI
  // does (blob store and its keys).
  resetEnvCache();
  setContext(undefined);
  let ctx: AppContext;
  try {
    const e = env();
    const opened = openDatabase(e);
    ctx = { db: opened, env: e, push: createPush(e), blobs: createBlobStore(e, opened) };
    setContext(ctx);
  } catch (e) {
    await server.stop();
    await closeGateway();
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const db = ctx.db;
  let stopped = false;

  try {
    // ---- The fleet, provisioned in the server's database.
    const latencies = new Samples();
    let roundTrips = 0;
    const sessionStats = { total: 0, ok: 0, failedInjected: 0, failedNotInjected: 0, errorsNotInjected: {} as Record<string, number>, errorSamples: [] as string[], faultsInjected: 0, reconnects: 0, stalls: 0 };
    const timed: Transport = async (req) => {
      const t = performance.now();
      const reply = await httpTransport(req);
      if (req.method === 'POST') {
        latencies.push(performance.now() - t);
        roundTrips++;
      }
      return reply;
    };
    const created = openFleet({ server: server.dmUrl, devices: o.devices, stateDir, seed: o.seed, encoding: 'mixed', auth: 'md5', mediaScale: o.mediaScale });
    await describeVirtualModels(db);
    await db.transaction(async (tx) => {
      for (const h of created) {
        const input = provisionInput({ ...h.identity, nonces: { ...h.state.nonces } });
        await provisionDevice(tx, { ...input, pushAddress: `tel:+${input.msisdn}` });
      }
    });
    for (const [i, h] of created.entries()) {
      const faults = withFaults(timed);
      const s: Handset = {
        h, deviceId: '', faults, injectedAt: [], logSeen: 0, inSession: false, newSession: true, lastFailed: false, failuresInRow: 0, phase: 'start',
        lastActivity: Date.now(), rng: rngOf(o.seed * 7919 + i),
      };
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      // Each session draws once whether it loses its connection, and at which message.
      h.transport = (req) => {
        req = { ...req, headers: { ...req.headers, 'x-forwarded-for': address } };
        if (req.method === 'POST' && s.newSession) {
          s.newSession = false;
          s.inSession = true;
          faults.reset();
          if (s.rng() < o.faultRate) faults.set({ rules: [{ kind: s.rng() < 0.5 ? 'drop-request' : 'drop-reply', at: 1 + Math.floor(s.rng() * 8) }] });
          else faults.clear();
        }
        return faults(req);
      };
      h.onSession((summary: SessionSummary) => onSession(s, summary));
      handsets.set(h.devId, s);
    }
    for (const s of handsets.values()) {
      const row = await getDeviceByDevId(db, s.h.devId);
      if (!row) throw new Error(`${s.h.devId} was not provisioned`);
      s.deviceId = row.id;
    }

    function onSession(s: Handset, summary: SessionSummary): void {
      const injected = s.faults.log.slice(s.logSeen).filter((e) => e.kind !== 'slow').length;
      s.logSeen = s.faults.log.length;
      s.inSession = false;
      s.newSession = true;
      s.lastActivity = Date.now();
      sessionStats.total++;
      if (injected) {
        s.injectedAt.push(Date.now());
        sessionStats.faultsInjected += injected;
      }
      if (summary.ok) sessionStats.ok++;
      else if (injected) sessionStats.failedInjected++;
      else {
        sessionStats.failedNotInjected++;
        const k = summary.error?.kind ?? 'unknown';
        sessionStats.errorsNotInjected[k] = (sessionStats.errorsNotInjected[k] ?? 0) + 1;
        const msg = `${k}: ${summary.error?.message ?? ''}`;
        if (sessionStats.errorSamples.length < 10 && !sessionStats.errorSamples.includes(msg)) sessionStats.errorSamples.push(msg);
      }
      s.lastFailed = !summary.ok;
      s.failuresInRow = summary.ok ? 0 : s.failuresInRow + 1;
    }

    // The handsets' own process: a busy event loop here shows up as latency there.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    // ---- The work.
    const started = Date.now();
    const stopAt = started + o.minutes * 60_000;
    const hardStop = stopAt + o.drainS * 1000;
    const ops = { started: 0, finished: 0, byKind: {} as Record<string, number>, restoresNotPlanned: 0 };
    const unfinished: string[] = [];
    let jobsEnded = 0;
    let busyRetries = 0;

    /**
     * Waits until `done()`, keeping the handset connected the way a phone is: a failed
     * session is followed by one of its own a moment later; a handset left waiting for
     * work it was promised (a Package #0 that never came) checks in after stallS.
     */
    async function settle(s: Handset, done: () => boolean | Promise<boolean>): Promise<boolean> {
      s.phase = 'waiting for its jobs';
      let reconnectAt = 0;
      for (;;) {
        if (await done()) return true;
        if (Date.now() >= hardStop || stopped) return false;
        const now = Date.now();
        if (!s.inSession && s.lastFailed) {
          // Like a phone: back a moment later, and longer after each failure in a row.
          if (reconnectAt === 0) reconnectAt = now + Math.min(60_000, 1000 * 2 ** Math.min(6, s.failuresInRow - 1)) * (0.5 + s.rng());
          else if (now >= reconnectAt) {
            reconnectAt = 0;
            s.lastFailed = false;
            sessionStats.reconnects++;
            void s.h.connect({ initiator: 'client' });
          }
        } else if (!s.inSession && now - s.lastActivity > o.stallS * 1000) {
          sessionStats.stalls++;
          s.lastActivity = now;
          void s.h.connect({ initiator: 'client' });
        }
        await sleep(400 + Math.floor(s.rng() * 400));
      }
    }
    /**
     * A write made outside the server, as the CLI makes it, while the server writes too: on
     * SQLite it can be refused with SQLITE_BUSY when the file stays locked past busy_timeout.
     * Such a write is tried again, and counted.
     */
    async function retryBusy<T>(fn: () => T | Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return await fn();
        } catch (e) {
          if (attempt >= 10 || !(dbErrorCode(e) ?? '').startsWith('SQLITE_BUSY')) throw e;
          busyRetries++;
          await sleep(50 * attempt);
        }
      }
    }
    const ended = async (ids: readonly string[]) => {
      for (const id of ids) if (!END.has((await getJob(db, id))?.status ?? '')) return false;
      return true;
    };
    const device = async (s: Handset) => {
      const row = await getDevice(db, s.deviceId);
      if (!row) throw new Error(`device ${s.h.devId} is gone`);
      return row;
    };

    const count = (kind: OpKind) => {
      ops.started++;
      ops.byKind[kind] = (ops.byKind[kind] ?? 0) + 1;
    };
    async function operation(s: Handset, kind: OpKind): Promise<void> {
      const t0 = Date.now();
      s.lastActivity = t0;
      let ids: string[] = [];
      let ok: boolean;
      if (kind === 'restore') {
        const snaps = await completeSnapshots(db, s.deviceId);
        const snap = snaps[Math.floor(s.rng() * snaps.length)];
        let planned: { job: JobRow; backup: JobRow } | undefined;
        if (snap) {
          s.phase = 'planning a restore';
          s.h.damage('settings');
          try {
            const { row } = await retryBusy(() => createPlan(ctx, { snapshotId: snap.id, categories: ['settings'] }, 'soak'));
            planned = await retryBusy(() => executePlan(ctx, row.id, 'soak'));
          } catch (e) {
            // Retention may have removed the snapshot since it was listed: not the server's fault.
            if (!(e instanceof PlanError)) throw e;
          }
        }
        if (!planned) {
          ops.restoresNotPlanned++;
          return operation(s, 'ordered-backup');
        }
        count(kind);
        ids = [planned.backup.id, planned.job.id];
        ok = await settle(s, () => ended(ids));
      } else if (kind === 'ordered-backup') {
        count(kind);
        const { job } = await retryBusy(async () => createBackupJob(db, await device(s), { trigger: 'on-demand', actor: 'soak', wake: true }));
        ids = [job.id];
        ok = await settle(s, () => ended(ids));
      } else {
        count(kind);
        void s.h.pressBackupButton();
        // The request rides in the handset's session; the job is the server's answer to it.
        ok = await settle(s, async () => {
          if (s.h.state.pendingAlerts.length > 0 || s.inSession) return false;
          ids = (await jobsForDevice(db, s.deviceId, undefined, 50)).filter((j) => j.kind === 'backup' && j.updatedAt >= t0).map((j) => j.id);
          return ids.length > 0 && (await ended(ids));
        });
      }
      if (ok) {
        ops.finished++;
        jobsEnded += ids.length;
      } else if (ids.length === 0) {
        // A job left open is counted from the database below; work that never got one is lost here.
        unfinished.push(`${kind} of ${s.h.devId} started at +${Math.round((t0 - started) / 1000)} s never got a job`);
      }
    }

    async function life(s: Handset, i: number): Promise<void> {
      // Spread the first operations over the first tenth of the run (at most 30 s).
      await sleep(Math.floor((Math.min(30_000, (o.minutes * 60_000) / 10) * i) / o.devices));
      while (Date.now() < stopAt && !stopped) {
        const r = s.rng();
        const kind: OpKind = r < o.restoreShare ? 'restore' : r < o.restoreShare + o.buttonShare ? 'button-backup' : 'ordered-backup';
        await operation(s, kind);
        s.phase = 'pausing';
        // The pause never outlasts the run.
        await sleep(Math.max(0, Math.min(Math.floor(s.rng() * 2 * o.thinkS * 1000), stopAt - Date.now())));
      }
      // The drain: whatever the server still has for this handset gets to finish.
      s.phase = 'draining';
      await settle(s, async () => s.h.state.pendingAlerts.length === 0 && !s.inSession && (await jobsForDevice(db, s.deviceId, ['queued', 'running'], 1)).length === 0);
    }

    // ---- Progress.
    let lastLine = { at: started, roundTrips: 0, lat: 0 };
    const progress = o.progressS > 0 ? setInterval(() => {
      const now = Date.now();
      const window = latencies.sorted(lastLine.lat);
      const rate = (roundTrips - lastLine.roundTrips) / ((now - lastLine.at) / 1000);
      say(`+${String(Math.round((now - started) / 1000)).padStart(4)} s  ops ${ops.finished}/${ops.started}  jobs ended ${jobsEnded}  sessions ${sessionStats.total} (${sessionStats.failedInjected} injected, ${sessionStats.failedNotInjected} other failures)  ` +
        `${Math.round(rate)} rt/s  p50 ${percentile(window, 0.5).toFixed(0)} ms p99 ${percentile(window, 0.99).toFixed(0)} ms  server RSS ${(rss.latest() / MB).toFixed(0)} MB${now > stopAt ? '  (draining)' : ''}`);
      lastLine = { at: now, roundTrips, lat: latencies.length };
    }, o.progressS * 1000) : undefined;
    progress?.unref();

    say(`soak: ${o.devices} handsets for ${o.minutes} min against ${server.dmUrl} (server pid ${server.pid}), fault rate ${o.faultRate}`);
    const alive = new Set<Handset>();
    const lives = [...handsets.values()].map((s, i) => {
      alive.add(s);
      return life(s, i).catch((e: unknown) => {
        unfinished.push(`${s.h.devId} stopped: ${(e as Error).stack ?? String(e)}`);
      }).finally(() => alive.delete(s));
    });
    const watchdog = new Promise<void>((resolve) => server.child.once('exit', () => { stopped = true; resolve(); }));
    await Promise.race([Promise.all(lives), watchdog]);
    stopped = true;
    // Every loop ends by hardStop; one that has not 30 s later is stuck, and is reported as such.
    await Promise.race([Promise.all(lives), sleep(Math.max(0, hardStop + 30_000 - Date.now()), undefined, { ref: false })]);
    for (const s of alive) unfinished.push(`${s.h.devId} was still ${s.phase} when the run ended`);
    if (progress) clearInterval(progress);
    const drainEnd = Date.now();
    await Promise.race([Promise.all([...handsets.values()].map((s) => s.h.idle())), sleep(15_000, undefined, { ref: false })]);
    rss.stop();
    stopping = true;
    await server.stop();

    // ---- The accounting, from the database and the blob store.
    const byKind: SoakReport['jobs']['byKind'] = {};
    const notInjectedFailures: string[] = [];
    const lostDetails: string[] = [];
    let total = 0;
    let completed = 0;
    let failedInjected = 0;
    let failedNot = 0;
    let pruned = 0;
    const verification = await verifyAll(db, ctx.blobs);
    const badSnapshots = new Set(verification.results.filter((r) => !r.ok).map((r) => r.snapshotId));
    for (const r of verification.results.filter((x) => !x.ok)) lostDetails.push(`snapshot ${r.snapshotId} does not verify: manifest ${r.manifest}, ${r.missing.length} missing, ${r.damaged.length} damaged`);
    for (const s of handsets.values()) {
      const removed = new Set<string>();
      for (const a of await listAudit(db, { deviceId: s.deviceId, action: 'snapshots.pruned' }, 100_000)) {
        // Each removal is { id, reason } (older rows: the id alone).
        for (const r of (JSON.parse(a.details ?? '{}') as { removed?: Array<string | { id: string }> }).removed ?? []) removed.add(typeof r === 'string' ? r : r.id);
      }
      for (const job of await jobsForDevice(db, s.deviceId, undefined, 100_000)) {
        total++;
        const k = (byKind[job.kind] ??= {});
        k[job.status] = (k[job.status] ?? 0) + 1;
        const what = `${job.kind} job ${job.id} of ${s.h.devId}`;
        if (!END.has(job.status)) {
          lostDetails.push(`${what} still ${job.status} after the drain${job.error ? ` (${job.error})` : ''}`);
          continue;
        }
        if (job.status !== 'succeeded') {
          const injected = s.injectedAt.some((t) => t >= job.createdAt - 1000 && t <= job.updatedAt + 1000);
          if (injected) failedInjected++;
          else {
            failedNot++;
            notInjectedFailures.push(`${what} ${job.status}: ${job.error ?? 'no reason given'}`);
          }
          continue;
        }
        let lost: string | undefined;
        if (job.kind === 'backup') {
          const snapshotId = (JSON.parse(job.result ?? '{}') as { snapshotId?: string }).snapshotId;
          const snap = snapshotId ? await getSnapshot(db, snapshotId) : undefined;
          if (!snapshotId) lost = 'succeeded without a snapshot';
          else if (!snap) {
            if (removed.has(snapshotId)) pruned++;
            else lost = `its snapshot ${snapshotId} is gone and retention did not remove it`;
          } else if (snap.status !== 'complete') lost = `its snapshot ${snapshotId} is ${snap.status}`;
          else if (badSnapshots.has(snapshotId)) lost = `its snapshot ${snapshotId} does not verify`;
        } else if (job.kind === 'restore') {
          const bad = (await listItems(db, job.id)).filter((i) => i.status !== 'verified' && i.status !== 'skipped');
          if (bad.length) lost = `${bad.length} item(s) not read back as written (${bad.slice(0, 3).map((i) => `${i.path} ${i.status}`).join(', ')})`;
        }
        if (lost) lostDetails.push(`${what}: ${lost}`);
        else completed++;
      }
    }
    for (const u of unfinished) lostDetails.push(u);
    // A complete snapshot belongs to a backup that succeeded; one that does not is reported.
    // and a backup is one snapshot: a job with two complete ones ran twice to its end.
    const anomalies: string[] = [];
    const perJob = new Map<string, string[]>();
    for (const r of verification.results) {
      const jobId = (await getSnapshot(db, r.snapshotId))?.jobId;
      if (!jobId) continue;
      perJob.set(jobId, [...(perJob.get(jobId) ?? []), r.snapshotId]);
      const job = await getJob(db, jobId);
      if (job?.status !== 'succeeded') anomalies.push(`snapshot ${r.snapshotId} is complete but its job ${jobId} is ${job?.status ?? 'gone'}`);
    }
    for (const [jobId, ids] of perJob) if (ids.length > 1) anomalies.push(`backup job ${jobId} has ${ids.length} complete snapshots (${ids.join(', ')})`);
    const lostCount = lostDetails.length;

    const wallS = (Date.now() - started) / 1000;
    const activeS = (Math.min(stopAt, drainEnd) - started) / 1000;
    const sorted = latencies.sorted();
    const report: SoakReport = {
      options: o,
      wallS: Math.round(wallS),
      activeS: Math.round(activeS),
      drainS: Math.round((drainEnd - Math.min(stopAt, drainEnd)) / 1000),
      jobs: {
        total, completed, failed: { total: failedInjected + failedNot, injected: failedInjected, notInjected: failedNot }, lost: lostCount, byKind,
        notInjectedFailures: notInjectedFailures.slice(0, 20), lostDetails: lostDetails.slice(0, 20),
      },
      operations: ops,
      sessions: { ...sessionStats, pushes },
      snapshots: { complete: verification.snapshots, verified: verification.snapshots - verification.failed, verifyFailed: verification.failed, prunedByRetention: pruned },
      latencyMs: {
        roundTrips: sorted.length,
        p50: Math.round(percentile(sorted, 0.5) * 10) / 10,
        p99: Math.round(percentile(sorted, 0.99) * 10) / 10,
        max: Math.round(sorted[sorted.length - 1] ?? 0),
        handsetLoopDelayP99: Math.round(loopDelay.percentile(99) / 1e6),
      },
      anomalies: anomalies.slice(0, 20),
      anomalyCount: anomalies.length,
      serverRss: rssReport(rss.samples),
      throughput: {
        jobsCompletedPerMin: Math.round((completed / (wallS / 60)) * 10) / 10,
        roundTripsPerS: Math.round(roundTrips / ((drainEnd - started) / 1000)),
      },
      serverExit,
      serverErrors: server.errors().slice(0, 20),
      busyRetries,
      ok: false,
    };
    // The goal is about work: nothing lost, no job failed but by an injected fault. A session
    // that failed otherwise (an HTTP 500, a timeout) is reported beside it, with the server's
    // errors; its handset came back and its job went on.
    report.ok = !serverExit && lostCount === 0 && failedNot === 0;
    return report;
  } finally {
    stopped = true;
    stopping = true;
    rss.stop();
    await server.stop();
    await closeGateway();
    await closeDb(db);
    setContext(undefined);
    if (opts.keep) say(`data kept in ${root}`);
    else fs.rmSync(root, { recursive: true, force: true });
  }
}

export function formatReport(r: SoakReport): string {
  const j = r.jobs;
  const kinds = Object.entries(j.byKind).map(([k, v]) => `${k} ${Object.entries(v).map(([s, n]) => `${n} ${s}`).join(', ')}`).join('; ');
  const lines = [
    `soak: ${r.options.devices} handsets, ${r.options.minutes} min (+${r.drainS} s drain), fault rate ${r.options.faultRate}, ${r.wallS} s in all`,
    `jobs        ${j.total}: ${j.completed} completed, ${j.failed.total} failed (${j.failed.injected} with an injected fault, ${j.failed.notInjected} without), ${j.lost} lost`,
    `            ${kinds}`,
    `operations  ${r.operations.finished} of ${r.operations.started} finished (${Object.entries(r.operations.byKind).map(([k, n]) => `${n} ${k}`).join(', ')}); ${r.operations.restoresNotPlanned} restores became backups (no snapshot yet)`,
    `sessions    ${r.sessions.total}: ${r.sessions.ok} ok, ${r.sessions.failedInjected} failed by ${r.sessions.faultsInjected} injected faults, ${r.sessions.failedNotInjected} failed otherwise${Object.keys(r.sessions.errorsNotInjected).length ? ` (${JSON.stringify(r.sessions.errorsNotInjected)})` : ''}; ${r.sessions.pushes} Package #0, ${r.sessions.reconnects} reconnects after a failure, ${r.sessions.stalls} check-ins after ${r.options.stallS} s of waiting`,
    `snapshots   ${r.snapshots.complete} complete, ${r.snapshots.verified} verified, ${r.snapshots.verifyFailed} damaged; ${r.snapshots.prunedByRetention} succeeded backups' snapshots removed by retention`,
    `latency     DM round trip p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms over ${r.latencyMs.roundTrips} round trips (the handsets' event loop ran up to ${r.latencyMs.handsetLoopDelayP99} ms late, p99)`,
    `throughput  ${r.throughput.jobsCompletedPerMin} jobs completed/min, ${r.throughput.roundTripsPerS} round trips/s`,
    `server RSS  start ${r.serverRss.startMB} MB, max ${r.serverRss.maxMB} MB, end ${r.serverRss.endMB} MB  ${r.serverRss.sparkline}`,
    ...r.serverRss.perMinute.map((m) => `            minute ${String(m.minute + 1).padStart(2)}: max ${m.maxMB} MB, end ${m.endMB} MB`),
  ];
  for (const e of r.sessions.errorSamples) lines.push(`SESSION     failed without an injected fault: ${e}`);
  if (r.busyRetries) lines.push(`busy        ${r.busyRetries} job or plan writes from outside the server retried after "database is locked"`);
  if (r.serverExit) lines.push(`SERVER      ${r.serverExit}`);
  for (const e of r.serverErrors) lines.push(`SERVER LOG  ${e}`);
  for (const f of j.notInjectedFailures) lines.push(`FAILED      ${f}`);
  for (const l of j.lostDetails) lines.push(`LOST        ${l}`);
  if (r.anomalyCount) lines.push(`anomalies   ${r.anomalyCount} (the first ${r.anomalies.length} below)`);
  for (const a of r.anomalies) lines.push(`ANOMALY     ${a}`);
  const warn = r.sessions.failedNotInjected ? ` (but ${r.sessions.failedNotInjected} session(s) failed without an injected fault; their handsets came back and their jobs went on)` : '';
  lines.push(r.ok ? `result      ok: nothing lost, no job failed without an injected fault${warn}` : 'result      NOT OK: lost work, or jobs that failed without an injected fault');
  return lines.join('\n');
}

const USAGE = 'usage: npm run soak -- --devices N --minutes M [--fault-rate F] [--json out.json] [--seed S] [--think S] [--drain S] [--keep]';

async function main(): Promise<number> {
  let v;
  try {
    v = parseArgs({
      options: {
        devices: { type: 'string' }, minutes: { type: 'string' }, 'fault-rate': { type: 'string' }, json: { type: 'string' },
        seed: { type: 'string' }, think: { type: 'string' }, drain: { type: 'string' }, keep: { type: 'boolean' }, help: { type: 'boolean' },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (v.help) {
    console.log(USAGE);
    return 0;
  }
  const num = (name: string, raw: string | undefined, dflt: number | undefined, ok: (n: number) => boolean): number | undefined => {
    if (raw === undefined) return dflt;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new RangeError(`--${name}: ${JSON.stringify(raw)} is not valid`);
    return n;
  };
  let opts: SoakOptions;
  try {
    const thinkS = num('think', v.think, undefined, (n) => n >= 0);
    const drainS = num('drain', v.drain, undefined, (n) => n >= 0);
    const seed = num('seed', v.seed, undefined, Number.isInteger);
    opts = {
      devices: num('devices', v.devices, 100, (n) => Number.isInteger(n) && n > 0 && n <= 100_000)!,
      minutes: num('minutes', v.minutes, 1, (n) => n > 0 && n <= 24 * 60)!,
      faultRate: num('fault-rate', v['fault-rate'], 0.1, (n) => n >= 0 && n <= 1)!,
      ...(thinkS !== undefined ? { thinkS } : {}),
      ...(drainS !== undefined ? { drainS } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(v.keep ? { keep: true } : {}),
    };
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const report = await runSoak(opts);
  console.log(`\n${formatReport(report)}`);
  if (v.json) fs.writeFileSync(v.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Ctrl-C: exit through 'exit', which stops the server process too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  main().then((code) => process.exit(code), (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
