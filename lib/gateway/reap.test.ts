/**
 * Two server processes over one database and blob store (a DATA_DIR on SQLite; PostgreSQL and
 * a bucket in the PostgreSQL pass). The handset's backup goes to process A, which is killed
 * with SIGKILL at a point of the session, the start of the backup among them. Process B sees
 * A's heartbeat stop: within PROCESS_HEARTBEAT_TIMEOUT it ends A's sessions with the reason
 * "the server handling it stopped" and queues their jobs again; every incomplete snapshot
 * then has a reason, and the job finishes on B when the handset comes back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { dmSessions, snapshots } from '@/db/schema';
import { databaseEnv, testDb, testingPg } from '@/test/support/db';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { spawnChildServer, type ChildServer } from '@/test/support/child-server';
import { createBackupJob } from '../backup/jobs';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { httpTransport, type Transport } from '../../sim/transport';
import { describeVirtualModels, provisionFleet } from '../../sim/provision';
import { STOPPED } from './heartbeat';

const TIMEOUT_S = 2;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-reap-'));
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-reap-handset-'));
let db: Db;
let s3: LocalS3 | undefined;
let serverEnv: Record<string, string>;
let b: ChildServer;
let a: ChildServer | undefined;
let h: VirtualHandset;
let changes = 0;

beforeAll(async () => {
  db = await testDb(dataDir);
  if (testingPg()) s3 = await startLocalS3();
  serverEnv = { ...databaseEnv(db), ...s3?.env, PROCESS_HEARTBEAT_TIMEOUT: String(TIMEOUT_S) };
  b = await spawnChildServer({ dataDir, env: serverEnv });
  h = openFleet({
    server: b.dmUrl,
    devices: 1,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.05,
    seed: 77,
    models: ['nimbus-n2'],
  })[0]!;
  await describeVirtualModels(db);
  await provisionFleet(db, [{ ...h.identity, nonces: { ...h.state.nonces } }]);
}, 120_000);

afterAll(async () => {
  await a?.kill();
  await b?.stop();
  if (db) await closeDb(db);
  await s3?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(stateDir, { recursive: true, force: true });
});

/** Every message to `server`, whatever URL the handset holds. */
function to(server: () => ChildServer): Transport {
  return (req) => {
    const u = new URL(req.url);
    u.port = String(server().port);
    return httpTransport({ ...req, url: u.toString() });
  };
}

/** To A; A is SIGKILLed `delayMs` after message `at` went out, while it works on it. */
function killingAt(at: number, delayMs: number): Transport {
  let n = 0;
  const send = to(() => a!);
  return async (req) => {
    if (++n !== at) return send(req);
    const inFlight = send(req);
    inFlight.catch(() => undefined);
    await new Promise((r) => setTimeout(r, delayMs));
    await a!.kill();
    return inFlight;
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// Message 2 answers the inventory: the backup starts while the server works on it.
for (const [at, delayMs] of [
  [2, 0],
  [2, 15],
  [2, 40],
  [3, 10],
] as const) {
  it(`A killed ${delayMs} ms into message ${at}: B ends its session within the timeout, every incomplete snapshot has a reason, the job finishes on B`, async () => {
    a = await spawnChildServer({ dataDir, env: serverEnv });
    const device = (await getDeviceByDevId(db, h.devId))!;
    // A setting changed since the last backup: the backup is still under way at messages 2 and
    // 3 (an unchanged handset's ends with message 2, its digests having come with the inventory).
    h.tree.set('./Settings/Display/Brightness', String(1000 + ++changes), { format: 'int' });
    const { job } = await createBackupJob(db, device, { trigger: 'on-demand', actor: 'test' });
    h.transport = killingAt(at, delayMs);
    const cut = await h.connect({ initiator: 'client' });
    await h.idle();
    expect(cut.ok, 'the session was cut by the kill').toBe(false);
    const killedAt = Date.now();

    // Nothing of A's is left active once its heartbeat has lapsed (timeout, then B's next look).
    const left = await until(
      "A's sessions ended",
      async () => {
        const active = (await db.select().from(dmSessions)).filter((s) => s.status === 'active');
        return active.length ? undefined : (await db.select().from(dmSessions)).filter((s) => s.error === STOPPED);
      },
      (TIMEOUT_S * 2 + 10) * 1000,
    );
    expect(Date.now() - killedAt).toBeLessThan((TIMEOUT_S * 2 + 10) * 1000);
    // The session A held was ended by B; a job it had started is queued again with the reason.
    expect(left.filter((s) => s.deviceId === device.id && s.updatedAt >= killedAt)).toHaveLength(1);
    const now = (await getJob(db, job.id))!;
    if (now.attempts > 0) expect([now.status, now.error]).toEqual(['queued', STOPPED]);
    // After any kill, no snapshot is left incomplete without a reason.
    for (const s of (await db.select().from(snapshots)).filter((x) => x.status === 'incomplete'))
      expect(s.error, `snapshot ${s.id}`).toBeTruthy();

    // The handset comes back, to B: the job finishes there.
    h.transport = to(() => b);
    const again = await h.connect({ initiator: 'client' });
    await h.idle();
    expect(again.ok, JSON.stringify(again) + b.output()).toBe(true);
    const done = (await getJob(db, job.id))!;
    expect(done.status, `${done.error}\n${b.output()}`).toBe('succeeded');
  }, 120_000);
}
