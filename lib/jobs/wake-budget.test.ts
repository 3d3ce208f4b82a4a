/**
 * The wake budget: Package #0 go out at most N per minute, all server processes together,
 * and what the budget holds back waits, still pending, for the next minutes; nothing is lost.
 * The clock is the dispatcher's `now`; the push gateway is a recorder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, openPgDb, type Db } from '@/db/client';
import { updateDevice } from '@/db/queries/devices';
import { getJob, insertJob } from '@/db/queries/jobs';
import { listAudit } from '@/db/queries/audit';
import { wakesSentIn, minuteOf } from '@/db/queries/wake-minutes';
import { FileBlobStore } from '../backup/blob-store';
import type { AppContext } from '../core/context';
import { env } from '../core/env';
import { provisionDevice } from '../devices/devices';
import { RoutingPush, type PushTarget } from '../omadm/push';
import { databaseEnv, testDb, testingPg } from '../../test/support/db';
import { dispatchWakes } from './wake-dispatcher';
import { budgetWait, setWakeBudget, wakeBudgetPerMinute, wakeBudgetView } from './wake-budget';
import { wakeAttemptsOf } from './wakes';
import { liveJob } from './live';

const MIN = 60_000;
/** The start of a minute, so `+ k * MIN` stays in minute k. */
const T0 = Math.floor(Date.UTC(2026, 11, 7, 9, 0) / MIN) * MIN;

let dir: string;
let db: Db;
let others: Db[] = [];
const sent: string[] = [];

function contextOn(d: Db, budget: number): AppContext {
  // Retries far off, so each job's one first wake is what the test counts.
  const e = { ...env(), DATA_DIR: dir, dataDir: dir, WAKE_BUDGET_PER_MINUTE: budget, WAKE_RETRY_AFTER: 86_400 };
  const gateway = {
    push: async (t: PushTarget) => {
      await new Promise((r) => setTimeout(r, 1)); // a gateway answers later, letting another process in
      sent.push(t.address);
    },
  };
  return { db: d, env: e, push: new RoutingPush({ gateway }), blobs: new FileBlobStore(path.join(dir, 'blobs')) };
}

/**
 * Another server process's connection to the same database: a pool of its own on PostgreSQL.
 * On SQLite the same connection (a second one in this process would wait on the first's lock
 * synchronously, blocking the very flow that holds it); its transactions begin immediate, as
 * another process's would.
 */
function secondConnection(): Db {
  if (!testingPg()) return db;
  const d = openPgDb(databaseEnv(db).DATABASE_URL!, { max: 4 });
  others.push(d);
  return d;
}

async function queueJobs(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const d = await provisionDevice(db, {
      devId: `IMEI:35693803560${String(i).padStart(4, '0')}`,
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'p',
      serverPass: 's',
    });
    await updateDevice(db, d.id, { pushAddress: `tel:+4477009${String(i).padStart(5, '0')}` });
    const job = await insertJob(db, {
      deviceId: d.id,
      kind: 'dm-commands',
      payload: { work: [{ id: 'get', kind: 'get', paths: ['./DevInfo/Man'] }] },
      wakePending: true,
    });
    ids.push(job.id);
  }
  return ids;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-wake-budget-'));
  db = await testDb(dir);
  sent.length = 0;
  others = [];
});

afterEach(async () => {
  for (const d of others) await closeDb(d);
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the wake budget', () => {
  it('sends 10 of 50 wakes in the first minute at 10 per minute, the rest in the next minutes, none lost', async () => {
    const ctx = contextOn(db, 10);
    const jobs = await queueJobs(50);

    expect(await dispatchWakes(ctx, T0)).toBe(10);
    // Later in the same minute: nothing more.
    expect(await dispatchWakes(ctx, T0 + 20_000)).toBe(0);
    expect(await dispatchWakes(ctx, T0 + 59_999)).toBe(0);
    expect(sent).toHaveLength(10);
    expect(await wakesSentIn(db, minuteOf(T0))).toBe(10);
    // The first ten are the oldest jobs; the others are still pending, with no attempt.
    const first = await Promise.all(jobs.map((id) => getJob(db, id)));
    expect(first.slice(0, 10).every((j) => wakeAttemptsOf(j!).length === 1)).toBe(true);
    expect(first.slice(10).every((j) => j!.wakePending && wakeAttemptsOf(j!).length === 0)).toBe(true);
    // The progress says why they wait.
    const view = await wakeBudgetView(db, ctx.env, T0 + 30_000);
    expect(budgetWait(40, view)).toBe(
      '40 waiting for the wake budget (10 per minute): the last go out in about 4 minutes.',
    );

    for (let m = 1; m < 5; m++) {
      expect(await dispatchWakes(ctx, T0 + m * MIN)).toBe(10);
      expect(await dispatchWakes(ctx, T0 + m * MIN + 30_000)).toBe(0);
    }
    expect(await dispatchWakes(ctx, T0 + 5 * MIN)).toBe(0);
    // Every handset woken exactly once.
    expect(new Set(sent).size).toBe(50);
    expect(sent).toHaveLength(50);
    for (const id of jobs) expect(wakeAttemptsOf((await getJob(db, id))!)).toHaveLength(1);
  });

  it('holds for two server processes sharing the database, sending at once', async () => {
    const a = contextOn(db, 10);
    const b = contextOn(secondConnection(), 10);
    await queueJobs(30);
    for (let m = 0; m < 3; m++) {
      const before = sent.length;
      // Both processes pass several times within the minute, together.
      for (let k = 0; k < 3; k++)
        await Promise.all([dispatchWakes(a, T0 + m * MIN + k * 1000), dispatchWakes(b, T0 + m * MIN + k * 1000)]);
      expect(sent.length - before).toBe(10);
      expect(await wakesSentIn(db, minuteOf(T0 + m * MIN))).toBe(10);
    }
    expect(new Set(sent).size).toBe(30);
  });

  it('shows a job held back by the budget as waiting for it on its live page', async () => {
    await setWakeBudget(db, 2, 'admin@rewind.test');
    const ctx = contextOn(db, 600);
    const jobs = await queueJobs(3);
    const now = Date.now();
    expect(await dispatchWakes(ctx, now)).toBe(2);
    const held = (await liveJob(db, (await getJob(db, jobs[2]!))!, now)).waiting;
    expect(held).toBe('Waiting for the wake budget (2 per minute): its Package #0 goes out in a later minute.');
    // One already woken waits for its handset, as before.
    expect((await liveJob(db, (await getJob(db, jobs[0]!))!, now)).waiting).not.toMatch(/wake budget/);
  });

  it('sends everything due at once when the budget is 0 (no limit)', async () => {
    const ctx = contextOn(db, 0);
    await queueJobs(25);
    expect(await dispatchWakes(ctx, T0)).toBe(25);
    expect(await wakesSentIn(db, minuteOf(T0))).toBe(0);
  });

  it('is the admin’s setting once there is one, audited, and the environment’s default before', async () => {
    const ctx = contextOn(db, 600);
    expect(await wakeBudgetPerMinute(db, ctx.env)).toBe(600);
    await setWakeBudget(db, 3, 'admin@rewind.test');
    expect(await wakeBudgetPerMinute(db, ctx.env)).toBe(3);
    expect((await wakeBudgetView(db, ctx.env)).fromSetting).toBe(true);
    const [entry] = await listAudit(db, { action: 'settings.wake-budget' });
    expect(entry).toMatchObject({ actor: 'admin@rewind.test' });
    expect(JSON.parse(entry!.details!)).toEqual({ wakeBudgetPerMinute: 3, before: null });
    await queueJobs(5);
    expect(await dispatchWakes(ctx, T0)).toBe(3);
    await expect(setWakeBudget(db, -1, 'admin@rewind.test')).rejects.toThrow();
  });
});
