/**
 * Erasing a subscriber, end to end: two subscribers' handsets backed up over the real /dm
 * (with DS copies of contacts too), then one subscriber erased. Nothing of theirs stays
 * readable: not through the store, not with a fresh keyring and the master key, not in any
 * file under DATA_DIR (blobs, and on SQLite the database and its write-ahead log); the other
 * subscriber's backups are untouched and still verify.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteClient } from '@/db/client';
import { exec, value } from '@/db/sql';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { getSubscriber } from '@/db/queries/subscribers';
import { getContentKey } from '@/db/queries/content-keys';
import { listSnapshots } from '@/db/queries/snapshots';
import { seedDsBackups } from '@/test/support/ds-fixtures';
import { createBackupJob } from '../backup/jobs';
import { FileBlobStore, keyOwner } from '../backup/blob-store';
import { Keyring, loadMasterKey } from '../backup/keyring';
import { readManifest } from '../backup/read';
import { SealedBlobStore } from '../backup/sealed-store';
import { verifySnapshot } from '../backup/verify';
import type { VirtualHandset } from '../../sim/handset';
import { eraseSubscriber } from './erasure';
import { AppError } from '../core/errors';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';

const MARK_A = 'Erase-Me-Marker-4417';
const MARK_B = 'Keep-Me-Marker-9902';
let fleet: TestFleet;

async function device(h: VirtualHandset): Promise<DeviceRow> {
  return (await getDeviceByDevId(fleet.ctx.db, h.devId))!;
}

async function backUp(h: VirtualHandset, marker: string): Promise<string> {
  h.tree.replace('./Settings/Display/Brightness', { format: 'chr', value: new TextEncoder().encode(marker) });
  const { job } = await createBackupJob(fleet.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
  await h.connect({ initiator: 'client' });
  const j = (await getJob(fleet.ctx.db, job.id))!;
  expect(j.status, j.error ?? '').toBe('succeeded');
  return (JSON.parse(j.result!) as { snapshotId: string }).snapshotId;
}

/** Every file under DATA_DIR that contains `needle`. */
function filesContaining(needle: string): string[] {
  const bytes = Buffer.from(needle);
  return fs
    .readdirSync(fleet.dataDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .filter((f) => fs.readFileSync(f).includes(bytes));
}

beforeAll(async () => {
  fleet = await startTestFleet({ devices: 2, seed: 811, encoding: 'xml' });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

describe('erasing a subscriber', () => {
  it('destroys their keys and content and leaves nothing of theirs readable; the other subscriber keeps everything', async () => {
    const [a, b] = fleet.handsets as [VirtualHandset, VirtualHandset];
    const snapA = await backUp(a, MARK_A);
    const snapB = await backUp(b, MARK_B);
    await seedDsBackups(fleet.ctx, a.devId, { user: 'erase-a', contacts: 6, events: 2 });
    const subA = (await device(a)).subscriberId!;
    const ownerA = keyOwner(await device(a));
    expect(ownerA).toBe(subA);

    // Before: A's setting reads back through the store, and is nowhere on disk in the clear.
    const store = fleet.ctx.blobs as SealedBlobStore;
    const { entries } = await readManifest(fleet.ctx.db, store, snapA);
    const hashesA = entries.filter((e) => e.hash).map((e) => e.hash!);
    const brightness = entries.find((e) => e.path.endsWith('/Display/Brightness'))!;
    expect(new TextDecoder().decode(await store.get(brightness.hash!))).toBe(MARK_A);
    expect(filesContaining(MARK_A)).toEqual([]);
    // The DS copy's contact names are in the database (the summaries the console lists).
    const contact = (await value<string>(
      fleet.ctx.db,
      sql`select summary from ds_items where store = 'contacts' limit 1`,
    ))!;
    // SQLite: the database is a file under DATA_DIR (PostgreSQL keeps its own files elsewhere).
    const sqlite = sqliteClient(fleet.ctx.db);
    sqlite?.pragma('wal_checkpoint(TRUNCATE)');
    if (sqlite) expect(filesContaining(contact).length).toBeGreaterThan(0);
    expect(await getContentKey(fleet.ctx.db, ownerA)).toBeDefined();

    const r = await eraseSubscriber(fleet.ctx, subA, { graceMs: 0 });
    expect(r).toMatchObject({ devices: 1, snapshots: 1 });
    expect(r.keys).toBeGreaterThanOrEqual(1);

    expect(await getSubscriber(fleet.ctx.db, subA)).toBeUndefined();
    expect(await getDeviceByDevId(fleet.ctx.db, a.devId)).toBeUndefined();
    expect(await getContentKey(fleet.ctx.db, ownerA)).toBeUndefined();
    // Nothing of A's opens, through the store or through a fresh keyring with the master key.
    const fresh = new SealedBlobStore(
      new FileBlobStore(path.join(fleet.dataDir, 'blobs')),
      fleet.ctx.db,
      new Keyring(fleet.ctx.db, loadMasterKey({}, fleet.dataDir)),
    );
    const shared = new Set((await readManifest(fleet.ctx.db, store, snapB)).entries.map((e) => e.hash));
    for (const h of hashesA.filter((x) => !shared.has(x))) {
      expect(await store.get(h)).toBeUndefined();
      expect(await fresh.get(h)).toBeUndefined();
    }
    expect(filesContaining(MARK_A)).toEqual([]);
    expect(filesContaining(contact)).toEqual([]);

    // B is untouched.
    expect(await verifySnapshot(fleet.ctx.db, store, snapB)).toMatchObject({ ok: true });
    const mineB = (await readManifest(fleet.ctx.db, store, snapB)).entries.find((e) =>
      e.path.endsWith('/Display/Brightness'),
    )!;
    expect(new TextDecoder().decode(await store.get(mineB.hash!))).toBe(MARK_B);
    expect(await listSnapshots(fleet.ctx.db, (await device(b)).id)).toHaveLength(1);
    // Unknown subscribers are a clear error.
    await expect(eraseSubscriber(fleet.ctx, subA)).rejects.toThrow(AppError);
  }, 120_000);

  it('is refused with nothing changed while a snapshot is under legal hold', async () => {
    const b = fleet.handsets[1]!;
    const snap = (await listSnapshots(fleet.ctx.db, (await device(b)).id))[0]!;
    await exec(fleet.ctx.db, sql`update snapshots set legal_hold = 1 where id = ${snap.id}`);
    await expect(eraseSubscriber(fleet.ctx, (await device(b)).subscriberId!)).rejects.toThrow(/legal hold/);
    expect(await getContentKey(fleet.ctx.db, keyOwner(await device(b)))).toBeDefined();
    expect(await verifySnapshot(fleet.ctx.db, fleet.ctx.blobs, snap.id)).toMatchObject({ ok: true });
  });
});
