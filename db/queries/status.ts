import { count, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import { devices, dmSessions, snapshots } from '../schema';
import { row, rows } from '../sql';
import { blobStats } from './snapshots';

export async function fleetStatus(db: Db) {
  const n = async (status: 'active' | 'complete') =>
    (await db.select({ n: count() }).from(dmSessions).where(eq(dmSessions.status, status)).limit(1))[0]?.n ?? 0;
  return {
    devices: (await db.select({ n: count() }).from(devices).limit(1))[0]?.n ?? 0,
    sessionsComplete: await n('complete'),
    sessionsActive: await n('active'),
    snapshotsComplete:
      (await db.select({ n: count() }).from(snapshots).where(eq(snapshots.status, 'complete')).limit(1))[0]?.n ?? 0,
    stored: await blobStats(db),
    recentBackups: await db
      .select({
        id: snapshots.id,
        deviceId: snapshots.deviceId,
        devId: devices.devId,
        trigger: snapshots.trigger,
        status: snapshots.status,
        entries: snapshots.entries,
        bytes: snapshots.bytes,
        newBytes: snapshots.newBytes,
        startedAt: snapshots.startedAt,
      })
      .from(snapshots)
      .innerJoin(devices, eq(devices.id, snapshots.deviceId))
      .orderBy(desc(snapshots.startedAt))
      .limit(10),
    recent: await db
      .select({
        id: devices.id,
        devId: devices.devId,
        manufacturer: devices.manufacturer,
        model: devices.model,
        firmware: devices.firmware,
        lastSeenAt: devices.lastSeenAt,
      })
      .from(devices)
      .where(isNotNull(devices.lastSeenAt))
      .orderBy(desc(devices.lastSeenAt))
      .limit(10),
  };
}

const DAY_MS = 86_400_000;

/** Backups started per UTC day since `since`, by status (the day is ms since the epoch of its midnight). */
export async function backupsPerDay(
  db: Db,
  since: number,
): Promise<Array<{ day: number; status: string; n: number; bytes: number; newBytes: number }>> {
  return rows(
    db,
    sql`
    select (started_at / ${sql.raw(String(DAY_MS))}) * ${sql.raw(String(DAY_MS))} as day, status, count(*) as n, sum(bytes) as bytes, sum(new_bytes) as "newBytes"
    from snapshots where started_at >= ${since} group by day, status order by day`,
  );
}

/** Why backups and restores failed since `since`: the reasons, most frequent first. */
export async function failureReasons(
  db: Db,
  since: number,
  limit = 8,
): Promise<Array<{ kind: string; reason: string; n: number }>> {
  return rows(
    db,
    sql`
    select kind, coalesce(nullif(trim(error), ''), 'no reason recorded') as reason, count(*) as n
    from jobs where status = 'failed' and updated_at >= ${since} group by kind, reason order by n desc, reason limit ${limit}`,
  );
}

/** Devices by the age of their last complete backup: within a day, within a week, older, never. */
export async function coverage(
  db: Db,
  now: number,
): Promise<{ day: number; week: number; older: number; never: number }> {
  const day = now - DAY_MS;
  const week = now - 7 * DAY_MS;
  const r = await row<Record<string, number | null>>(
    db,
    sql`
    select sum(case when last >= ${day} then 1 else 0 end) as day,
      sum(case when last < ${day} and last >= ${week} then 1 else 0 end) as week,
      sum(case when last < ${week} then 1 else 0 end) as older,
      sum(case when last is null then 1 else 0 end) as never
    from (select (select max(s.completed_at) from snapshots s where s.device_id = d.id and s.status = 'complete') as last from devices d) as t`,
  );
  return { day: r?.day ?? 0, week: r?.week ?? 0, older: r?.older ?? 0, never: r?.never ?? 0 };
}

/** Per category: devices with a complete backup of it in the last week. */
export async function categoryCoverage(db: Db, now: number): Promise<Array<{ category: string; devices: number }>> {
  // The categories are a JSON array: each dialect's own function spreads it into rows (in
  // TypeScript it would mean reading a week of snapshots of the whole fleet).
  const each = isPg(db)
    ? sql`json_array_elements_text(s.categories::json) as c(value)`
    : sql`json_each(s.categories) c`;
  return rows(
    db,
    sql`
    select c.value as category, count(distinct s.device_id) as devices
    from snapshots s, ${each}
    where s.status = 'complete' and s.completed_at >= ${now - 7 * DAY_MS} group by c.value order by c.value`,
  );
}

/**
 * What the store holds: the logical size of every complete backup kept (what a restore
 * could write back) against the bytes of distinct content actually stored.
 */
export async function storageTotals(db: Db): Promise<{ logical: number; stored: number; blobs: number }> {
  const logical =
    (await row<{ n: number }>(db, sql`select coalesce(sum(bytes), 0) as n from snapshots where status = 'complete'`))
      ?.n ?? 0;
  const b = await row<{ n: number; c: number }>(db, sql`select coalesce(sum(size), 0) as n, count(*) as c from blobs`);
  return { logical, stored: b?.n ?? 0, blobs: b?.c ?? 0 };
}

/** Content added to the store per UTC day since `since`, and what was stored before it. */
export async function storedPerDay(
  db: Db,
  since: number,
): Promise<{ before: number; days: Array<{ day: number; bytes: number }> }> {
  const before =
    (await row<{ n: number }>(db, sql`select coalesce(sum(size), 0) as n from blobs where created_at < ${since}`))?.n ??
    0;
  const days = await rows<{ day: number; bytes: number }>(
    db,
    sql`
    select (created_at / ${sql.raw(String(DAY_MS))}) * ${sql.raw(String(DAY_MS))} as day, sum(size) as bytes from blobs where created_at >= ${since} group by day order by day`,
  );
  return { before, days };
}
