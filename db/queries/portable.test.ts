/**
 * The queries written in raw SQL, or whose SQL the two databases could read differently, give
 * the same answers on SQLite and (in the PostgreSQL pass) on PostgreSQL.
 */
import { sql } from 'drizzle-orm';
import { beforeEach, describe, expect, it } from 'vitest';
import { isPg, type Db } from '../client';
import { dmSessionValues, firmwarePackages, jobs, restorePlans } from '../schema';
import { value } from '../sql';
import { testDb } from '../../test/support/db';
import { auditMark, countAuditSince, insertAudit, searchAudit } from './audit';
import { blobKeysFor, blobKeysForMany, insertBlobKeys, lockHashes } from './content-keys';
import { upsertDevice, updateDeviceAfterMessage, getDevice, type DeviceRow } from './devices';
import { listDsAccounts } from './ds-accounts';
import { dsItemHashes, expireDsSessions, insertDsAccount, insertDsItem, insertDsSession } from './ds';
import {
  blockedByFailure,
  claimWakes,
  insertJob,
  runnableJobs,
  runningElsewhere,
  updateJob,
  updateJobInSession,
} from './jobs';
import type { BackupPayload } from '../../lib/jobs/kinds';
import { insertPolicy, previewCandidates, setAssignment } from './policies';
import { addGroupMembers, insertGroup } from './groups';
import { packageHashes, restorePinned, deleteUnheldSnapshots, blobRowsFor, deleteBlobRows } from './retention';
import { scheduleCandidates } from './schedule';
import { countDevices, seedWriter, withoutForeignKeys } from './seed';
import { searchSubscribers } from './search';
import {
  getSessionValue,
  insertSession,
  reapUnauthenticatedSessions,
  syncSessionValues,
  failSession,
  UNAUTHENTICATED_KEEP,
} from './sessions';
import { blobStats, insertSnapshot, recordBlob, stageEntry, stagedEntries, updateSnapshot } from './snapshots';
import {
  backupsPerDay,
  categoryCoverage,
  coverage,
  failureReasons,
  fleetStatus,
  storageTotals,
  storedPerDay,
} from './status';
import { deleteSubscriberData, getSubscriber } from './subscribers';
import { insertUser, recordFailedSignIn } from './users';

const DAY = 86_400_000;
const account = {
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'u',
  clientDerived: 'c',
  serverAuth: 'md5' as const,
  serverDerived: 's',
};

let db: Db;
let ada: DeviceRow;
let bob: DeviceRow;

beforeEach(async () => {
  db = await testDb();
  ada = await upsertDevice(
    db,
    { ...account, devId: 'IMEI:356938035643809', manufacturer: 'Nimbus', model: 'N1' },
    { subscriberName: 'Ada Lovelace', msisdn: '447700900123' },
  );
  bob = await upsertDevice(
    db,
    { ...account, devId: 'IMEI:490154203237518', manufacturer: 'Nimbus', model: 'N2' },
    { subscriberName: 'Bob Babbage' },
  );
  const trial = await insertGroup(db, { name: 'trial', kind: 'static', rule: null });
  await addGroupMembers(db, trial.id, [bob.id]);
});

/** A job's request: these tests are about the rows, not what the job asks for. */
const asked: BackupPayload = { trigger: 'on-demand', categories: ['settings'], actor: 'test' };

describe('status figures', () => {
  it('counts backups per day, failures, coverage, categories and storage', async () => {
    const now = 100 * DAY + 3_600_000;
    const s1 = await insertSnapshot(db, { deviceId: ada.id, trigger: 'manual', categories: ['contacts', 'photos'] });
    await updateSnapshot(db, s1.id, {
      status: 'complete',
      startedAt: now - 1000,
      completedAt: now - 500,
      bytes: 300,
      newBytes: 100,
    });
    const s2 = await insertSnapshot(db, { deviceId: bob.id, trigger: 'schedule', categories: ['contacts'] });
    await updateSnapshot(db, s2.id, {
      status: 'complete',
      startedAt: now - 3 * DAY,
      completedAt: now - 3 * DAY,
      bytes: 50,
      newBytes: 50,
    });
    const job = await insertJob(db, { deviceId: ada.id, kind: 'backup', payload: asked });
    await updateJob(db, job.id, { status: 'failed', error: '  ' });

    expect(await backupsPerDay(db, 0)).toEqual([
      { day: 97 * DAY, status: 'complete', n: 1, bytes: 50, newBytes: 50 },
      { day: 100 * DAY, status: 'complete', n: 1, bytes: 300, newBytes: 100 },
    ]);
    expect(await failureReasons(db, 0)).toEqual([{ kind: 'backup', reason: 'no reason recorded', n: 1 }]);
    expect(await coverage(db, now)).toEqual({ day: 1, week: 1, older: 0, never: 0 });
    expect(await categoryCoverage(db, now)).toEqual([
      { category: 'contacts', devices: 2 },
      { category: 'photos', devices: 1 },
    ]);

    expect(await recordBlob(db, 'h1', 10)).toBe(true);
    expect(await recordBlob(db, 'h1', 10)).toBe(false);
    await recordBlob(db, 'h2', 5);
    expect(await blobStats(db)).toEqual({ count: 2, bytes: 15 });
    expect(await storageTotals(db)).toEqual({ logical: 350, stored: 15, blobs: 2 });
    const per = await storedPerDay(db, 0);
    expect(per.before).toBe(0);
    expect(per.days.map((d) => d.bytes)).toEqual([15]);
    const fleet = await fleetStatus(db);
    expect(fleet).toMatchObject({ devices: 2, snapshotsComplete: 2, stored: { count: 2, bytes: 15 } });
    expect(fleet.recentBackups.map((b) => b.devId)).toEqual([ada.devId, bob.devId]);
  });
});

describe('backups and retention', () => {
  it('stages entries (replacing by path), pins snapshots a restore needs, deletes unheld ones', async () => {
    const s = await insertSnapshot(db, { deviceId: ada.id, trigger: 'manual', categories: [] });
    const entry = {
      snapshotId: s.id,
      path: './A',
      category: 'contacts',
      format: 'chr',
      type: null,
      size: 1,
      hash: 'x',
    };
    await stageEntry(db, entry);
    await stageEntry(db, { ...entry, size: 2, hash: null });
    expect(await stagedEntries(db, s.id)).toEqual([{ ...entry, size: 2, hash: null }]);

    await db.insert(restorePlans).values({
      snapshotId: s.id,
      sourceDeviceId: ada.id,
      targetDeviceId: ada.id,
      plan: '{}',
      planHash: 'p',
      createdBy: 't',
    });
    expect(await restorePinned(db, ada.id)).toEqual(new Set([s.id]));
    expect(await restorePinned(db, bob.id)).toEqual(new Set());

    await db
      .insert(firmwarePackages)
      .values({ manufacturer: 'Nimbus', model: 'N1', version: '2', blobHash: 'fw', size: 1 });
    expect(await packageHashes(db)).toEqual(['fw']);

    await recordBlob(db, 'h1', 1);
    expect((await blobRowsFor(db, ['h1', 'nope'])).map((b) => b.hash)).toEqual(['h1']);
    expect(await deleteBlobRows(db, ['h1', 'nope'])).toBe(1);
    expect(await deleteUnheldSnapshots(db, [s.id])).toBe(1);
  });
});

describe('jobs', () => {
  it('a wake goes to exactly one of several claimants; runnable, blocked and elsewhere jobs', async () => {
    const job = await insertJob(db, { deviceId: ada.id, kind: 'backup', payload: asked, wakePending: true });
    const now = Date.now();
    const claims = await Promise.all([claimWakes(db, now, 5), claimWakes(db, now, 5), claimWakes(db, now, 5)]);
    expect(claims.filter((c) => c.some((j) => j.id === job.id))).toHaveLength(1);

    const dep = await insertJob(db, {
      deviceId: ada.id,
      kind: 'restore',
      payload: { planId: 'plan-1', actor: 'test' },
      dependsOn: job.id,
    });
    expect((await runnableJobs(db, ada.id, Date.now())).map((j) => j.id)).toEqual([job.id]);
    await updateJob(db, job.id, { status: 'running', sessionRef: 'old' });
    expect((await runningElsewhere(db, ada.id, 'new')).map((j) => j.id)).toEqual([job.id]);
    expect(await runningElsewhere(db, ada.id, 'old')).toEqual([]);
    expect(await updateJobInSession(db, job.id, 'new', { progress: 'x' })).toBe(false);
    expect(await updateJobInSession(db, job.id, 'old', { status: 'failed' })).toBe(true);
    expect((await blockedByFailure(db, ada.id)).map((j) => j.id)).toEqual([dep.id]);
  });

  it('claimants taking due wakes together take each job once, oldest first, and leave deferred ones', async () => {
    const now = Date.now();
    const due: string[] = [];
    for (let i = 0; i < 30; i++)
      due.push(
        (
          await insertJob(db, {
            deviceId: i % 2 ? ada.id : bob.id,
            kind: 'backup',
            payload: { ...asked, actor: `test-${i}` },
            wakePending: true,
          })
        ).id,
      );
    await insertJob(db, {
      deviceId: ada.id,
      kind: 'backup',
      payload: asked,
      wakePending: true,
      notBefore: now + 60_000,
    });
    const batches = await Promise.all([
      claimWakes(db, now, 8),
      claimWakes(db, now, 8),
      claimWakes(db, now, 8),
      claimWakes(db, now, 8),
    ]);
    const taken = batches.flat().map((j) => j.id);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken.length).toBe(30);
    for (const b of batches)
      expect(b.map((j) => j.createdAt)).toEqual([...b.map((j) => j.createdAt)].sort((x, y) => x - y));
    expect(await claimWakes(db, now, 8)).toEqual([]);
    expect((await claimWakes(db, now + 120_000, 8)).length).toBe(1);
  });
});

describe('DM sessions', () => {
  it('keeps the newest unauthenticated sessions and drops idle ones; values stored once', async () => {
    const never = JSON.stringify({ authenticated: false });
    const ids: string[] = [];
    for (let i = 0; i < UNAUTHENTICATED_KEEP + 3; i++)
      ids.push((await insertSession(db, { deviceId: ada.id, sessionId: `s${i}`, state: never })).id);
    const authed = await insertSession(db, {
      deviceId: ada.id,
      sessionId: 'ok',
      state: JSON.stringify({ authenticated: true }),
    });
    const count = async () =>
      Number(await value(db, sql`select count(*) from dm_sessions where device_id = ${ada.id}`));
    expect(await count()).toBe(UNAUTHENTICATED_KEEP + 1);
    // All of them idle now: every unauthenticated one but the one kept goes.
    expect(await reapUnauthenticatedSessions(db, ada.id, ids.at(-1)!, Date.now() + 3_600_000)).toBe(
      UNAUTHENTICATED_KEEP - 1,
    );
    expect(await count()).toBe(2);

    await syncSessionValues(
      db,
      authed.id,
      new Map([
        ['a', 'A'],
        ['b', 'B'],
      ]),
    );
    await syncSessionValues(
      db,
      authed.id,
      new Map([
        ['b', 'B'],
        ['c', 'C'],
      ]),
    );
    expect(await getSessionValue(db, authed.id, 'a')).toBeUndefined();
    expect(await getSessionValue(db, authed.id, 'c')).toBe('C');
    await failSession(db, authed.id, 'gone');
    expect(await db.select().from(dmSessionValues)).toEqual([]);
  });

  it('updates only the columns a message gives', async () => {
    await updateDeviceAfterMessage(db, ada.id, { lastSeenAt: 5, encoding: 'wbxml' });
    await updateDeviceAfterMessage(db, ada.id, { clientNonce: 'n' });
    expect(await getDevice(db, ada.id)).toMatchObject({
      lastSeenAt: 5,
      encoding: 'wbxml',
      clientNonce: 'n',
      serverNonce: '',
    });
  });
});

describe('admin lists', () => {
  it('schedule candidates, policy previews, DS accounts (case-insensitive), audit marks', async () => {
    const rows = await scheduleCandidates(db, '', 10);
    expect(rows.map((r) => r.devId).sort()).toEqual([ada.devId, bob.devId].sort());
    expect(rows[0]).toMatchObject({ pendingBackup: 0, lastCompleteAt: null });
    await insertJob(db, { deviceId: bob.id, kind: 'backup', payload: asked });
    expect((await scheduleCandidates(db, '', 10)).find((r) => r.id === bob.id)!.pendingBackup).toBe(1);

    // The policy of a static group (Bob) and of a model (Ada's N1) applies to both.
    const p = await insertPolicy(db, { name: 'P', categories: '[]', intervalMinutes: 60, retention: '{}' });
    await setAssignment(db, 'group', 'trial', p.id);
    await setAssignment(db, 'model', 'Nimbus/N1', p.id);
    const preview = await previewCandidates(db, p.id, 10);
    expect(preview.map((c) => c.devId).sort()).toEqual([ada.devId, bob.devId].sort());

    const a = await insertDsAccount(db, { deviceId: ada.id, username: 'Ada.Phone', derived: 'd', auth: 'md5' });
    expect((await listDsAccounts(db, { q: 'ada.p' })).map((r) => r.id)).toEqual([a.id]);
    expect(await listDsAccounts(db, { q: '%' })).toEqual([]);
    await insertDsItem(db, {
      accountId: a.id,
      store: 'contacts',
      contentType: 'text/vcard',
      hash: 'vh',
      size: 1,
      summary: '',
    } as never);
    expect(await dsItemHashes(db)).toEqual(['vh']);
    await insertDsSession(db, { source: 'x', sessionId: '1', state: '{}', accountId: a.id });
    expect(await expireDsSessions(db, Date.now() + 10_000, 1)).toBe(1);

    const mark = await auditMark(db);
    await insertAudit(db, { actor: 'cli', action: 'x', deviceId: ada.id });
    await insertAudit(db, { actor: 'other', action: 'y' });
    expect(await countAuditSince(db, 'cli', mark)).toBe(1);
    expect(await countAuditSince(db, ['cli', 'other'], mark)).toBe(2);
    expect((await searchAudit(db, { actor: { prefix: 'cl' } }, { limit: 10 })).map((e) => e.devId)).toEqual([
      ada.devId,
    ]);
  });

  it('a failed sign-in is counted and locks nothing (lock-outs are per account and address)', async () => {
    const u = await insertUser(db, { email: 'a@x', passwordHash: 'h', role: 'admin' } as never);
    for (let i = 1; i <= 10; i++)
      expect(await recordFailedSignIn(db, u.id)).toEqual({ failedAttempts: i, lockedUntil: null });
  });

  it("blob keys: the owner's wrap first; many at once, a wrap already there kept", async () => {
    await insertBlobKeys(db, [{ hash: 'h', owner: 'o1', wrapped: 'w1' }]);
    await insertBlobKeys(db, [
      { hash: 'h', owner: 'o2', wrapped: 'w2' },
      { hash: 'g', owner: 'o2', wrapped: 'w3' },
    ]);
    await insertBlobKeys(db, [{ hash: 'h', owner: 'o2', wrapped: 'again' }]);
    expect(await blobKeysFor(db, 'h', 'o2')).toEqual([
      { owner: 'o2', wrapped: 'w2' },
      { owner: 'o1', wrapped: 'w1' },
    ]);
    expect(await blobKeysForMany(db, ['h', 'g', 'none'], 'o2')).toEqual(
      new Map([
        [
          'h',
          [
            { owner: 'o2', wrapped: 'w2' },
            { owner: 'o1', wrapped: 'w1' },
          ],
        ],
        ['g', [{ owner: 'o2', wrapped: 'w3' }]],
      ]),
    );
    // PostgreSQL: the locks of one transaction on many hashes, in one statement.
    if (isPg(db)) await db.transaction((tx) => lockHashes(tx, ['a', 'b', 'a']));
  });
});

describe('seeding and erasure', () => {
  it('seeds handsets searchable at once, and erases a subscriber with everything of theirs', async () => {
    const writer = await seedWriter(db);
    const handset = (i: number) => ({
      devId: `IMEI:35000000000${String(i).padStart(4, '0')}`,
      msisdn: `4477005${String(i).padStart(5, '0')}`,
      manufacturer: 'M',
      model: 'X',
      firmware: '1',
      lastSeenAt: i % 2 ? null : i,
    });
    const batch = Array.from({ length: 130 }, (_, i) => ({
      name: `Seed Person${i}`,
      email: null,
      handsets: [handset(2 * i), handset(2 * i + 1)],
    }));
    await withoutForeignKeys(db, () => writer.write(batch));
    expect(await countDevices(db)).toBe(262);
    expect((await searchSubscribers(db, 'person129')).map((h) => h.name)).toEqual(['Seed Person129']);

    const sub = ada.subscriberId!;
    await insertJob(db, { deviceId: ada.id, kind: 'backup', payload: asked });
    expect(await deleteSubscriberData(db, sub)).toEqual({ devices: 1 });
    expect(await getSubscriber(db, sub)).toBeUndefined();
    expect(await db.select().from(jobs)).toEqual([]);
  });
});
