import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { snapshots, snapshotStaging } from '../schema';
import { row } from '../sql';
import { prepared, preparedRows, preparedSql } from '../prepared';
import { newestFirst, olderThan, type TimeKey } from './keyset';
import { refreshLastGoodBackup } from './device-list';

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

const snapshotById = prepared((db, v: { id: string }) =>
  db.select().from(snapshots).where(eq(snapshots.id, v.id)).limit(1),
);

export async function getSnapshot(db: Db, id: string): Promise<SnapshotRow | undefined> {
  return (await snapshotById(db, { id }))[0];
}

/** A device's snapshots, newest first. */
export async function listSnapshots(
  db: Db,
  deviceId: string,
  opts: { status?: SnapshotRow['status']; limit?: number; after?: TimeKey } = {},
): Promise<SnapshotRow[]> {
  // A first page (the backup engine's and the alerts' question) is prepared; a later one is built.
  if (!opts.after)
    return opts.status
      ? firstPageOfStatus(db, { deviceId, status: opts.status, limit: opts.limit ?? 1000 })
      : firstPage(db, { deviceId, limit: opts.limit ?? 1000 });
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

const firstPage = prepared((db, v: { deviceId: string; limit: number }) =>
  db
    .select()
    .from(snapshots)
    .where(eq(snapshots.deviceId, v.deviceId))
    .orderBy(...newestFirst(snapshots.startedAt, snapshots.id))
    .limit(v.limit),
);
const firstPageOfStatus = prepared((db, v: { deviceId: string; status: SnapshotRow['status']; limit: number }) =>
  db
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.deviceId, v.deviceId), eq(snapshots.status, v.status)))
    .orderBy(...newestFirst(snapshots.startedAt, snapshots.id))
    .limit(v.limit),
);

const lastComplete = prepared((db, v: { deviceId: string }) =>
  db
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.deviceId, v.deviceId), eq(snapshots.status, 'complete')))
    // NULLs last on both (PostgreSQL would put them first in a descending order).
    .orderBy(sql`${snapshots.completedAt} is null`, desc(snapshots.completedAt))
    .limit(1),
);

export async function lastCompleteSnapshot(db: Db, deviceId: string): Promise<SnapshotRow | undefined> {
  return (await lastComplete(db, { deviceId }))[0];
}

export async function updateSnapshot(
  db: Db,
  id: string,
  patch: Partial<Omit<SnapshotRow, 'id' | 'deviceId'>>,
): Promise<void> {
  const [s] = await db
    .update(snapshots)
    .set(patch)
    .where(eq(snapshots.id, id))
    .returning({ deviceId: snapshots.deviceId });
  // A snapshot that completes (or stops being complete) moves its device's last good backup.
  if (s && ('status' in patch || 'completedAt' in patch)) await refreshLastGoodBackup(db, s.deviceId);
}

export async function deleteSnapshots(db: Db, ids: readonly string[]): Promise<void> {
  if (!ids.length) return;
  const gone = await db
    .delete(snapshots)
    .where(inArray(snapshots.id, [...ids]))
    .returning({ deviceId: snapshots.deviceId });
  for (const d of new Set(gone.map((g) => g.deviceId))) await refreshLastGoodBackup(db, d);
}

/** Records (or replaces) one staged entry of a snapshot being taken. */
export async function stageEntry(db: Db, e: StagedEntry): Promise<void> {
  await stageEntries(db, [e]);
}

/** Rows per multi-row statement: far below either database's limit on parameters. */
const BATCH = 500;

/**
 * Records (or replaces) staged entries of a snapshot being taken, many at once (one statement per
 * BATCH): on PostgreSQL every statement is a round trip, and a message brings hundreds. A
 * path twice in one go keeps its last entry, as one upsert after another would.
 */
export async function stageEntries(db: Db, entries: readonly StagedEntry[]): Promise<void> {
  const last = [...new Map(entries.map((e) => [`${e.snapshotId} ${e.path}`, e])).values()];
  for (let i = 0; i < last.length; i += BATCH)
    await stage.exec(
      db,
      last.slice(i, i + BATCH).map((e) => ({ ...e, type: e.type ?? null, hash: e.hash ?? null })),
    );
}

const stage = preparedRows(
  sql`insert into snapshot_staging (snapshot_id, path, category, format, type, size, hash)
      values`,
  (e: StagedEntry) => sql`(${e.snapshotId}, ${e.path}, ${e.category}, ${e.format}, ${e.type}, ${e.size}, ${e.hash})`,
  sql`on conflict (snapshot_id, path) do update set
        category = excluded.category, format = excluded.format, type = excluded.type, size = excluded.size, hash = excluded.hash`,
);

const staged = prepared((db, v: { snapshotId: string }) =>
  db
    .select()
    .from(snapshotStaging)
    .where(eq(snapshotStaging.snapshotId, v.snapshotId))
    .orderBy(asc(snapshotStaging.path)),
);

export async function stagedEntries(db: Db, snapshotId: string): Promise<StagedEntry[]> {
  return staged(db, { snapshotId });
}

const clear = prepared((db, v: { snapshotId: string }) =>
  db.delete(snapshotStaging).where(eq(snapshotStaging.snapshotId, v.snapshotId)),
);

export async function clearStaging(db: Db, snapshotId: string): Promise<void> {
  await clear(db, { snapshotId });
}

/** Notes content the blob store now holds; true when it was not known before. */
export async function recordBlob(db: Db, hash: string, size: number): Promise<boolean> {
  return (await recordBlobs(db, [{ hash, size }])).size > 0;
}

/**
 * Notes many values the blob store is about to hold, in the order given (callers sort by
 * hash, so concurrent backups take the rows' locks in one order); the hashes not known before.
 */
export async function recordBlobs(db: Db, values: ReadonlyArray<{ hash: string; size: number }>): Promise<Set<string>> {
  const fresh = new Set<string>();
  const once = [...new Map(values.map((v) => [v.hash, v])).values()];
  const now = Date.now(); // created_at is a drizzle-side default ($defaultFn), so it is given here.
  for (let i = 0; i < once.length; i += BATCH)
    for (const r of await blobRows.rows<{ hash: string }>(
      db,
      once.slice(i, i + BATCH).map((v) => ({ hash: v.hash, size: v.size, now })),
    ))
      fresh.add(r.hash);
  return fresh;
}

const blobRows = preparedRows(
  sql`insert into blobs (hash, size, created_at) values`,
  (v: { hash: string; size: number; now: number }) => sql`(${v.hash}, ${v.size}, ${v.now})`,
  sql`on conflict do nothing returning hash`,
);

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
  await airtime.exec(db, { sessionRowId });
}

const airtime = preparedSql(
  (v: { sessionRowId: string }) => sql`update snapshots set
      air_bytes_up = (select bytes_in from dm_sessions where id = ${v.sessionRowId}),
      air_bytes_down = (select bytes_out from dm_sessions where id = ${v.sessionRowId}),
      air_round_trips = (select messages from dm_sessions where id = ${v.sessionRowId})
    where session_ref = ${v.sessionRowId} and status = 'complete'`,
);
