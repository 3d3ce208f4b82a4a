/**
 * Bulk actions over a test database: the dry run's count and skips, the walk in pages that a
 * second process resumes from the cursor after the first stopped, progress counted from the
 * jobs' outcomes, cancelling, a policy assigned to a selection, and the wake budget's wait.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getBulk } from '@/db/queries/bulk';
import { getDevice, updateDevice, type DeviceRow } from '@/db/queries/devices';
import { insertJob, updateJob } from '@/db/queries/jobs';
import { insertPolicy } from '@/db/queries/policies';
import { rows } from '@/db/sql';
import { sql } from 'drizzle-orm';
import { env } from '../core/env';
import { provisionDevice } from '../devices/devices';
import { setWakeBudget } from '../jobs/wake-budget';
import { testDb } from '../../test/support/db';
import { groupDeviceIds } from '@/db/queries/groups';
import { createGroup, groupNamed, importGroup } from '../groups/groups';
import { cancelBulk, orderBulk, previewBulk } from './bulk';
import { bulkProgressById } from './views';
import { runBulkPass } from './worker';

const DAY = 86_400_000;
const ADMIN = 'admin@rewind.test';

let dir: string;
let db: Db;
const e = { ...env(), WAKE_BUDGET_PER_MINUTE: 600 };
/** The handsets the test's filter must take: N1s with no backup for 7 days (never, or 10 days ago). */
let stale: DeviceRow[];

let serial = 0;
async function handset(model: string, lastGoodBackupAt: number | null): Promise<DeviceRow> {
  const n = serial++;
  const d = await provisionDevice(db, {
    devId: `IMEI:49015420323${String(n).padStart(4, '0')}`,
    manufacturer: 'Nimbus',
    model,
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: `u${n}`,
    clientPass: 'p',
    serverPass: 's',
  });
  await updateDevice(db, d.id, { lastGoodBackupAt, pushAddress: `tel:+44770090${String(n).padStart(4, '0')}` });
  return (await getDevice(db, d.id))!;
}

async function bulkJobs(bulkId: string) {
  return rows<{ id: string; device_id: string; status: string; kind: string }>(
    db,
    sql`select id, device_id, status, kind from jobs where bulk_id = ${bulkId} order by device_id`,
  );
}

const FILTER = { model: 'N1', noBackupForDays: 7 };

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bulk-'));
  db = await testDb(dir);
  const now = Date.now();
  stale = [];
  for (let i = 0; i < 7; i++) stale.push(await handset('N1', i % 2 ? null : now - 10 * DAY));
  // Not in the filter: backed up lately, or another model.
  await handset('N1', now - DAY);
  await handset('N1', now - 2 * DAY);
  await handset('N2', null);
  await handset('N2', now - 30 * DAY);
});

afterEach(async () => {
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a bulk backup of a filter', () => {
  it('counts first, skipping handsets with a backup pending, then walks in pages and resumes after a stop', async () => {
    // One of them has a backup queued already: the order joins it rather than adding one.
    const pending = await insertJob(db, {
      deviceId: stale[3]!.id,
      kind: 'backup',
      payload: { trigger: 'scheduled', categories: ['settings'], actor: 'scheduler' },
    });
    const preview = await previewBulk(db, { action: 'backup', filter: FILTER });
    expect(preview).toMatchObject({ total: 7, skipped: 1, acting: 6 });
    expect(preview.summary).toBe(
      'Back up now: 7 handsets; 1 handset will be skipped (a backup was already queued or running).',
    );

    const op = await orderBulk({ db }, ADMIN, { action: 'backup', filter: FILTER });
    expect(op).toMatchObject({ status: 'queued', total: 7, done: 0 });
    expect((await listAudit(db, { action: 'bulk.ordered' }))[0]).toMatchObject({ actor: ADMIN });

    // Process A works one page of 3 and stops (its slice is over; then it is gone).
    expect(await runBulkPass(db, 'A', { pageSize: 3, sliceMs: 0 })).toBe(1);
    let row = (await getBulk(db, op.id))!;
    expect(row.status).toBe('running');
    expect(row.done + row.skipped).toBe(3);
    expect(row.cursor).toBe([...stale].sort((a, b) => a.id.localeCompare(b.id))[2]!.id);
    // While A's lease holds, B leaves the operation alone.
    expect(await runBulkPass(db, 'B', { pageSize: 3 })).toBe(0);
    // A's lease lapses; B resumes from the cursor.
    expect(await runBulkPass(db, 'B', { pageSize: 3, now: () => Date.now() + 61_000 })).toBe(2);
    row = (await getBulk(db, op.id))!;
    expect(row).toMatchObject({ status: 'complete', done: 6, skipped: 1 });
    expect(row.finishedAt).not.toBeNull();

    // One job per stale handset but the one already pending, none elsewhere, none twice.
    const jobs = await bulkJobs(op.id);
    expect(jobs.map((j) => j.device_id).sort()).toEqual(
      stale
        .filter((d) => d.id !== stale[3]!.id)
        .map((d) => d.id)
        .sort(),
    );
    expect(jobs.every((j) => j.kind === 'backup' && j.status === 'queued')).toBe(true);
    const all = await rows<{ n: number | string }>(db, sql`select count(*) as n from jobs where kind = 'backup'`);
    expect(Number(all[0]!.n)).toBe(7); // six queued by the order and the one it found
    expect((await getBulk(db, op.id))!.error).toBe('Skipped where a backup was already queued or running.');
    expect(jobs.some((j) => j.id === pending.id)).toBe(false);

    // Progress: the jobs' outcomes by the operation's id.
    await updateJob(db, jobs[0]!.id, { status: 'succeeded' });
    await updateJob(db, jobs[1]!.id, { status: 'succeeded' });
    await updateJob(db, jobs[2]!.id, { status: 'failed', error: 'the handset dropped' });
    await updateJob(db, jobs[3]!.id, { status: 'running' });
    let p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({
      status: 'complete',
      handled: 7,
      done: 6,
      skipped: 1,
      jobs: { succeeded: 2, failed: 1, running: 1, waiting: 2, cancelled: 0 },
      finished: false,
      percent: Math.floor((4 * 100) / 7),
      noLongerMatched: 0,
    });
    expect(p.summary).toBe(
      'Back up now: 7 handsets worked through; 2 succeeded, 1 failed, 3 still waiting; 1 skipped: a backup was already queued or running.',
    );
    for (const j of jobs.slice(3)) await updateJob(db, j.id, { status: 'succeeded' });
    p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({ finished: true, percent: 100, jobs: { succeeded: 5, failed: 1 } });
    expect(p.summary.startsWith('Done. ')).toBe(true);
  });

  it('says when the wake budget holds the jobs back', async () => {
    await setWakeBudget(db, 2, ADMIN);
    const op = await orderBulk({ db }, ADMIN, { action: 'backup', filter: FILTER });
    await runBulkPass(db, 'A');
    const p = await bulkProgressById({ db, env: e }, op.id);
    expect(p.wakeBudgetPerMinute).toBe(2);
    expect(p.waiting).toBe('7 waiting for the wake budget (2 per minute): the last go out in about 3 minutes.');
  });

  it('cancels: the walk stops and its queued jobs are cancelled; cancelling again is refused', async () => {
    const op = await orderBulk({ db }, ADMIN, { action: 'backup', filter: FILTER });
    await runBulkPass(db, 'A', { pageSize: 4, sliceMs: 0 });
    const [running] = await bulkJobs(op.id);
    await updateJob(db, running!.id, { status: 'running' });
    const cancelled = await cancelBulk(db, op.id, ADMIN);
    expect(cancelled).toMatchObject({ status: 'cancelled', done: 4 });
    const jobs = await bulkJobs(op.id);
    expect(jobs.filter((j) => j.status === 'cancelled')).toHaveLength(3);
    expect(jobs.find((j) => j.id === running!.id)!.status).toBe('running'); // a running backup finishes
    // The worker does not take it up again.
    expect(await runBulkPass(db, 'B', { now: () => Date.now() + 61_000 })).toBe(0);
    expect(await bulkJobs(op.id)).toHaveLength(4);
    await expect(cancelBulk(db, op.id, ADMIN)).rejects.toMatchObject({ kind: 'conflict' });
    expect((await listAudit(db, { action: 'bulk.cancelled' }))[0]).toMatchObject({ actor: ADMIN });
    const p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({
      status: 'cancelled',
      jobs: { cancelled: 3, running: 1 },
      finished: false,
      waiting: null,
    });
    expect(p.summary.startsWith('Cancelled. ')).toBe(true);
  });

  it('refuses an order nothing matches, and counts a handset backed up meanwhile as no longer matching', async () => {
    await expect(orderBulk({ db }, ADMIN, { action: 'backup', filter: { model: 'K7' } })).rejects.toMatchObject({
      kind: 'invalid',
    });
    const op = await orderBulk({ db }, ADMIN, { action: 'backup', filter: FILTER });
    await updateDevice(db, stale[0]!.id, { lastGoodBackupAt: Date.now() });
    await runBulkPass(db, 'A');
    const p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({ status: 'complete', total: 7, handled: 6, noLongerMatched: 1 });
  });
});

describe('a policy assigned to a selection', () => {
  it('sets each handset’s own policy, by id or DevId, skipping those that have it, audited per handset', async () => {
    const policy = await insertPolicy(db, {
      name: 'Nightly',
      categories: '["settings"]',
      intervalMinutes: 1440,
      jitterMinutes: 0,
      retention: '{}',
    });
    await updateDevice(db, stale[2]!.id, { policyId: policy.id });
    const deviceIds = [stale[0]!.id, stale[1]!.devId, stale[2]!.id];
    const preview = await previewBulk(db, { action: 'assign-policy', deviceIds, params: { policyId: policy.id } });
    expect(preview).toMatchObject({ total: 3, skipped: 1, acting: 2 });
    await expect(
      orderBulk({ db }, ADMIN, { action: 'assign-policy', deviceIds, params: { policyId: 'nope' } }),
    ).rejects.toMatchObject({ kind: 'invalid' });
    const op = await orderBulk({ db }, ADMIN, { action: 'assign-policy', deviceIds, params: { policyId: policy.id } });
    await runBulkPass(db, 'A');
    for (const d of stale.slice(0, 3)) expect((await getDevice(db, d.id))!.policyId).toBe(policy.id);
    expect((await getDevice(db, stale[3]!.id))!.policyId).toBeNull();
    const p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({ status: 'complete', done: 2, skipped: 1, finished: true, percent: 100 });
    expect(p.summary).toBe(
      'Done. Assign a policy: 3 handsets worked through; 2 changed; 1 skipped: the policy was already theirs.',
    );
    const audits = await listAudit(db, { action: 'device.policy-set' });
    expect(audits.map((a) => a.deviceId).sort()).toEqual([stale[0]!.id, stale[1]!.id].sort());
    expect(await bulkJobs(op.id)).toHaveLength(0);
  });
});

describe('handsets added to a static group', () => {
  it('adds every handset of the filter a page at a time, skipping members, and refuses a rule group', async () => {
    await importGroup(db, { name: 'field', csv: `devId\n${stale[0]!.devId}\n` }, ADMIN);
    await createGroup(db, { kind: 'rule', name: 'n2s', rule: { model: 'N2' } }, ADMIN);
    const order = { action: 'assign-group' as const, filter: FILTER, params: { group: 'field' } };
    expect(await previewBulk(db, order)).toMatchObject({ total: 7, skipped: 1, acting: 6 });
    await expect(orderBulk({ db }, ADMIN, { ...order, params: { group: 'n2s' } })).rejects.toMatchObject({
      kind: 'invalid',
    });
    await expect(orderBulk({ db }, ADMIN, { ...order, params: { group: 'nobody' } })).rejects.toMatchObject({
      kind: 'invalid',
    });
    const op = await orderBulk({ db }, ADMIN, order);
    await runBulkPass(db, 'A', { pageSize: 3 });
    const members = await groupDeviceIds(db, await groupNamed(db, 'field'), Date.now());
    expect(members.sort()).toEqual(stale.map((d) => d.id).sort());
    const p = await bulkProgressById({ db, env: e }, op.id);
    expect(p).toMatchObject({ status: 'complete', done: 6, skipped: 1, finished: true });
    expect(p.summary).toContain('1 skipped: they were already in the group');
    // One entry per page, under the admin who ordered it.
    expect((await listAudit(db, { action: 'group.members-added' })).length).toBe(3);
  });
});
