import { and, asc, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import type { Db } from '../client';
import { jobs } from '../schema';

export type JobRow = typeof jobs.$inferSelect;

export function insertJob(db: Db, job: { deviceId: string; kind: string; payload: unknown }): JobRow {
  return db.insert(jobs).values({ deviceId: job.deviceId, kind: job.kind, payload: JSON.stringify(job.payload) }).returning().get();
}

export function getJob(db: Db, id: string): JobRow | undefined {
  return db.select().from(jobs).where(eq(jobs.id, id)).get();
}

/** Queued jobs for a device that may run now, oldest first. */
export function runnableJobs(db: Db, deviceId: string, now: number): JobRow[] {
  return db.select().from(jobs)
    .where(and(eq(jobs.deviceId, deviceId), eq(jobs.status, 'queued'), or(isNull(jobs.notBefore), lte(jobs.notBefore, now))))
    .orderBy(asc(jobs.createdAt)).all();
}

export function jobsInSession(db: Db, sessionRef: string): JobRow[] {
  return db.select().from(jobs).where(and(eq(jobs.sessionRef, sessionRef), inArray(jobs.status, ['running']))).all();
}

export function updateJob(db: Db, id: string, patch: Partial<Omit<JobRow, 'id'>>): void {
  db.update(jobs).set({ ...patch, updatedAt: Date.now() }).where(eq(jobs.id, id)).run();
}
