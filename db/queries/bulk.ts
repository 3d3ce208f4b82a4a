/**
 * Bulk operations (db/schema.ts `bulk_operations`) and what their progress counts: the jobs
 * each one queued carry its id (`jobs.bulk_id`), so their outcomes are one indexed count.
 */
import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { bulkOperations, devices, jobs } from '../schema';
import { exec, rows } from '../sql';

export type BulkRow = typeof bulkOperations.$inferSelect;
export type BulkAction = BulkRow['action'];
export type BulkStatus = BulkRow['status'];

export async function insertBulk(
  db: Db,
  b: { action: BulkAction; request: string; actor: string; total: number },
): Promise<BulkRow> {
  return (
    await db
      .insert(bulkOperations)
      .values({ ...b, status: 'queued', updatedAt: Date.now() })
      .returning()
  )[0]!;
}

export async function getBulk(db: Db, id: string): Promise<BulkRow | undefined> {
  return (await db.select().from(bulkOperations).where(eq(bulkOperations.id, id)).limit(1))[0];
}

/** The newest operations first. */
export async function recentBulks(db: Db, limit = 50): Promise<BulkRow[]> {
  return db.select().from(bulkOperations).orderBy(desc(bulkOperations.createdAt), desc(bulkOperations.id)).limit(limit);
}

/** Operations whose walk is not over (queued or running), oldest first. */
export async function activeBulks(db: Db): Promise<BulkRow[]> {
  return db
    .select()
    .from(bulkOperations)
    .where(inArray(bulkOperations.status, ['queued', 'running']))
    .orderBy(bulkOperations.createdAt);
}

/**
 * Records a page of the walk: the counts added and where the next page starts. Only while
 * the operation is still queued or running, so a cancel that came in meanwhile stands;
 * false when it did not (the caller undoes what that page queued).
 */
export async function advanceBulk(
  db: Db,
  id: string,
  step: { done: number; skipped: number; cursor: string | null; error?: string | null; finished: boolean },
  now = Date.now(),
): Promise<boolean> {
  const changed = await exec(
    db,
    sql`update bulk_operations set done = done + ${step.done}, skipped = skipped + ${step.skipped},
      cursor = ${step.cursor}, error = coalesce(${step.error ?? null}, error),
      status = ${step.finished ? 'complete' : 'running'}, updated_at = ${now},
      finished_at = ${step.finished ? now : null}
      where id = ${id} and status in ('queued', 'running')`,
  );
  return changed === 1;
}

/** Ends an operation that cannot go on (its request no longer holds), with the reason. */
export async function failBulk(db: Db, id: string, error: string, now = Date.now()): Promise<void> {
  await db
    .update(bulkOperations)
    .set({ status: 'failed', error, updatedAt: now, finishedAt: now })
    .where(and(eq(bulkOperations.id, id), inArray(bulkOperations.status, ['queued', 'running'])));
}

/**
 * Cancels an operation whose walk is not over, or whose walk is over with jobs still queued;
 * false when it is over already (ended, cancelled, or complete with nothing left to cancel).
 */
export async function markBulkCancelled(db: Db, id: string, now = Date.now()): Promise<boolean> {
  const r = await db
    .update(bulkOperations)
    .set({ status: 'cancelled', updatedAt: now, finishedAt: now })
    .where(
      and(
        eq(bulkOperations.id, id),
        sql`(${bulkOperations.status} in ('queued', 'running') or (${bulkOperations.status} = 'complete' and exists (select 1 from jobs j where j.bulk_id = ${id} and j.status = 'queued')))`,
      ),
    )
    .returning({ id: bulkOperations.id });
  return r.length === 1;
}

/** Cancels the operation's jobs that have not started; how many. */
export async function cancelQueuedBulkJobs(db: Db, bulkId: string, reason: string): Promise<number> {
  const r = await db
    .update(jobs)
    .set({ status: 'cancelled', wakePending: false, error: reason, updatedAt: Date.now() })
    .where(and(eq(jobs.bulkId, bulkId), eq(jobs.status, 'queued')))
    .returning({ id: jobs.id });
  return r.length;
}

/** Tags jobs with the operation that queued them. */
export async function tagBulkJobs(db: Db, bulkId: string, jobIds: readonly string[]): Promise<void> {
  if (jobIds.length)
    await db
      .update(jobs)
      .set({ bulkId })
      .where(inArray(jobs.id, [...jobIds]));
}

export interface BulkJobCounts {
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  /** Queued jobs whose first Package #0 has not gone out yet. */
  awaitingWake: number;
}

/** The outcomes of an operation's jobs, counted by status (the (bulk_id, status) index). */
export async function bulkJobCounts(db: Db, bulkId: string): Promise<BulkJobCounts> {
  const byStatus = await rows<{ status: string; n: number | string; unwoken: number | string | null }>(
    db,
    sql`select status, count(*) as n,
      sum(case when wake_pending = 1 and wake_attempts is null then 1 else 0 end) as unwoken
      from jobs where bulk_id = ${bulkId} group by status`,
  );
  const c: BulkJobCounts = { queued: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, awaitingWake: 0 };
  for (const r of byStatus) {
    const n = Number(r.n);
    if (r.status === 'queued') {
      c.queued += n;
      c.awaitingWake += Number(r.unwoken ?? 0);
    } else if (r.status === 'running') c.running += n;
    else if (r.status === 'succeeded') c.succeeded += n;
    else if (r.status === 'cancelled') c.cancelled += n;
    else c.failed += n; // failed, or rejected by the handset's user
  }
  return c;
}

/** A selection of handsets named by id or DevId, as a condition over `devices d`. */
export function selectionWhere(ids: readonly string[]): SQL {
  if (ids.length === 0) return sql`1 = 0`;
  const list = sql.join(
    ids.map((i) => sql`${i}`),
    sql`, `,
  );
  return sql`(d.id in (${list}) or d.dev_id in (${list}))`;
}

/**
 * How many handsets matching `where` have a job of `kind` queued or running, which a bulk
 * order of that kind would join rather than add to (a safety backup belongs to its restore).
 */
export async function countWithPendingJob(db: Db, kind: string, where: SQL): Promise<number> {
  const r = await rows<{ n: number | string }>(
    db,
    sql`select count(*) as n from devices d where ${where} and exists (select 1 from jobs j
      where j.device_id = d.id and j.kind = ${kind} and j.status in ('queued', 'running')
      and j.payload not like ${'%"trigger":"safety"%'})`,
  );
  return Number(r[0]?.n ?? 0);
}

/** The handsets of a page of the walk, in id order. */
export async function devicesByIds(db: Db, ids: readonly string[]): Promise<Array<typeof devices.$inferSelect>> {
  if (ids.length === 0) return [];
  return db
    .select()
    .from(devices)
    .where(inArray(devices.id, [...ids]))
    .orderBy(devices.id);
}

/** How many handsets matching `where` have `policyId` as their own policy already. */
export async function countWithOwnPolicy(db: Db, where: SQL, policyId: string): Promise<number> {
  const r = await rows<{ n: number | string }>(
    db,
    sql`select count(*) as n from devices d where ${where} and d.policy_id = ${policyId}`,
  );
  return Number(r[0]?.n ?? 0);
}

/** How many handsets matching `where` are in the static group `groupId` already. */
export async function countInStaticGroup(db: Db, where: SQL, groupId: string): Promise<number> {
  const r = await rows<{ n: number | string }>(
    db,
    sql`select count(*) as n from devices d where ${where}
      and exists (select 1 from device_group_members m where m.group_id = ${groupId} and m.device_id = d.id)`,
  );
  return Number(r[0]?.n ?? 0);
}
