import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { snapshots, snapshotStaging } from '../schema';
import { exec, row } from '../sql';
import { newestFirst, olderThan, type TimeKey } from './keyset';

export type SnapshotRow = typeof snapshots.$inferSelect;
export type StagedEntry = typeof snapshotStaging.$inferSelect;

export async function insertSnapshot(
  db: Db,
  row: { deviceId: string; jobId?: string | null; trigger: string; categories: string[] },
): Promise<SnapshotRow> {
  return (
    await db
      .insert(snapshots)
      .values({ ...row, categories: JSON.stringify(row.categories) })
      .returning()
  )[0]!;
}

export async function getSnapshot(db: Db, id: string): Promise<SnapshotRow | undefined> {
  return (await db.select().from(snapshots).where(eq(snapshots.id, id)).limit(1))[0];
}

/** A device's snapshots, newest first. */
export async function listSnapshots(
  db: Db,
  deviceId: string,
  opts: { status?: SnapshotRow['status']; limit?: number; after?: TimeKey } = {},
): Promise<SnapshotRow[]> {
  const where = and(
    eq(snapshots.deviceId, deviceId),
    opts.status ? eq(snapshots.status, opts.status) : undefined,
    olderThan(snapshots.startedAt, snapshots.id, opts.after),
  );
  return db
    .select()
    .from(snapshots)
    .where(where)
    .orderBy(...newestFirst(snapshots.startedAt, snapshots.id))
    .limit(opts.limit ?? 1000);
}

export async function lastCompleteSnapshot(db: Db, deviceId: string): Promise<SnapshotRow | undefined> {
  return (
    (
      await db
        .select()
        .from(snapshots)
        .where(and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete')))
        // NULLs last on both (PostgreSQL would put them first in a descending order).
        .orderBy(sql`${snapshots.completedAt} is null`, desc(snapshots.completedAt))
        .limit(1)
    )[0]
  );
}

export async function updateSnapshot(
  db: Db,
  id: string,
  patch: Partial<Omit<SnapshotRow, 'id' | 'deviceId'>>,
): Promise<void> {
  await db.update(snapshots).set(patch).where(eq(snapshots.id, id));
}

export async function deleteSnapshots(db: Db, ids: readonly string[]): Promise<void> {
  if (ids.length) await db.delete(snapshots).where(inArray(snapshots.id, [...ids]));
}

/**
 * Records (or replaces) one staged entry of a snapshot being taken. Raw SQL, not a builder:
 * one is written for every node of every handset's tree, and building the statement showed.
 */
export async function stageEntry(db: Db, e: StagedEntry): Promise<void> {
  await exec(
    db,
    sql`insert into snapshot_staging (snapshot_id, path, category, format, type, size, hash)
    values (${e.snapshotId}, ${e.path}, ${e.category}, ${e.format}, ${e.type ?? null}, ${e.size}, ${e.hash ?? null})
    on conflict (snapshot_id, path) do update set
      category = excluded.category, format = excluded.format, type = excluded.type, size = excluded.size, hash = excluded.hash`,
  );
}

export async function stagedEntries(db: Db, snapshotId: string): Promise<StagedEntry[]> {
  return db
    .select()
    .from(snapshotStaging)
    .where(eq(snapshotStaging.snapshotId, snapshotId))
    .orderBy(asc(snapshotStaging.path));
}

export async function clearStaging(db: Db, snapshotId: string): Promise<void> {
  await db.delete(snapshotStaging).where(eq(snapshotStaging.snapshotId, snapshotId));
}

/** Notes content the blob store now holds; true when it was not known before. */
export async function recordBlob(db: Db, hash: string, size: number): Promise<boolean> {
  // created_at is a drizzle-side default ($defaultFn), so it is given here.
  return (
    (await exec(
      db,
      sql`insert into blobs (hash, size, created_at) values (${hash}, ${size}, ${Date.now()}) on conflict do nothing`,
    )) > 0
  );
}

export async function blobStats(db: Db): Promise<{ count: number; bytes: number }> {
  const r = await row<{ count: number; bytes: number }>(
    db,
    sql`select count(*) as count, coalesce(sum(size), 0) as bytes from blobs`,
  );
  return r ?? { count: 0, bytes: 0 };
}

/**
 * Copies a DM session's bytes and messages onto the snapshots it took: called as the backup
 * completes (the figures so far) and again when the session ends (the final ones), because
 * session rows are pruned in time and a snapshot's airtime must outlive them.
 */
export async function recordSnapshotAirtime(db: Db, sessionRowId: string): Promise<void> {
  await exec(
    db,
    sql`update snapshots set
      air_bytes_up = (select bytes_in from dm_sessions where id = ${sessionRowId}),
      air_bytes_down = (select bytes_out from dm_sessions where id = ${sessionRowId}),
      air_round_trips = (select messages from dm_sessions where id = ${sessionRowId})
    where session_ref = ${sessionRowId} and status = 'complete'`,
  );
}
