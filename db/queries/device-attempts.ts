/**
 * A known handset's messages that opened no session anyone will read again: failed
 * authentications and messages refused by the rate limits (see device_attempts in the schema).
 * Kept for the handset's history, bounded: the same reason within ATTEMPT_COALESCE_MS of the
 * last is counted on that row, and a handset keeps its newest ATTEMPTS_KEPT rows, so whoever
 * floods a DevId with bad credentials updates one row instead of growing the table.
 */
import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { deviceAttempts } from '../schema';

export type DeviceAttemptRow = typeof deviceAttempts.$inferSelect;

/** Rows a handset keeps (the newest). */
export const ATTEMPTS_KEPT = 50;
/** The same reason again within this long is one more on the last row. */
export const ATTEMPT_COALESCE_MS = 10 * 60_000;

export async function recordDeviceAttempt(
  db: Db,
  a: { deviceId: string; channel: DeviceAttemptRow['channel']; reason: string },
  now = Date.now(),
): Promise<void> {
  const bumped = await db
    .update(deviceAttempts)
    .set({ count: sql`${deviceAttempts.count} + 1`, lastAt: now })
    .where(
      and(
        eq(deviceAttempts.deviceId, a.deviceId),
        eq(deviceAttempts.channel, a.channel),
        eq(deviceAttempts.reason, a.reason),
        gte(deviceAttempts.lastAt, now - ATTEMPT_COALESCE_MS),
      ),
    )
    .returning({ id: deviceAttempts.id });
  if (bumped.length) return;
  await db.insert(deviceAttempts).values({ ...a, count: 1, firstAt: now, lastAt: now });
  // Trimmed at every insert, so there are at most ATTEMPTS_KEPT + 1 to read here.
  const ids = await db
    .select({ id: deviceAttempts.id })
    .from(deviceAttempts)
    .where(eq(deviceAttempts.deviceId, a.deviceId))
    .orderBy(desc(deviceAttempts.lastAt), desc(deviceAttempts.id))
    .limit(ATTEMPTS_KEPT * 2);
  const old = ids.slice(ATTEMPTS_KEPT).map((r) => r.id);
  if (old.length) await db.delete(deviceAttempts).where(inArray(deviceAttempts.id, old));
}

/** A handset's attempts, newest first. */
export async function deviceAttemptsOf(db: Db, deviceId: string, limit = ATTEMPTS_KEPT): Promise<DeviceAttemptRow[]> {
  return db
    .select()
    .from(deviceAttempts)
    .where(eq(deviceAttempts.deviceId, deviceId))
    .orderBy(desc(deviceAttempts.lastAt), desc(deviceAttempts.id))
    .limit(limit);
}

/** Drops attempts last seen before `before` (the retention window); how many went. */
export async function pruneDeviceAttempts(db: Db, before: number): Promise<number> {
  return (await db.delete(deviceAttempts).where(lt(deviceAttempts.lastAt, before)).returning({ id: deviceAttempts.id }))
    .length;
}
