import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import { prepared, preparedByShape } from '../prepared';
import { jobs } from '../schema';
import { newestFirst, olderThan, type TimeKey } from './keyset';
import {
  parseJobPayload,
  serializeJobPayload,
  type JobKind,
  type JobPayloads,
  type JobRequestOf,
} from '../../lib/jobs/kinds';

type JobRecord = typeof jobs.$inferSelect;
type JobColumns = Omit<JobRecord, 'kind' | 'payload'>;

/**
 * A job as the code sees it: its kind with the payload parsed and checked for that kind
 * (lib/jobs/kinds.ts), so `job.kind === 'backup'` types `job.payload`. `JobRow<'restore'>`
 * is a restore job.
 */
export type JobRow<K extends JobKind = JobKind> = K extends JobKind
  ? JobColumns & { kind: K; payload: JobPayloads[K] }
  : never;
export type JobStatus = JobRecord['status'];
/** What changes on a job after it is created: never its kind or its request. */
export type JobPatch = Partial<Omit<JobColumns, 'id'>>;
/** A job to create: its kind and payload, the device, and how it waits. */
export type NewJob = JobRequestOf & {
  deviceId: string;
  dependsOn?: string | null;
  wakePending?: boolean;
  notBefore?: number | null;
};

/** A row as read: its payload parsed once, here (a payload that does not fit its kind throws JobPayloadError). */
export function toJob(row: JobRecord): JobRow {
  return { ...row, ...parseJobPayload(row) } as JobRow;
}

/** A queued job whose dependency (if any) has succeeded. */
const dependencyMet = or(
  isNull(jobs.dependsOn),
  sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status = 'succeeded')`,
);

/** Creates a job; its payload is checked against its kind and serialized here, once. */
export async function insertJob<K extends JobKind>(db: Db, job: NewJob & { kind: K }): Promise<JobRow<K>> {
  const row = (
    await db
      .insert(jobs)
      .values({
        deviceId: job.deviceId,
        kind: job.kind,
        payload: serializeJobPayload(job),
        dependsOn: job.dependsOn ?? null,
        wakePending: job.wakePending ?? false,
        notBefore: job.notBefore ?? null,
      })
      .returning()
  )[0]!;
  return toJob(row) as JobRow<K>;
}

const jobById = prepared((db, v: { id: string }) => db.select().from(jobs).where(eq(jobs.id, v.id)).limit(1));

export async function getJob(db: Db, id: string): Promise<JobRow | undefined> {
  const row = (await jobById(db, { id }))[0];
  return row && toJob(row);
}

/**
 * Queued jobs for a device that may run now, oldest first: not deferred to later, and not
 * waiting for a job they depend on (a failed dependency fails them: see failOrphans).
 */
export async function runnableJobs(
  db: Db,
  deviceId: string,
  now: number,
  opts: { ignoreBackoff?: boolean } = {},
): Promise<JobRow[]> {
  return (await (opts.ignoreBackoff ? runnableIgnoringBackoff : runnable)(db, { deviceId, now })).map(toJob);
}

const runnableQuery = (db: Db, v: { deviceId: string; now: number }, ignoreBackoff: boolean) =>
  db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.deviceId, v.deviceId),
        eq(jobs.status, 'queued'),
        ignoreBackoff
          ? or(isNull(jobs.notBefore), lte(jobs.notBefore, v.now), sql`${jobs.attempts} > 0`)
          : or(isNull(jobs.notBefore), lte(jobs.notBefore, v.now)),
        dependencyMet,
      ),
    )
    .orderBy(asc(jobs.createdAt));
const runnable = prepared((db, v: { deviceId: string; now: number }) => runnableQuery(db, v, false));
const runnableIgnoringBackoff = prepared((db, v: { deviceId: string; now: number }) => runnableQuery(db, v, true));

const inSession = prepared((db, v: { sessionRef: string }) =>
  db
    .select()
    .from(jobs)
    .where(and(eq(jobs.sessionRef, v.sessionRef), eq(jobs.status, 'running'))),
);

export async function jobsInSession(db: Db, sessionRef: string): Promise<JobRow[]> {
  return (await inSession(db, { sessionRef })).map(toJob);
}

export async function jobsForDevice(
  db: Db,
  deviceId: string,
  statuses?: readonly JobStatus[],
  limit = 200,
  after?: TimeKey,
): Promise<JobRow[]> {
  const where = and(
    eq(jobs.deviceId, deviceId),
    statuses ? inArray(jobs.status, [...statuses]) : undefined,
    olderThan(jobs.createdAt, jobs.id, after),
  );
  return (
    await db
      .select()
      .from(jobs)
      .where(where)
      .orderBy(...newestFirst(jobs.createdAt, jobs.id))
      .limit(limit)
  ).map(toJob);
}

/** Running jobs of a device held by a session other than `sessionRef` (which the handset abandoned). */
export async function runningElsewhere(db: Db, deviceId: string, sessionRef: string): Promise<JobRow[]> {
  return (await elsewhere(db, { deviceId, sessionRef })).map(toJob);
}

const elsewhere = prepared((db, v: { deviceId: string; sessionRef: string }) =>
  db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.deviceId, v.deviceId),
        eq(jobs.status, 'running'),
        sql`coalesce(${jobs.sessionRef}, '') <> ${v.sessionRef}`,
      ),
    ),
);

/** A pending Package #0 that is due: the job may run, and a resend's backoff (wake_at) is over. */
function wakeDue(now: number) {
  return and(
    eq(jobs.wakePending, true),
    eq(jobs.status, 'queued'),
    or(isNull(jobs.notBefore), lte(jobs.notBefore, now)),
    or(isNull(jobs.wakeAt), lte(jobs.wakeAt, now)),
  );
}

/**
 * Takes up to `limit` due wakes for the caller, oldest first, in one statement: each job's
 * Package #0 goes to exactly one of the server processes asking at once. On PostgreSQL the
 * rows are picked FOR UPDATE SKIP LOCKED, so processes asking together take different jobs
 * instead of queueing on the same rows; SQLite's write lock already serializes them.
 */
export async function claimWakes(db: Db, now: number, limit: number): Promise<JobRow[]> {
  const due = (tx: Db) =>
    tx.select({ id: jobs.id }).from(jobs).where(wakeDue(now)).orderBy(asc(jobs.createdAt)).limit(limit);
  const take = (tx: Db, pick: ReturnType<typeof due> | string[]) =>
    tx
      .update(jobs)
      .set({ wakePending: false })
      .where(and(inArray(jobs.id, pick), eq(jobs.wakePending, true)))
      .returning();
  // PostgreSQL: the ids picked first, then updated, in one transaction. As a subquery of the
  // UPDATE, `limit … for update skip locked` is not a bound: the join may read it again and
  // claim every due row, which the wake budget cannot allow.
  const claimed = isPg(db)
    ? await db.transaction(async (tx) => {
        const q = due(tx) as unknown as { for(s: 'update', o: { skipLocked: true }): Promise<Array<{ id: string }>> };
        const ids = (await q.for('update', { skipLocked: true })).map((r) => r.id);
        return ids.length ? take(tx, ids) : [];
      })
    : await take(db, due(db));
  return claimed.sort((a, b) => a.createdAt - b.createdAt).map(toJob);
}

/** Queued jobs whose dependency ended without success: they cannot run. */
export async function blockedByFailure(db: Db, deviceId: string): Promise<JobRow[]> {
  return (await blocked(db, { deviceId })).map(toJob);
}

const blocked = prepared((db, v: { deviceId: string }) =>
  db
    .select()
    .from(jobs)
    .where(
      and(
        eq(jobs.deviceId, v.deviceId),
        eq(jobs.status, 'queued'),
        sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status in ('failed', 'cancelled'))`,
      ),
    ),
);

export async function updateJob(db: Db, id: string, patch: JobPatch): Promise<void> {
  await update(db, { ...patch, updatedAt: Date.now(), $id: id });
}

// One statement per set of columns a patch names; `$id` and `$ref` are the row's, not columns.
const update = preparedByShape((db, v: JobPatch & { $id: string }) => {
  const { $id, ...set } = v;
  return db.update(jobs).set(set).where(eq(jobs.id, $id));
});
const updateInSession = preparedByShape((db, v: JobPatch & { $id: string; $ref: string }) => {
  const { $id, $ref, ...set } = v;
  return db
    .update(jobs)
    .set(set)
    .where(and(eq(jobs.id, $id), eq(jobs.sessionRef, $ref), eq(jobs.status, 'running')))
    .returning({ id: jobs.id });
});

/**
 * Updates a running job only while `sessionRef` still holds it: a handset that reconnected
 * gave the job to its new session, and the old session's last message must not overwrite it.
 */
export async function updateJobInSession(
  db: Db,
  id: string,
  sessionRef: string | null,
  patch: JobPatch,
): Promise<boolean> {
  if (!sessionRef) return false;
  return (await updateInSession(db, { ...patch, updatedAt: Date.now(), $id: id, $ref: sessionRef })).length === 1;
}
