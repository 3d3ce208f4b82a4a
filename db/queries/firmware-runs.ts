/**
 * Which firmware each handset ran when (firmware_runs): one row per run of one version, its
 * first and last report. A report of the version the handset's latest run holds moves that
 * run's end; any other version starts a new run (an update, or a rollback to an older one).
 */
import { and, asc, desc, eq, gte, lte, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, firmwareRuns } from '../schema';
import { prepared } from '../prepared';

export type FirmwareRunRow = typeof firmwareRuns.$inferSelect;

export async function noteFirmware(db: Db, deviceId: string, firmware: string, now = Date.now()): Promise<void> {
  const [last] = await lastRun(db, { deviceId });
  if (last?.firmware === firmware) {
    await db
      .update(firmwareRuns)
      .set({ lastSeenAt: Math.max(now, last.lastSeenAt) })
      .where(eq(firmwareRuns.id, last.id));
    return;
  }
  await db.insert(firmwareRuns).values({ deviceId, firmware, firstSeenAt: now, lastSeenAt: now });
}

const lastRun = prepared((db, v: { deviceId: string }) =>
  db
    .select()
    .from(firmwareRuns)
    .where(eq(firmwareRuns.deviceId, v.deviceId))
    .orderBy(desc(firmwareRuns.lastSeenAt), desc(firmwareRuns.firstSeenAt))
    .limit(1),
);

/** A handset's firmware runs, newest first. */
export async function firmwareRunsOf(db: Db, deviceId: string, limit = 100): Promise<FirmwareRunRow[]> {
  return db
    .select()
    .from(firmwareRuns)
    .where(eq(firmwareRuns.deviceId, deviceId))
    .orderBy(desc(firmwareRuns.lastSeenAt), desc(firmwareRuns.firstSeenAt))
    .limit(limit);
}

/** Moves the start of a handset's first run back to `at` (the demo dates its history back). */
export async function backdateFirstFirmwareRun(db: Db, deviceId: string, at: number): Promise<void> {
  const [first] = await db
    .select()
    .from(firmwareRuns)
    .where(eq(firmwareRuns.deviceId, deviceId))
    .orderBy(asc(firmwareRuns.firstSeenAt))
    .limit(1);
  if (first && first.firstSeenAt > at)
    await db.update(firmwareRuns).set({ firstSeenAt: at }).where(eq(firmwareRuns.id, first.id));
}

/**
 * Runs of `firmware` that overlap [from, to] (ms), newest first, with their handset; `limit`
 * rows at most. Every index entry of the version is read from its first report up to `to`.
 */
export async function firmwareRunsBetween(
  db: Db,
  q: { firmware: string; from: number; to: number; limit: number },
): Promise<
  Array<
    FirmwareRunRow & { devId: string; model: string | null; manufacturer: string | null; subscriberId: string | null }
  >
> {
  return db
    .select({
      id: firmwareRuns.id,
      deviceId: firmwareRuns.deviceId,
      firmware: firmwareRuns.firmware,
      firstSeenAt: firmwareRuns.firstSeenAt,
      lastSeenAt: firmwareRuns.lastSeenAt,
      devId: devices.devId,
      model: devices.model,
      manufacturer: devices.manufacturer,
      subscriberId: devices.subscriberId,
    })
    .from(firmwareRuns)
    .innerJoin(devices, eq(devices.id, firmwareRuns.deviceId))
    .where(
      and(
        eq(firmwareRuns.firmware, q.firmware),
        lte(firmwareRuns.firstSeenAt, q.to),
        gte(firmwareRuns.lastSeenAt, q.from),
      ),
    )
    .orderBy(desc(firmwareRuns.lastSeenAt), desc(firmwareRuns.id))
    .limit(q.limit);
}

/** The firmware versions ever reported, most handsets first (what the search offers). */
export async function knownFirmware(db: Db, limit = 200): Promise<Array<{ firmware: string; handsets: number }>> {
  return db
    .select({
      firmware: firmwareRuns.firmware,
      handsets: sql<number>`count(distinct ${firmwareRuns.deviceId})`.mapWith(Number),
    })
    .from(firmwareRuns)
    .groupBy(firmwareRuns.firmware)
    .orderBy(desc(sql`count(distinct ${firmwareRuns.deviceId})`), asc(firmwareRuns.firmware))
    .limit(limit);
}
