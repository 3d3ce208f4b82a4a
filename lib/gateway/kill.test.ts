/**
 * The server killed with SIGKILL in the middle of a backup and of a restore (a child
 * process: no shutdown handler runs, a message is cut wherever it is, blob writes and
 * database transactions included), then started again on the same data directory.
 * After each kill the database passes its integrity check (SQLite's file), every complete snapshot
 * verifies, no incomplete one can be restored, the blob store holds only whole values
 * under their hashes, and the handset's next session resumes the job to the same result
 * an uninterrupted run gives.
 *
 * CI size: a few kill points spread over each session. REWIND_FAULTS_FULL=1 kills at
 * every message of both.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, sqliteClient, type Db } from '@/db/client';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob, jobsForDevice, type JobRow } from '@/db/queries/jobs';
import { listItems } from '@/db/queries/restore';
import { getSnapshot } from '@/db/queries/snapshots';
import { policies, snapshots } from '@/db/schema';
import { databaseEnv, testDb, testingPg } from '@/test/support/db';
import { createBlobStore, createPush, type AppContext } from '../core/context';
import { env } from '../core/env';
import { sha256Hex } from '../backup/blob-store';
import { createBackupJob } from '../backup/jobs';
import { ensureDefaultPolicy } from '../backup/policy';
import { decodeManifest } from '../backup/manifest';
import { verifyAll } from '../backup/verify';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { httpTransport, type Transport } from '../../sim/transport';
import { describeVirtualModels, provisionFleet } from '../../sim/provision';
import { createPlan, isValueStep, PlanError, type PlanStep } from '../restore/plan';
import { executePlan } from '../restore/engine';
import { spawnChildServer, type ChildServer } from '../../test/support/child-server';

const FULL = process.env.REWIND_FAULTS_FULL === '1';
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-kill-'));
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-kill-handset-'));
/** What the restores put back: the ringtones, the big one (a Large Object) among them. */
const RESTORED = ['./AppData/Ringtones'];

let child: ChildServer | undefined;
let port = 0;
let db: Db;
let ctx: AppContext;
let h: VirtualHandset;

/** One message of a reference session: how long the server took, and what it carried. */
interface Trace {
  ms: number;
  moreData: boolean;
  writes: boolean;
}

beforeAll(async () => {
  // The test's own connection: it provisions, queues jobs and inspects, as the CLI would.
  db = await testDb(dataDir);
  const e = { ...env(), DATA_DIR: dataDir, dataDir };
  // The store the server builds (sealed values, the master key under DATA_DIR), read from here.
  ctx = { db, env: e, push: createPush(e), blobs: createBlobStore(e, db) };
  await start();
  h = openFleet({
    server: child!.dmUrl,
    devices: 1,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.35,
    seed: 41,
    models: ['nimbus-n2'],
  })[0]!;
  await describeVirtualModels(db);
  await provisionFleet(db, [{ ...h.identity, nonces: { ...h.state.nonces } }]);
  // Every backup walks the whole tree (a verification walk), so the kills land in a long walk
  // with Large Objects, as they would on a handset without digests, and not in an unchanged
  // handset's three-message incremental backup.
  await ensureDefaultPolicy(db);
  await db.update(policies).set({ verifyEveryBackups: 1 });
}, 60_000);

afterAll(async () => {
  await child?.kill();
  if (db) await closeDb(db);
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** Starts the server (again) on the data directory and the port the handset knows. */
async function start(): Promise<void> {
  child = await spawnChildServer({ dataDir, port, env: databaseEnv(db) });
  port = child.port;
}

const device = async () => (await getDeviceByDevId(db, h.devId))!;

/** Counts the handset's POSTs and records each one's timing and content. */
function tracing(trace: Trace[]): Transport {
  return async (req) => {
    const t0 = performance.now();
    const reply = await httpTransport(req);
    const sent = new TextDecoder().decode(req.body ?? new Uint8Array(0));
    const got = new TextDecoder().decode(reply.body);
    trace.push({
      ms: performance.now() - t0,
      moreData: sent.includes('<MoreData'),
      writes: /<(Replace|Add|Atomic)>/.test(got),
    });
    return reply;
  };
}

/** When to kill: armed as message `at` goes out, it resolves at the kill point (`reply`: once it came). */
type KillPoint = () => (reply: Promise<unknown>) => Promise<void>;

/** SIGKILLs the server while it handles message `at`, at `point`, or at once if the reply came first. */
function killingAt(at: number, point: KillPoint): Transport & { killed: () => boolean } {
  let n = 0;
  let killed = false;
  const t: Transport = async (req) => {
    if (++n !== at) return httpTransport(req);
    const due = point();
    const inFlight = httpTransport(req);
    const settled = inFlight.then(
      () => undefined,
      () => undefined,
    );
    await Promise.race([due(settled), settled]);
    await child!.kill();
    killed = true;
    return inFlight;
  };
  return Object.assign(t, { killed: () => killed });
}

const after =
  (ms: number): KillPoint =>
  () =>
  () =>
    new Promise<void>((r) => setTimeout(r, ms));

/**
 * What the server has written so far: the database's files (its WAL, on SQLite) and the value
 * store's, as sizes and modification times. On PostgreSQL only the value store's are here.
 */
function written(): string {
  const marks: string[] = [];
  const walk = (dir: string) => {
    // A directory may go while it is read (a cut write's, garbage collection's).
    const entries = fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : [];
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      // SQLite's shared-memory index changes on reads too (this process's among them).
      else if (!e.name.endsWith('-shm')) {
        const st = fs.statSync(p, { throwIfNoEntry: false });
        if (st) marks.push(`${p} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dataDir);
  return marks.sort().join('\n');
}

/**
 * Resolves once the server has written something for the message in flight (a pack append,
 * a blob, a commit): a kill defined by what the server has done, not by how long a message
 * took in an earlier run (a fast server answered before a fixed delay ran out, under load a
 * slow one had not begun). The last thing a message writes follows its values, so a kill here
 * is before a backup's completion.
 */
const serverWrote: KillPoint = () => {
  const before = written();
  return async (reply) => {
    let done = false;
    void reply.then(() => (done = true));
    while (!done && written() === before) await new Promise((r) => setTimeout(r, 1));
  };
};

/** Resolves once the backup has begun: a snapshot more than when the message went out. */
const count = async () => (await db.select({ id: snapshots.id }).from(snapshots)).length;
const backupBegan: KillPoint = () => {
  const before = count();
  return async (reply) => {
    let done = false;
    void reply.then(() => (done = true));
    const n0 = await before;
    while (!done && (await count()) === n0) await new Promise((r) => setTimeout(r, 1));
  };
};

/** Incomplete snapshots a restore was refused for, so the check is known not to be vacuous. */
const refused = new Set<string>();

/** What must hold after any kill, before the server comes back. */
async function expectConsistent(): Promise<void> {
  // A file cut mid-write is SQLite's concern; PostgreSQL has no file of ours to check.
  if (!testingPg()) expect(sqliteClient(db)!.pragma('integrity_check', { simple: true })).toBe('ok');
  const v = await verifyAll(db, ctx.blobs);
  expect(v.ok, JSON.stringify(v.results.filter((r) => !r.ok).slice(0, 2))).toBe(true);
  // Nothing but a complete snapshot can be chosen for a restore, through the real entry point.
  for (const s of (await db.select().from(snapshots)).filter((x) => x.status !== 'complete')) {
    refused.add(s.id);
    const err = await createPlan(ctx, { snapshotId: s.id }, 'test').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, `snapshot ${s.id} (${s.status}) was accepted for a restore`).toBeInstanceOf(PlanError);
    expect((err as PlanError).code).toBe('not-complete');
    expect((err as PlanError).message).toMatch(/only complete snapshots/);
  }
  // Every value in the store is whole: a file under a hash's name holds exactly those bytes.
  // Temporary files of writes cut short are not blobs (list() never yields them).
  for await (const hash of ctx.blobs.list()) expect(sha256Hex((await ctx.blobs.get(hash))!), hash).toBe(hash);
  if (FULL)
    console.log(
      'temporary files left by cut writes:',
      fs.readdirSync(path.join(dataDir, 'blobs')).filter((f) => f.startsWith('.tmp-')).length,
    );
}

async function backupOnce(transport: Transport): Promise<string> {
  const { job } = await createBackupJob(db, await device(), { trigger: 'on-demand', actor: 'test' });
  h.transport = transport;
  await h.connect({ initiator: 'client' });
  await h.idle();
  return job.id;
}

async function rootOf(jobId: string): Promise<string> {
  const job = (await getJob(db, jobId))!;
  expect(job.status, `${job.error}\n${child?.output() ?? ''}`).toBe('succeeded');
  const { snapshotId } = JSON.parse(job.result!) as { snapshotId: string };
  const snap = (await getSnapshot(db, snapshotId))!;
  expect(snap.status).toBe('complete');
  return snap.rootHash!;
}

/** Kill points: every message under REWIND_FAULTS_FULL, else a few spread over the session. */
function points(n: number, picks: number[]): number[] {
  if (FULL) return Array.from({ length: n }, (_, i) => i + 1);
  return [...new Set(picks.filter((k) => k >= 1 && k <= n))].sort((a, b) => a - b);
}

describe('SIGKILL', () => {
  let reference = '';
  let trace: Trace[] = [];

  it(
    'mid-backup: consistent after each kill, and the next session completes the same snapshot',
    async () => {
      const first = await backupOnce(tracing(trace));
      reference = await rootOf(first);
      // The same handset content backed up again gives the same snapshot: the comparison below is fair.
      trace = [];
      expect(await rootOf(await backupOnce(tracing(trace)))).toBe(reference);
      const n = trace.length;
      if (FULL) console.log('backup', n, trace.map((t) => `${t.ms.toFixed(0)}${t.moreData ? 'L' : ''}`).join(' '));
      const lo = trace.findIndex((t) => t.moreData) + 1; // the first message carrying a Large Object chunk
      expect(n).toBeGreaterThan(5);
      expect(lo).toBeGreaterThan(0);
      // Early in the walk, in the middle of a Large Object, and on the last values before the manifest.
      const kills = points(n, [2, lo + 1, n - 1]);
      for (const k of kills) {
        // Message 2 answers the inventory and begins the backup: the kill follows the snapshot's
        // creation. Later ones follow the server's first write for the message (its values).
        const kill = killingAt(k, k === 2 ? backupBegan : serverWrote);
        const jobId = await backupOnce(kill);
        expect(kill.killed(), `kill at ${k}`).toBe(true);
        await expectConsistent();
        await start();
        h.transport = httpTransport;
        await h.connect({ initiator: 'client' });
        await h.idle();
        expect(await rootOf(jobId), `kill at message ${k} of ${n}`).toBe(reference);
        await expectConsistent();
      }
      expect(refused.size).toBeGreaterThanOrEqual(kills.length - 1);
    },
    FULL ? 900_000 : 120_000,
  );

  it(
    'mid-restore: consistent after each kill, and the next session completes the restore',
    async () => {
      const snap = (await getSnapshot(
        db,
        (JSON.parse((await latestBackup()).result!) as { snapshotId: string }).snapshotId,
      ))!;
      const restore = async (transport: Transport) => {
        h.damage('appdata');
        const { row, plan } = await createPlan(
          ctx,
          { snapshotId: snap.id, categories: ['appdata'], paths: RESTORED },
          'test',
        );
        const { job } = await executePlan(ctx, row.id, 'test');
        h.transport = transport;
        await h.connect({ initiator: 'client' });
        await h.idle();
        return { jobId: job.id, steps: plan.steps };
      };
      const rtrace: Trace[] = [];
      const ref = await restore(tracing(rtrace));
      await expectRestored(ref.jobId, ref.steps, snap.rootHash!);
      const n = rtrace.length;
      if (FULL) console.log('restore', n, rtrace.map((t) => `${t.ms.toFixed(0)}${t.writes ? 'W' : ''}`).join(' '));
      const writes = rtrace.map((t, i) => (t.writes ? i + 1 : 0)).filter(Boolean);
      expect(writes.length).toBeGreaterThan(0);
      // In the safety backup, in the middle of the writes (Large Objects among them), and at the read-back.
      const kills = points(n, [2, writes[Math.floor(writes.length / 2)]!, n]);
      for (const k of kills) {
        const kill = killingAt(k, after(Math.max(1, Math.floor(rtrace[k - 1]!.ms / 2))));
        const { jobId, steps } = await restore(kill);
        expect(kill.killed(), `kill at ${k}`).toBe(true);
        await expectConsistent();
        await start();
        h.transport = httpTransport;
        for (let i = 0; i < 3 && (await getJob(db, jobId))!.status !== 'succeeded'; i++) {
          await h.connect({ initiator: 'client' });
          await h.idle();
        }
        await expectRestored(jobId, steps, snap.rootHash!, `kill at message ${k} of ${n}`);
        await expectConsistent();
      }
    },
    FULL ? 1_800_000 : 120_000,
  );
});

async function latestBackup(): Promise<JobRow> {
  return (await jobsForDevice(db, (await device()).id, ['succeeded'])).find((j) => j.kind === 'backup')!;
}

/** The job succeeded, the handset holds the snapshot's values, and no item is verified that was not read back so. */
async function expectRestored(jobId: string, steps: PlanStep[], rootHash: string, label = ''): Promise<void> {
  const job = (await getJob(db, jobId))!;
  const items = await listItems(db, jobId);
  expect(
    job.status,
    `${label} ${job.error} ${JSON.stringify(items.filter((i) => i.status !== 'verified').slice(0, 3))}\n${child?.output() ?? ''}`,
  ).toBe('succeeded');
  const bySeq = new Map(steps.map((s) => [s.seq, s]));
  for (const i of items) {
    // unchanged: the safety backup found it already as in the backup, so it was not sent.
    expect(['verified', 'unchanged'], `${label} ${i.path}`).toContain(i.status);
    const s = bySeq.get(i.seq)!;
    if (i.status === 'verified' && isValueStep(s)) {
      expect(i.detail, `${label} ${i.path}`).toBe('read back: identical');
      expect(sha256Hex(h.tree.read(i.path)!), `${label} ${i.path}`).toBe(s.hash);
    }
  }
  const m = decodeManifest((await ctx.blobs.get(rootHash))!);
  const want = m.entries.filter((e) => e.hash && RESTORED.some((r) => e.path.startsWith(`${r}/`)));
  expect(want.length).toBeGreaterThan(0);
  for (const e of want) expect(sha256Hex(h.tree.read(e.path) ?? new Uint8Array(0)), `${label} ${e.path}`).toBe(e.hash);
}
