import { count, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dmSessions, snapshots } from '../schema';
import { blobStats } from './snapshots';

export function fleetStatus(db: Db) {
  const n = (status: 'active' | 'complete') =>
    db.select({ n: count() }).from(dmSessions).where(eq(dmSessions.status, status)).get()?.n ?? 0;
  return {
    devices: db.select({ n: count() }).from(devices).get()?.n ?? 0,
    sessionsComplete: n('complete'),
    sessionsActive: n('active'),
    snapshotsComplete: db.select({ n: count() }).from(snapshots).where(eq(snapshots.status, 'complete')).get()?.n ?? 0,
    stored: blobStats(db),
    recentBackups: db.select({
      id: snapshots.id, devId: devices.devId, trigger: snapshots.trigger, status: snapshots.status, entries: snapshots.entries,
      bytes: snapshots.bytes, newBytes: snapshots.newBytes, startedAt: snapshots.startedAt,
    }).from(snapshots).innerJoin(devices, eq(devices.id, snapshots.deviceId)).orderBy(desc(snapshots.startedAt)).limit(10).all(),
    recent: db.select({
      devId: devices.devId, manufacturer: devices.manufacturer, model: devices.model,
      firmware: devices.firmware, lastSeenAt: devices.lastSeenAt,
    }).from(devices).where(isNotNull(devices.lastSeenAt)).orderBy(desc(devices.lastSeenAt)).limit(10).all(),
  };
}

const DAY_MS = 86_400_000;

/** Backups started per UTC day since `since`, by status (the day is ms since the epoch of its midnight). */
export function backupsPerDay(db: Db, since: number): Array<{ day: number; status: string; n: number; bytes: number; newBytes: number }> {
  return db.$client.prepare(`
    select (started_at / ${DAY_MS}) * ${DAY_MS} as day, status, count(*) as n, sum(bytes) as bytes, sum(new_bytes) as newBytes
    from snapshots where started_at >= ? group by day, status order by day`).all(since) as Array<{ day: number; status: string; n: number; bytes: number; newBytes: number }>;
}

/** Why backups and restores failed since `since`: the reasons, most frequent first. */
export function failureReasons(db: Db, since: number, limit = 8): Array<{ kind: string; reason: string; n: number }> {
  return db.$client.prepare(`
    select kind, coalesce(nullif(trim(error), ''), 'no reason recorded') as reason, count(*) as n
    from jobs where status = 'failed' and updated_at >= ? group by kind, reason order by n desc, reason limit ?`).all(since, limit) as Array<{ kind: string; reason: string; n: number }>;
}

/** Devices by the age of their last complete backup: within a day, within a week, older, never. */
export function coverage(db: Db, now: number): { day: number; week: number; older: number; never: number } {
  const r = db.$client.prepare(`
    select sum(last >= ?) as day, sum(last < ? and last >= ?) as week, sum(last < ?) as older, sum(last is null) as never
    from (select (select max(s.completed_at) from snapshots s where s.device_id = d.id and s.status = 'complete') as last from devices d)`)
    .get(now - DAY_MS, now - DAY_MS, now - 7 * DAY_MS, now - 7 * DAY_MS) as Record<string, number | null>;
  return { day: r.day ?? 0, week: r.week ?? 0, older: r.older ?? 0, never: r.never ?? 0 };
}

/** Per category: devices with a complete backup of it in the last week. */
export function categoryCoverage(db: Db, now: number): Array<{ category: string; devices: number }> {
  return db.$client.prepare(`
    select c.value as category, count(distinct s.device_id) as devices
    from snapshots s, json_each(s.categories) c
    where s.status = 'complete' and s.completed_at >= ? group by c.value order by c.value`).all(now - 7 * DAY_MS) as Array<{ category: string; devices: number }>;
}

/**
 * What the store holds: the logical size of every complete backup kept (what a restore
 * could write back) against the bytes of distinct content actually stored.
 */
export function storageTotals(db: Db): { logical: number; stored: number; blobs: number } {
  const logical = (db.$client.prepare(`select coalesce(sum(bytes), 0) as n from snapshots where status = 'complete'`).get() as { n: number }).n;
  const b = db.$client.prepare(`select coalesce(sum(size), 0) as n, count(*) as c from blobs`).get() as { n: number; c: number };
  return { logical, stored: b.n, blobs: b.c };
}

/** Content added to the store per UTC day since `since`, and what was stored before it. */
export function storedPerDay(db: Db, since: number): { before: number; days: Array<{ day: number; bytes: number }> } {
  const before = (db.$client.prepare(`select coalesce(sum(size), 0) as n from blobs where created_at < ?`).get(since) as { n: number }).n;
  const days = db.$client.prepare(`
    select (created_at / ${DAY_MS}) * ${DAY_MS} as day, sum(size) as bytes from blobs where created_at >= ? group by day order by day`).all(since) as Array<{ day: number; bytes: number }>;
  return { before, days };
}
