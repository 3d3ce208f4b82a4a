import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { dsSnapshots, jobs, snapshots } from '../schema';
import { exec } from '../sql';
import { refreshLastGoodBackup } from './device-list';

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
  await refreshLastGoodBackup(db, deviceId);
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

/**
 * Moves what a handset did since `since` back by `shiftMs`: its DM sessions, failed attempts,
 * firmware reports, consents, jobs and when it was last seen. The demo makes a handset that
 * has been offline for days out of sessions it had a minute ago.
 */
export async function backdateDeviceActivity(db: Db, deviceId: string, since: number, shiftMs: number): Promise<void> {
  await exec(
    db,
    sql`update dm_sessions set created_at = created_at - ${shiftMs}, updated_at = updated_at - ${shiftMs}
      where device_id = ${deviceId} and created_at >= ${since}`,
  );
  await exec(
    db,
    sql`update device_attempts set first_at = first_at - ${shiftMs}, last_at = last_at - ${shiftMs}
      where device_id = ${deviceId} and last_at >= ${since}`,
  );
  await exec(
    db,
    sql`update ds_sessions set created_at = created_at - ${shiftMs}, updated_at = updated_at - ${shiftMs}
      where created_at >= ${since} and account_id in (select id from ds_accounts where device_id = ${deviceId})`,
  );
  // A run that began in this stretch moves with it; an older one only has its last report moved.
  await exec(
    db,
    sql`update firmware_runs set first_seen_at = first_seen_at - ${shiftMs}
      where device_id = ${deviceId} and first_seen_at >= ${since}`,
  );
  await exec(
    db,
    sql`update firmware_runs set last_seen_at = last_seen_at - ${shiftMs}
      where device_id = ${deviceId} and last_seen_at >= ${since}`,
  );
  await exec(db, sql`update consents set at = at - ${shiftMs} where device_id = ${deviceId} and at >= ${since}`);
  await exec(
    db,
    sql`update jobs set created_at = created_at - ${shiftMs}, updated_at = updated_at - ${shiftMs}
      where device_id = ${deviceId} and created_at >= ${since}`,
  );
  await exec(
    db,
    sql`update snapshots set started_at = started_at - ${shiftMs}, completed_at = completed_at - ${shiftMs}
      where device_id = ${deviceId} and started_at >= ${since}`,
  );
  await exec(
    db,
    sql`update devices set last_seen_at = last_seen_at - ${shiftMs} where id = ${deviceId} and last_seen_at >= ${since}`,
  );
  await refreshLastGoodBackup(db, deviceId);
}
