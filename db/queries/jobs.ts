import { and, asc, desc, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../client';
import { jobs } from '../schema';
import { prepared } from './prepared';

export type JobRow = typeof jobs.$inferSelect;
export type JobStatus = JobRow['status'];

export function insertJob(
  db: Db,
  job: { deviceId: string; kind: string; payload: unknown; dependsOn?: string | null; wakePending?: boolean; notBefore?: number | null },
): JobRow {
  return db.insert(jobs).values({
    deviceId: job.deviceId, kind: job.kind, payload: JSON.stringify(job.payload),
    dependsOn: job.dependsOn ?? null, wakePending: job.wakePending ?? false, notBefore: job.notBefore ?? null,
  }).returning().get();
}

export function getJob(db: Db, id: string): JobRow | undefined {
  return prepared(db).jobById.get({ id });
}

/**
 * Queued jobs for a device that may run now, oldest first: not deferred to later, and not
 * waiting for a job they depend on (a failed dependency fails them: see failOrphans).
 */
export function runnableJobs(db: Db, deviceId: string, now: number, opts: { ignoreBackoff?: boolean } = {}): JobRow[] {
  const s = prepared(db);
  return (opts.ignoreBackoff ? s.runnableJobsIgnoringBackoff : s.runnableJobs).all({ deviceId, now });
}

export function jobsInSession(db: Db, sessionRef: string): JobRow[] {
  return prepared(db).jobsInSession.all({ sessionRef });
}

export function jobsForDevice(db: Db, deviceId: string, statuses?: readonly JobStatus[], limit = 200): JobRow[] {
  const where = statuses ? and(eq(jobs.deviceId, deviceId), inArray(jobs.status, [...statuses])) : eq(jobs.deviceId, deviceId);
  return db.select().from(jobs).where(where).orderBy(desc(jobs.createdAt)).limit(limit).all();
}

/** Running jobs of a device held by a session other than `sessionRef` (which the handset abandoned). */
export function runningElsewhere(db: Db, deviceId: string, sessionRef: string): JobRow[] {
  return prepared(db).runningElsewhere.all({ deviceId, sessionRef });
}

/** Jobs whose Package #0 is due, oldest first. */
export function jobsToWake(db: Db, now: number, limit: number): JobRow[] {
  return db.select().from(jobs)
    .where(and(eq(jobs.wakePending, true), eq(jobs.status, 'queued'), or(isNull(jobs.notBefore), lte(jobs.notBefore, now))))
    .orderBy(asc(jobs.createdAt)).limit(limit).all();
}

/**
 * Takes a job's pending wake for the caller: true for exactly one of several server processes
 * asking at once (a conditional update), so each handset gets one Package #0.
 */
export function claimWake(db: Db, id: string): boolean {
  return db.update(jobs).set({ wakePending: false }).where(and(eq(jobs.id, id), eq(jobs.wakePending, true))).run().changes === 1;
}

/** Queued jobs whose dependency ended without success: they cannot run. */
export function blockedByFailure(db: Db, deviceId: string): JobRow[] {
  return prepared(db).blockedByFailure.all({ deviceId });
}

export function updateJob(db: Db, id: string, patch: Partial<Omit<JobRow, 'id'>>): void {
  db.update(jobs).set({ ...patch, updatedAt: Date.now() }).where(eq(jobs.id, id)).run();
}

/**
 * Updates a running job only while `sessionRef` still holds it: a handset that reconnected
 * gave the job to its new session, and the old session's last message must not overwrite it.
 */
export function updateJobInSession(db: Db, id: string, sessionRef: string | null, patch: Partial<Omit<JobRow, 'id'>>): boolean {
  if (!sessionRef) return false;
  return db.update(jobs).set({ ...patch, updatedAt: Date.now() })
    .where(and(eq(jobs.id, id), eq(jobs.sessionRef, sessionRef), eq(jobs.status, 'running'))).run().changes === 1;
}
