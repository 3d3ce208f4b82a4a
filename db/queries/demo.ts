import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { dsSnapshots, jobs, snapshots } from '../schema';

/**
 * Moves a device's newest complete snapshot, and the job that took it, back to `at`: the demo
 * takes its history in real sessions within a minute, then spreads it over past weeks so the
 * timeline reads like a month of use.
 */
export async function backdateNewestSnapshot(db: Db, deviceId: string, at: number): Promise<void> {
  const [s] = await db
    .select()
    .from(snapshots)
    .where(and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete')))
    .orderBy(sql`${snapshots.completedAt} is null`, desc(snapshots.completedAt))
    .limit(1);
  if (!s || s.completedAt === null) return;
  const shift = s.completedAt - at;
  await db
    .update(snapshots)
    .set({ startedAt: s.startedAt - shift, completedAt: at })
    .where(eq(snapshots.id, s.id));
  if (s.jobId)
    await db
      .update(jobs)
      .set({ createdAt: at - 60_000, updatedAt: at })
      .where(eq(jobs.id, s.jobId));
}

export async function hasCompleteSnapshot(db: Db, deviceId: string): Promise<boolean> {
  return (
    (
      await db
        .select({ id: snapshots.id })
        .from(snapshots)
        .where(and(eq(snapshots.deviceId, deviceId), eq(snapshots.status, 'complete')))
        .limit(1)
    ).length > 0
  );
}

/** The same for a device's newest DS snapshot. */
export async function backdateNewestDsSnapshot(db: Db, deviceId: string, at: number): Promise<void> {
  const [s] = await db
    .select()
    .from(dsSnapshots)
    .where(eq(dsSnapshots.deviceId, deviceId))
    .orderBy(desc(dsSnapshots.createdAt))
    .limit(1);
  if (!s) return;
  await db.update(dsSnapshots).set({ createdAt: at }).where(eq(dsSnapshots.id, s.id));
  if (s.jobId)
    await db
      .update(jobs)
      .set({ createdAt: at - 60_000, updatedAt: at })
      .where(eq(jobs.id, s.jobId));
}
