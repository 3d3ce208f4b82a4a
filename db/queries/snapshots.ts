import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { snapshots, snapshotStaging } from '../schema';
import { prepared, stagingStatements } from './prepared';

export type SnapshotRow = typeof snapshots.$inferSelect;
export type StagedEntry = typeof snapshotStaging.$inferSelect;

export function insertSnapshot(db: Db, row: { deviceId: string; jobId?: string | null; trigger: string; categories: string[] }): SnapshotRow {
  return db.insert(snapshots).values({ ...row, categories: JSON.stringify(row.categories) }).returning().get();
}

export function getSnapshot(db: Db, id: string): SnapshotRow | undefined {
  return db.select().from(snapshots).where(eq(snapshots.id, id)).get();
}

/** A device's snapshots, newest first. */
export function listSnapshots(db: Db, deviceId: string, opts: { status?: SnapshotRow['status']; limit?: number } = {}): SnapshotRow[] {
  const where = opts.status ? and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, opts.status)) : eq(snapshots.deviceId, deviceId);
  return db.select().from(snapshots).where(where).orderBy(desc(snapshots.startedAt)).limit(opts.limit ?? 1000).all();
}

export function lastCompleteSnapshot(db: Db, deviceId: string): SnapshotRow | undefined {
  return prepared(db).lastCompleteSnapshot.get({ deviceId });
}

export function updateSnapshot(db: Db, id: string, patch: Partial<Omit<SnapshotRow, 'id' | 'deviceId'>>): void {
  db.update(snapshots).set(patch).where(eq(snapshots.id, id)).run();
}

export function deleteSnapshots(db: Db, ids: readonly string[]): void {
  if (ids.length) db.delete(snapshots).where(inArray(snapshots.id, [...ids])).run();
}

/** Records (or replaces) one staged entry of a snapshot being taken. */
export function stageEntry(db: Db, e: StagedEntry): void {
  stagingStatements(db).stageEntry.run(e);
}

export function stagedEntries(db: Db, snapshotId: string): StagedEntry[] {
  return db.select().from(snapshotStaging).where(eq(snapshotStaging.snapshotId, snapshotId)).orderBy(asc(snapshotStaging.path)).all();
}

export function clearStaging(db: Db, snapshotId: string): void {
  db.delete(snapshotStaging).where(eq(snapshotStaging.snapshotId, snapshotId)).run();
}

/** Notes content the blob store now holds; true when it was not known before. */
export function recordBlob(db: Db, hash: string, size: number): boolean {
  return stagingStatements(db).recordBlob.run(hash, size, Date.now()).changes > 0;
}

export function blobStats(db: Db): { count: number; bytes: number } {
  const r = db.$client.prepare('select count(*) as count, coalesce(sum(size), 0) as bytes from blobs').get() as { count: number; bytes: number };
  return r;
}
