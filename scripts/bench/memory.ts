/**
 * Server memory with 1,000 DM sessions open at the same time (goal: under 500 MB).
 *
 * The server runs as a child process (scripts/server-process.ts), so its RSS, read from
 * /proc/<pid>/status every 250 ms, is its alone. Every handset has a backup queued and opens
 * a session; each is held after its second message has been answered — the server has
 * authenticated it, read its inventory and started its backup, so the session is open with
 * work outstanding — until all of them are there at once. RSS is read idle, with the
 * handsets provisioned, while every session is held open, and at its peak over the whole
 * run. Then all of them are let go at once (a thousand messages at the server together, the
 * worst case: the peak is usually here) and must all complete with their backups; their
 * message timeout is long enough for the last in the queue.
 *
 *   npx tsx scripts/bench/memory.ts [sessions]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { Transport } from '../../sim/transport';
import { sampleRss, startServerProcess } from '../server-process';
import { formatRows, type Row } from './codec';

/** The handset's message before which it waits: two have been answered by then. */
const HOLD_BEFORE = 3;
const MB = 1024 * 1024;

export async function benchMemory(opts: { sessions?: number; holdMs?: number } = {}): Promise<Row[]> {
  const n = opts.sessions ?? 1000;
  const holdMs = opts.holdMs ?? 3000;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-memory-'));
  const dataDir = path.join(root, 'data');
  process.env.LOG_LEVEL = 'silent';
  process.env.DATA_DIR = dataDir;
  const { resetEnvCache } = await import('../../lib/core/env');
  const { createBlobStore, createPush, setContext } = await import('../../lib/core/context');
  const { closeDb, openDatabase } = await import('../../db/client');
  const { value } = await import('../../db/sql');
  const { sql } = await import('drizzle-orm');
  const { env } = await import('../../lib/core/env');
  const { openFleet } = await import('../../sim/fleet');
  const { httpTransport } = await import('../../sim/transport');
  const { describeVirtualModels, provisionFleet } = await import('../../sim/provision');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { getDeviceByDevId } = await import('../../db/queries/devices');

  const server = await startServerProcess({ dataDir });
  const rss = sampleRss(server.pid, 250);
  resetEnvCache();
  setContext(undefined);
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    // The server's database (DATABASE_URL, else the data directory's), as the CLI opens it.
    const e = env();
    db = openDatabase(e);
    setContext({ db, env: e, push: createPush(e), blobs: createBlobStore(e, db) });
    await sleep(1000);
    const idle = rss.latest();
    const handsets = openFleet({
      server: server.dmUrl,
      devices: n,
      stateDir: path.join(root, 'handsets'),
      seed: 5150,
      encoding: 'mixed',
      auth: 'md5',
      mediaScale: 0.01,
      // Let go at once, a thousand sessions queue at the server: each message waits its turn.
      handset: { messageTimeoutMs: 600_000, sessionTimeoutMs: 900_000 },
    });
    await describeVirtualModels(db);
    await provisionFleet(
      db,
      handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    );
    for (const h of handsets)
      await createBackupJob(db, (await getDeviceByDevId(db, h.devId))!, { trigger: 'on-demand', actor: 'bench' });
    await sleep(1000);
    const provisioned = rss.latest();

    let held = 0;
    let allHeld!: () => void;
    const everyoneHeld = new Promise<void>((resolve) => {
      allHeld = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    for (const h of handsets) {
      let posts = 0;
      const transport: Transport = async (req) => {
        if (req.method === 'POST' && ++posts === HOLD_BEFORE) {
          if (++held === n) allHeld();
          await released;
        }
        return httpTransport(req);
      };
      h.transport = transport;
    }
    const t0 = Date.now();
    const sessions = handsets.map((h) => h.connect({ initiator: 'client' }));
    let heldAfter = 0;
    void everyoneHeld.then(() => {
      heldAfter = Date.now() - t0;
    });
    const timedOut = Symbol('timeout');
    const first = await Promise.race([everyoneHeld, Promise.all(sessions), sleep(600_000, timedOut, { ref: false })]);
    if (first === timedOut || held < n) {
      release();
      const done = await Promise.all(sessions);
      const bad = done.filter((s) => !s.ok);
      throw new Error(
        `memory bench: only ${held} of ${n} sessions reached message ${HOLD_BEFORE}${bad.length ? `; ${bad.length} failed, e.g. ${bad[0]!.error?.message}` : ''}`,
      );
    }
    // Every session is open on the server now: its state in the database, its work outstanding.
    const active = Number(await value(db, sql`select count(*) as n from dm_sessions where status = 'active'`));
    const heldFrom = rss.samples.length;
    await sleep(holdMs);
    const heldPeak = rss.samples.slice(heldFrom).reduce((a, s) => Math.max(a, s.rss), 0);
    const releasedAt = Date.now();
    release();
    const done = await Promise.all(sessions);
    const drainedIn = Date.now() - releasedAt;
    const failed = done.filter((s) => !s.ok);
    if (failed.length)
      throw new Error(
        `memory bench: ${failed.length} of ${n} sessions failed after being held, e.g. ${failed[0]!.error?.message}`,
      );
    const complete = Number(await value(db, sql`select count(*) as n from snapshots where status = 'complete'`));
    if (complete !== n) throw new Error(`memory bench: ${complete} of ${n} backups completed`);
    rss.stop();
    const peak = rss.max();
    const mb = (b: number) => Math.round(b / MB);
    const secs = (ms: number) => (ms / 1000).toFixed(0);
    return [
      {
        name: `server RSS with ${n.toLocaleString('en')} concurrent DM sessions`,
        value: mb(peak),
        unit: 'MB',
        baseline: `goal < 500 MB; the peak, all ${n} sending at once when let go (their backups done in ${secs(drainedIn)} s); idle ${mb(idle)} MB`,
      },
      {
        name: `server RSS, ${n.toLocaleString('en')} DM sessions open between messages`,
        value: mb(heldPeak),
        unit: 'MB',
        baseline: `${active} sessions active in the database, each with a backup under way; all open ${secs(heldAfter)} s after the first message; ${mb(provisioned)} MB with the handsets provisioned`,
      },
    ];
  } finally {
    rss.stop();
    await server.stop();
    if (db) await closeDb(db);
    setContext(undefined);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sessions = process.argv[2] ? Number(process.argv[2]) : undefined;
  if (sessions !== undefined && !(Number.isInteger(sessions) && sessions > 0)) {
    console.error('usage: npx tsx scripts/bench/memory.ts [sessions]');
    process.exit(2);
  }
  benchMemory(sessions !== undefined ? { sessions } : {}).then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
