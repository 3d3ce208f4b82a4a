/**
 * Queries for retention, garbage collection and verification. Lists here are unbounded
 * (no LIMIT): a retention plan or a mark phase that saw only part of the rows would delete
 * what it did not see.
 */
import { and, desc, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Db } from '../client';
import { blobs, snapshots, snapshotStaging } from '../schema';
import { chunks } from './chunks';
import type { SnapshotRow } from './snapshots';

export type BlobRow = typeof blobs.$inferSelect;


/** Every snapshot of a device, any status, newest first. */
export function allDeviceSnapshots(db: Db, deviceId: string): SnapshotRow[] {
  return db.select().from(snapshots).where(eq(snapshots.deviceId, deviceId)).orderBy(desc(snapshots.startedAt)).all();
}

/** Complete snapshots of one device, or of every device, newest first. */
export function completeSnapshots(db: Db, deviceId?: string): SnapshotRow[] {
  const where = deviceId
    ? and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete'))
    : eq(snapshots.status, 'complete');
  return db.select().from(snapshots).where(where).orderBy(desc(snapshots.startedAt)).all();
}

/** Deletes snapshots by id (their staging rows cascade), never one under legal hold; returns how many went. */
export function deleteUnheldSnapshots(db: Db, ids: readonly string[]): number {
  let n = 0;
  for (const part of chunks(ids)) {
    n += db.delete(snapshots).where(and(inArray(snapshots.id, part), eq(snapshots.legalHold, false))).run().changes;
  }
  return n;
}

/** Every snapshot that names a manifest: its id and root hash. */
export function snapshotRoots(db: Db): Array<{ id: string; rootHash: string }> {
  return db.select({ id: snapshots.id, rootHash: snapshots.rootHash }).from(snapshots)
    .where(isNotNull(snapshots.rootHash)).all() as Array<{ id: string; rootHash: string }>;
}

/** Hashes referenced by staged entries (backups in progress), with the snapshot staging them. */
export function stagedHashes(db: Db): Array<{ snapshotId: string; hash: string }> {
  return db.select({ snapshotId: snapshotStaging.snapshotId, hash: snapshotStaging.hash }).from(snapshotStaging)
    .where(isNotNull(snapshotStaging.hash)).all() as Array<{ snapshotId: string; hash: string }>;
}

export function allBlobRows(db: Db): BlobRow[] {
  return db.select().from(blobs).all();
}

/** The blobs rows of those of `hashes` that have one. */
export function blobRowsFor(db: Db, hashes: readonly string[]): BlobRow[] {
  const out: BlobRow[] = [];
  for (const part of chunks(hashes)) out.push(...db.select().from(blobs).where(inArray(blobs.hash, part)).all());
  return out;
}

export function deleteBlobRows(db: Db, hashes: readonly string[]): number {
  let n = 0;
  for (const part of chunks(hashes)) n += db.delete(blobs).where(inArray(blobs.hash, part)).run().changes;
  return n;
}

/** Blobs the firmware and app catalogs hold. */
export function packageHashes(db: Db): string[] {
  return db.$client.prepare('select blob_hash as h from firmware_packages union select blob_hash from app_packages').pluck().all() as string[];
}

/** A plan nobody executed keeps its snapshot this long (it may still be confirmed). */
const PLAN_PIN_MS = 24 * 60 * 60_000;

/** Snapshots of a device that a restore not yet over (or planned in the last day) needs. */
export function restorePinned(db: Db, deviceId: string): Set<string> {
  const rows = db.$client.prepare(`
    select p.snapshot_id as id from restore_plans p left join jobs j on j.id = p.job_id
    where p.source_device_id = ? and ((p.job_id is null and p.created_at > ?) or j.status in ('queued', 'running'))`)
    .pluck().all(deviceId, Date.now() - PLAN_PIN_MS) as string[];
  return new Set(rows);
}
