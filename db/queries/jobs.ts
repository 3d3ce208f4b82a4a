import { and, asc, desc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import { jobs } from '../schema';

export type JobRow = typeof jobs.$inferSelect;
export type JobStatus = JobRow['status'];

/** A queued job whose dependency (if any) has succeeded. */
const dependencyMet = or(isNull(jobs.dependsOn), sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status = 'succeeded')`);

export async function insertJob(
  db: Db,
  job: { deviceId: string; kind: string; payload: unknown; dependsOn?: string | null; wakePending?: boolean; notBefore?: number | null },
): Promise<JobRow> {
  return (await db.insert(jobs).values({
    deviceId: job.deviceId, kind: job.kind, payload: JSON.stringify(job.payload),
    dependsOn: job.dependsOn ?? null, wakePending: job.wakePending ?? false, notBefore: job.notBefore ?? null,
  }).returning())[0]!;
}

export async function getJob(db: Db, id: string): Promise<JobRow | undefined> {
  return (await db.select().from(jobs).where(eq(jobs.id, id)).limit(1))[0];
}

/**
 * Queued jobs for a device that may run now, oldest first: not deferred to later, and not
 * waiting for a job they depend on (a failed dependency fails them: see failOrphans).
 */
export async function runnableJobs(db: Db, deviceId: string, now: number, opts: { ignoreBackoff?: boolean } = {}): Promise<JobRow[]> {
  const due = opts.ignoreBackoff
    ? or(isNull(jobs.notBefore), lte(jobs.notBefore, now), sql`${jobs.attempts} > 0`)
    : or(isNull(jobs.notBefore), lte(jobs.notBefore, now));
  return db.select().from(jobs)
    .where(and(eq(jobs.deviceId, deviceId), eq(jobs.status, 'queued'), due, dependencyMet))
    .orderBy(asc(jobs.createdAt));
}

export async function jobsInSession(db: Db, sessionRef: string): Promise<JobRow[]> {
  return db.select().from(jobs).where(and(eq(jobs.sessionRef, sessionRef), eq(jobs.status, 'running')));
}

export async function jobsForDevice(db: Db, deviceId: string, statuses?: readonly JobStatus[], limit = 200): Promise<JobRow[]> {
  const where = statuses ? and(eq(jobs.deviceId, deviceId), inArray(jobs.status, [...statuses])) : eq(jobs.deviceId, deviceId);
  return db.select().from(jobs).where(where).orderBy(desc(jobs.createdAt)).limit(limit);
}

/** Running jobs of a device held by a session other than `sessionRef` (which the handset abandoned). */
export async function runningElsewhere(db: Db, deviceId: string, sessionRef: string): Promise<JobRow[]> {
  return db.select().from(jobs).where(and(
    eq(jobs.deviceId, deviceId), eq(jobs.status, 'running'), sql`coalesce(${jobs.sessionRef}, '') <> ${sessionRef}`,
  ));
}

function wakeDue(now: number) {
  return and(eq(jobs.wakePending, true), eq(jobs.status, 'queued'), or(isNull(jobs.notBefore), lte(jobs.notBefore, now)));
}

/**
 * Takes up to `limit` due wakes for the caller, oldest first, in one statement: each job's
 * Package #0 goes to exactly one of the server processes asking at once. On PostgreSQL the
 * rows are picked FOR UPDATE SKIP LOCKED, so processes asking together take different jobs
 * instead of queueing on the same rows; SQLite's write lock already serializes them.
 */
export async function claimWakes(db: Db, now: number, limit: number): Promise<JobRow[]> {
  const due = db.select({ id: jobs.id }).from(jobs).where(wakeDue(now)).orderBy(asc(jobs.createdAt)).limit(limit);
  const pick = isPg(db) ? (due as unknown as { for(s: 'update', o: { skipLocked: true }): typeof due }).for('update', { skipLocked: true }) : due;
  const claimed = await db.update(jobs).set({ wakePending: false }).where(and(inArray(jobs.id, pick), eq(jobs.wakePending, true))).returning();
  return claimed.sort((a, b) => a.createdAt - b.createdAt);
}

/** Queued jobs whose dependency ended without success: they cannot run. */
export async function blockedByFailure(db: Db, deviceId: string): Promise<JobRow[]> {
  return db.select().from(jobs).where(and(
    eq(jobs.deviceId, deviceId), eq(jobs.status, 'queued'),
    sql`exists (select 1 from jobs d where d.id = ${jobs.dependsOn} and d.status in ('failed', 'cancelled'))`,
  ));
}

export async function updateJob(db: Db, id: string, patch: Partial<Omit<JobRow, 'id'>>): Promise<void> {
  await db.update(jobs).set({ ...patch, updatedAt: Date.now() }).where(eq(jobs.id, id));
}

/**
 * Updates a running job only while `sessionRef` still holds it: a handset that reconnected
 * gave the job to its new session, and the old session's last message must not overwrite it.
 */
export async function updateJobInSession(db: Db, id: string, sessionRef: string | null, patch: Partial<Omit<JobRow, 'id'>>): Promise<boolean> {
  if (!sessionRef) return false;
  return (await db.update(jobs).set({ ...patch, updatedAt: Date.now() })
    .where(and(eq(jobs.id, id), eq(jobs.sessionRef, sessionRef), eq(jobs.status, 'running'))).returning({ id: jobs.id })).length === 1;
}
