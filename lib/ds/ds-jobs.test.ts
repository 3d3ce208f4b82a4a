/**
 * Backup and restore through Data Sync ordered through DM, end to end: virtual handsets
 * woken by Package #0 over the real /dm, told to sync by Exec DataSync, running their DS
 * sessions against the real /ds, reporting by Generic Alert; a real SQLite file and blob
 * store underneath.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { dsAccountsOfDevice, dsItemsOf, getDsSnapshot } from '@/db/queries/ds';
import { getJob, jobsForDevice, updateJob } from '@/db/queries/jobs';
import { listAudit } from '@/db/queries/audit';
import { devices } from '@/db/schema';
import { VirtualHandset } from '../../sim/handset';
import { HandsetStore } from '../../sim/store';
import { emptyHandsetDs, userPut, wipeDsStores } from '../../sim/ds-store';
import { TransportError } from '../../sim/transport';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import {
  createDsBackupJob,
  createDsRestoreJob,
  DS_RESULT_WAIT_MS,
  expireDsJobs,
  retryDsJob,
  type DsJobResult,
} from './jobs';
import type { DsStoreName } from './protocol';
import { DsRestoreError } from './restore';
import { diffDsManifests, readDsManifest } from './snapshot';
import { fields } from './vobject';

let srv: TestFleet;
let source: VirtualHandset;
let newPhone: VirtualHandset;
let stranger: VirtualHandset;

beforeAll(async () => {
  srv = await startTestFleet({ devices: 3, seed: 21, mediaScale: 0.01 });
  [source, newPhone, stranger] = srv.handsets as [VirtualHandset, VirtualHandset, VirtualHandset];
  // The subscriber's new handset: theirs, with an empty phonebook and calendar.
  await srv.ctx.db
    .update(devices)
    .set({ subscriberId: (await device(source)).subscriberId })
    .where(eq(devices.id, (await device(newPhone)).id));
  newPhone.state.ds = emptyHandsetDs(newPhone.identity.model);
});

afterAll(async () => {
  await srv?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(srv.ctx.db, h.devId))!;

async function wakeAndWait(h: VirtualHandset): Promise<void> {
  await dispatchWakes(srv.ctx);
  await h.idle();
}

function handsetFieldSets(h: VirtualHandset, store: DsStoreName): string[] {
  return Object.values(h.ds.stores[store].items)
    .map((i) => fields(i.text).join('\n'))
    .sort();
}

async function snapshotFieldSets(snapshotId: string, store: DsStoreName): Promise<string[]> {
  const { entries } = await readDsManifest(srv.ctx.db, srv.ctx.blobs, snapshotId);
  const out: string[] = [];
  for (const e of entries.filter((x) => x.store === store))
    out.push(fields(new TextDecoder().decode((await srv.ctx.blobs.get(e.hash))!)).join('\n'));
  return out.sort();
}

async function resultOf(jobId: string): Promise<DsJobResult & { status: string; error: string | null }> {
  const job = (await getJob(srv.ctx.db, jobId))!;
  return { ...(JSON.parse(job.result ?? '{}') as DsJobResult), status: job.status, error: job.error };
}

describe('DS jobs through DM', () => {
  let first: string;
  let second: string;

  it('a ds-backup creates the DS account, and completes with a DS snapshot equal to the handset’s stores', async () => {
    expect(await dsAccountsOfDevice(srv.ctx.db, (await device(source)).id)).toHaveLength(0);
    const { job, created } = await createDsBackupJob(srv.ctx.db, await device(source), { actor: 'test' });
    expect(created).toBe(true);
    expect(await createDsBackupJob(srv.ctx.db, await device(source), { actor: 'test' })).toMatchObject({
      job: { id: job.id },
      created: false,
    });
    await wakeAndWait(source);
    const r = await resultOf(job.id);
    expect(r.status, r.error ?? '').toBe('succeeded');
    const snap = (await getDsSnapshot(srv.ctx.db, r.snapshotId!))!;
    expect(snap.jobId).toBe(job.id);
    expect(snap.syncType).toBe('slow');
    expect(snap.contacts).toBe(Object.keys(source.ds.stores.contacts.items).length);
    expect(snap.events).toBe(Object.keys(source.ds.stores.calendar.items).length);
    expect(snap.contacts).toBeGreaterThanOrEqual(50);
    for (const store of ['contacts', 'calendar'] as const)
      expect(await snapshotFieldSets(snap.id, store)).toEqual(handsetFieldSets(source, store));
    expect(r.stores!.find((s) => s.store === 'contacts')).toMatchObject({ added: snap.contacts, failed: 0 });
    // The handset keeps the account it was given; the server keeps only the derived secret.
    const [account] = await dsAccountsOfDevice(srv.ctx.db, (await device(source)).id);
    expect(Object.values(source.ds.accounts).map((a) => a.user)).toEqual([account!.username]);
    expect(JSON.stringify(await getJob(srv.ctx.db, job.id))).not.toContain(
      Object.values(source.ds.accounts)[0]!.password,
    );
    expect(JSON.parse(source.tree.text('./Ext/Rewind/BR/Status/LastResult')!)).toMatchObject({
      op: 'DataSync',
      result: 200,
      correlator: job.id,
    });
    first = snap.id;
  });

  it('a second ds-backup after 3 contact edits sends the account by reference and records exactly those 3 changes', async () => {
    const luids = Object.keys(source.ds.stores.contacts.items).slice(3, 6);
    for (const [i, luid] of luids.entries()) {
      userPut(
        source.ds,
        'contacts',
        source.ds.stores.contacts.items[luid]!.text.replace(/^FN:.*$/m, `FN:Renamed ${i}`),
        luid,
      );
    }
    const { job } = await createDsBackupJob(srv.ctx.db, await device(source), { actor: 'test' });
    await wakeAndWait(source);
    const r = await resultOf(job.id);
    expect(r.status, r.error ?? '').toBe('succeeded');
    expect(JSON.parse((await getJob(srv.ctx.db, job.id))!.progress!)).toMatchObject({
      viaRef: true,
      syncType: 'two-way',
    });
    expect(r.stores!.find((s) => s.store === 'contacts')).toMatchObject({
      replaced: 3,
      added: 0,
      deleted: 0,
      failed: 0,
    });
    expect(r.stores!.find((s) => s.store === 'calendar')).toMatchObject({ replaced: 0, added: 0, deleted: 0 });
    const snap = (await getDsSnapshot(srv.ctx.db, r.snapshotId!))!;
    expect(snap.syncType).toBe('two-way');
    const diff = diffDsManifests(
      (await readDsManifest(srv.ctx.db, srv.ctx.blobs, first)).entries,
      (await readDsManifest(srv.ctx.db, srv.ctx.blobs, snap.id)).entries,
    );
    expect(diff.changed.map((c) => c.summary).sort()).toEqual(['Renamed 0', 'Renamed 1', 'Renamed 2']);
    expect(diff.added).toHaveLength(0);
    expect(diff.removed).toHaveLength(0);
    second = snap.id;
    // The phonebook, its anchors and the DS account persist with the handset (ds.json).
    const reloaded = VirtualHandset.load(new HandsetStore(srv.stateDir), source.devId);
    expect(reloaded.ds).toEqual(source.ds);
    expect(reloaded.ds.stores.contacts.anchor).toBeTruthy();
  });

  it('a ds-restore onto the same handset after a factory reset brings its phonebook back', async () => {
    const before = { contacts: handsetFieldSets(source, 'contacts'), calendar: handsetFieldSets(source, 'calendar') };
    wipeDsStores(source.ds);
    const job = await createDsRestoreJob(srv.ctx.db, await device(source), { snapshotId: second, actor: 'test' });
    await wakeAndWait(source);
    const r = await resultOf(job.id);
    expect(r.status, r.error ?? '').toBe('succeeded');
    expect(handsetFieldSets(source, 'contacts')).toEqual(before.contacts);
    expect(handsetFieldSets(source, 'calendar')).toEqual(before.calendar);
  });

  it('a ds-restore onto a new handset of the same subscriber gives it the same contacts and events, field by field', async () => {
    expect(Object.keys(newPhone.ds.stores.contacts.items)).toHaveLength(0);
    const job = await createDsRestoreJob(srv.ctx.db, await device(newPhone), { snapshotId: second, actor: 'test' });
    await wakeAndWait(newPhone);
    const r = await resultOf(job.id);
    expect(r.status, r.error ?? '').toBe('succeeded');
    expect(r.restoredFrom).toBe(second);
    for (const store of ['contacts', 'calendar'] as const) {
      expect(handsetFieldSets(newPhone, store)).toEqual(handsetFieldSets(source, store));
      expect(handsetFieldSets(newPhone, store)).toEqual(await snapshotFieldSets(second, store));
    }
    // Mapped: every server item has the new handset's LUID, and a later backup has nothing to move.
    const [account] = await dsAccountsOfDevice(srv.ctx.db, (await device(newPhone)).id);
    expect((await dsItemsOf(srv.ctx.db, account!.id)).every((i) => i.luid)).toBe(true);
    const { job: backup } = await createDsBackupJob(srv.ctx.db, await device(newPhone), { actor: 'test' });
    await wakeAndWait(newPhone);
    const b = await resultOf(backup.id);
    expect(b.status, b.error ?? '').toBe('succeeded');
    expect(b.stores!.every((s) => s.added + s.replaced + s.deleted === 0)).toBe(true);
    expect((await listAudit(srv.ctx.db, { deviceId: (await device(newPhone)).id })).map((a) => a.action)).toEqual(
      expect.arrayContaining(['ds-restore.requested', 'ds-restore.completed']),
    );
  });

  it('a restore onto another subscriber’s handset is refused, and nothing is queued or loaded', async () => {
    expect((await device(stranger)).subscriberId).not.toBe((await device(source)).subscriberId);
    await expect(
      createDsRestoreJob(srv.ctx.db, await device(stranger), { snapshotId: second, actor: 'test' }),
    ).rejects.toThrow(DsRestoreError);
    await expect(
      createDsRestoreJob(srv.ctx.db, await device(stranger), { snapshotId: second, actor: 'test' }),
    ).rejects.toThrow(/not a handset of the same subscriber/);
    expect(
      (await jobsForDevice(srv.ctx.db, (await device(stranger)).id)).filter((j) => j.kind.startsWith('ds-')),
    ).toHaveLength(0);
    expect(await dsAccountsOfDevice(srv.ctx.db, (await device(stranger)).id)).toHaveLength(0);
    await expect(
      createDsRestoreJob(srv.ctx.db, await device(stranger), {
        snapshotId: '00000000-0000-0000-0000-000000000000',
        actor: 'test',
      }),
    ).rejects.toThrow(/no DS snapshot/);
  });

  it('a DS job whose result never comes is given up after DS_RESULT_WAIT_MS, with the reason', async () => {
    const { job } = await createDsBackupJob(srv.ctx.db, await device(stranger), { actor: 'test', wake: false });
    await updateJob(srv.ctx.db, job.id, {
      status: 'running',
      progress: JSON.stringify({
        phase: 'awaiting-result',
        accountId: 'x',
        user: 'u',
        startedAt: 0,
        syncType: 'two-way',
        viaRef: false,
      }),
    });
    const at = (await getJob(srv.ctx.db, job.id))!.updatedAt;
    expect(await expireDsJobs(srv.ctx.db, (await device(stranger)).id, at + DS_RESULT_WAIT_MS - 1000)).toBe(0);
    expect(await expireDsJobs(srv.ctx.db, (await device(stranger)).id, at + DS_RESULT_WAIT_MS + 1000)).toBe(1);
    expect(await getJob(srv.ctx.db, job.id)).toMatchObject({
      status: 'failed',
      error: 'the handset never reported the Data Sync result',
    });
  });

  it('a DS session that fails is a failed job with the reason, and its retry succeeds', async () => {
    const { job } = await createDsBackupJob(srv.ctx.db, await device(stranger), { actor: 'test' });
    // Offline for the DS session only: the DM session runs, the DS server is unreachable.
    const realTransport = stranger.transport;
    stranger.transport = (req) =>
      req.url.endsWith('/ds')
        ? Promise.reject(new TransportError('network', 'connection refused'))
        : realTransport(req);
    await wakeAndWait(stranger);
    stranger.transport = realTransport;
    const r = await resultOf(job.id);
    expect(r.status).toBe('failed');
    expect(r.error).toBe('411 Data Sync Server Unreachable');
    const again = await retryDsJob(srv.ctx.db, (await getJob(srv.ctx.db, job.id))!, 'test');
    await wakeAndWait(stranger);
    const r2 = await resultOf(again.id);
    expect(r2.status, r2.error ?? '').toBe('succeeded');
    expect(JSON.parse((await getJob(srv.ctx.db, again.id))!.progress!)).toMatchObject({ viaRef: false });
    expect((await getDsSnapshot(srv.ctx.db, r2.snapshotId!))!.contacts).toBe(
      Object.keys(stranger.ds.stores.contacts.items).length,
    );
  });
});
