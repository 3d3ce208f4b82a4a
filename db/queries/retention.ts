/**
 * Queries for retention, garbage collection and verification. Lists here are unbounded
 * (no LIMIT): a retention plan or a mark phase that saw only part of the rows would delete
 * what it did not see.
 */
import { and, desc, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { column } from '../sql';
import { blobs, snapshots, snapshotStaging } from '../schema';
import { chunks } from './chunks';
import type { SnapshotRow } from './snapshots';
import { refreshLastGoodBackup } from './device-list';

export type BlobRow = typeof blobs.$inferSelect;

/** Every snapshot of a device, any status, newest first. */
export async function allDeviceSnapshots(db: Db, deviceId: string): Promise<SnapshotRow[]> {
  return db.select().from(snapshots).where(eq(snapshots.deviceId, deviceId)).orderBy(desc(snapshots.startedAt));
}

/** Complete snapshots of one device, or of every device, newest first. */
export async function completeSnapshots(db: Db, deviceId?: string): Promise<SnapshotRow[]> {
  const where = deviceId
    ? and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete'))
    : eq(snapshots.status, 'complete');
  return db.select().from(snapshots).where(where).orderBy(desc(snapshots.startedAt));
}

/**
 * Deletes snapshots by id (their staging rows cascade), never one under legal hold; returns how
 * many went. Their devices' last good backup is set again from what is left.
 */
export async function deleteUnheldSnapshots(db: Db, ids: readonly string[]): Promise<number> {
  let n = 0;
  const devices = new Set<string>();
  for (const part of chunks(ids)) {
    const gone = await db
      .delete(snapshots)
      .where(and(inArray(snapshots.id, part), eq(snapshots.legalHold, false)))
      .returning({ deviceId: snapshots.deviceId });
    n += gone.length;
    for (const g of gone) devices.add(g.deviceId);
  }
  for (const d of devices) await refreshLastGoodBackup(db, d);
  return n;
}

/** Every snapshot that names a manifest: its id and root hash. */
export async function snapshotRoots(db: Db): Promise<Array<{ id: string; rootHash: string }>> {
  return (await db
    .select({ id: snapshots.id, rootHash: snapshots.rootHash })
    .from(snapshots)
    .where(isNotNull(snapshots.rootHash))) as Array<{ id: string; rootHash: string }>;
}

/** Hashes referenced by staged entries (backups in progress), with the snapshot staging them. */
export async function stagedHashes(db: Db): Promise<Array<{ snapshotId: string; hash: string }>> {
  return (await db
    .select({ snapshotId: snapshotStaging.snapshotId, hash: snapshotStaging.hash })
    .from(snapshotStaging)
    .where(isNotNull(snapshotStaging.hash))) as Array<{ snapshotId: string; hash: string }>;
}

export async function allBlobRows(db: Db): Promise<BlobRow[]> {
  return db.select().from(blobs);
}

/** The blobs rows of those of `hashes` that have one. */
export async function blobRowsFor(db: Db, hashes: readonly string[]): Promise<BlobRow[]> {
  const out: BlobRow[] = [];
  for (const part of chunks(hashes)) out.push(...(await db.select().from(blobs).where(inArray(blobs.hash, part))));
  return out;
}

export async function deleteBlobRows(db: Db, hashes: readonly string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(hashes))
    n += (await db.delete(blobs).where(inArray(blobs.hash, part)).returning({ hash: blobs.hash })).length;
  return n;
}

/** Blobs the firmware and app catalogs hold. */
export async function packageHashes(db: Db): Promise<string[]> {
  return column<string>(db, sql`select blob_hash as h from firmware_packages union select blob_hash from app_packages`);
}

/** A plan nobody executed keeps its snapshot this long (it may still be confirmed). */
const PLAN_PIN_MS = 24 * 60 * 60_000;

/** Snapshots of a device that a restore not yet over (or planned in the last day) needs. */
export async function restorePinned(db: Db, deviceId: string): Promise<Set<string>> {
  const rows = await column<string>(
    db,
    sql`
    select p.snapshot_id as id from restore_plans p left join jobs j on j.id = p.job_id
    where p.source_device_id = ${deviceId} and ((p.job_id is null and p.created_at > ${Date.now() - PLAN_PIN_MS}) or j.status in ('queued', 'running'))`,
  );
  return new Set(rows);
}
