import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { dsSnapshots, jobs, snapshots } from '../schema';

/**
 * Moves a device's newest complete snapshot, and the job that took it, back to `at`: the demo
 * takes its history in real sessions within a minute, then spreads it over past weeks so the
 * timeline reads like a month of use.
 */
export function backdateNewestSnapshot(db: Db, deviceId: string, at: number): void {
  const s = db.select().from(snapshots).where(and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete')))
    .orderBy(desc(snapshots.completedAt)).limit(1).get();
  if (!s || s.completedAt === null) return;
  const shift = s.completedAt - at;
  db.update(snapshots).set({ startedAt: s.startedAt - shift, completedAt: at }).where(eq(snapshots.id, s.id)).run();
  if (s.jobId) db.update(jobs).set({ createdAt: at - 60_000, updatedAt: at }).where(eq(jobs.id, s.jobId)).run();
}

export function hasCompleteSnapshot(db: Db, deviceId: string): boolean {
  return db.select({ id: snapshots.id }).from(snapshots).where(and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete'))).limit(1).get() !== undefined;
}

/** The same for a device's newest DS snapshot. */
export function backdateNewestDsSnapshot(db: Db, deviceId: string, at: number): void {
  const s = db.select().from(dsSnapshots).where(eq(dsSnapshots.deviceId, deviceId)).orderBy(desc(dsSnapshots.createdAt)).limit(1).get();
  if (!s) return;
  db.update(dsSnapshots).set({ createdAt: at }).where(eq(dsSnapshots.id, s.id)).run();
  if (s.jobId) db.update(jobs).set({ createdAt: at - 60_000, updatedAt: at }).where(eq(jobs.id, s.jobId)).run();
}
