import { asc, count, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, jobs, msisdns, snapshots, subscribers } from '../schema';
import type { DeviceRow } from './devices';
import { indexSubscriber } from './search';
import { chunks } from './chunks';

export type SubscriberRow = typeof subscribers.$inferSelect;

export interface SubscriberSummary extends SubscriberRow {
  msisdns: string[];
  devices: number;
}

function withDetails(db: Db, rows: SubscriberRow[]): SubscriberSummary[] {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const numbers = new Map<string, string[]>();
  for (const m of db.select().from(msisdns).where(inArray(msisdns.subscriberId, ids)).orderBy(asc(msisdns.msisdn)).all()) {
    (numbers.get(m.subscriberId) ?? numbers.set(m.subscriberId, []).get(m.subscriberId)!).push(m.msisdn);
  }
  const counts = new Map(
    db.select({ id: devices.subscriberId, n: count() }).from(devices).where(inArray(devices.subscriberId, ids)).groupBy(devices.subscriberId).all()
      .map((r) => [r.id, r.n] as const),
  );
  return rows.map((r) => ({ ...r, msisdns: numbers.get(r.id) ?? [], devices: counts.get(r.id) ?? 0 }));
}

export function getSubscriber(db: Db, id: string): SubscriberSummary | undefined {
  const row = db.select().from(subscribers).where(eq(subscribers.id, id)).get();
  return row ? withDetails(db, [row])[0] : undefined;
}

export function devicesOfSubscriber(db: Db, subscriberId: string): DeviceRow[] {
  return db.select().from(devices).where(eq(devices.subscriberId, subscriberId)).orderBy(asc(devices.devId)).all();
}

export function countSubscribers(db: Db): number {
  return db.select({ n: count() }).from(subscribers).get()?.n ?? 0;
}

/** One entry of a subscriber's recent activity: a job on one of their handsets, or a backup taken. */
export type ActivityEntry =
  | { type: 'job'; at: number; deviceId: string; devId: string; job: typeof jobs.$inferSelect }
  | { type: 'snapshot'; at: number; deviceId: string; devId: string; snapshot: typeof snapshots.$inferSelect };

/** Jobs and snapshots of a subscriber's handsets, newest first (jobs by last change, snapshots by start). */
export function subscriberActivity(db: Db, subscriberId: string, limit = 30): ActivityEntry[] {
  const js = db.select({ job: jobs, devId: devices.devId }).from(jobs).innerJoin(devices, eq(devices.id, jobs.deviceId))
    .where(eq(devices.subscriberId, subscriberId)).orderBy(desc(jobs.updatedAt)).limit(limit).all();
  const ss = db.select({ snapshot: snapshots, devId: devices.devId }).from(snapshots).innerJoin(devices, eq(devices.id, snapshots.deviceId))
    .where(eq(devices.subscriberId, subscriberId)).orderBy(desc(snapshots.startedAt)).limit(limit).all();
  return [
    ...js.map((r): ActivityEntry => ({ type: 'job', at: r.job.updatedAt, deviceId: r.job.deviceId, devId: r.devId, job: r.job })),
    ...ss.map((r): ActivityEntry => ({ type: 'snapshot', at: r.snapshot.completedAt ?? r.snapshot.startedAt, deviceId: r.snapshot.deviceId, devId: r.devId, snapshot: r.snapshot })),
  ].sort((a, b) => b.at - a.at).slice(0, limit);
}

/** Renames a subscriber or changes their email; the search index follows in the same transaction. */
export function updateSubscriber(db: Db, id: string, patch: { name?: string; email?: string | null }): void {
  db.transaction(() => {
    db.update(subscribers).set(patch).where(eq(subscribers.id, id)).run();
    indexSubscriber(db, id);
  });
}

/**
 * Deletes a subscriber and everything of their handsets: the device rows go, and with them
 * (by cascade) snapshots, jobs, DM sessions and their values, restore plans, consents, DS
 * accounts, stores, items and backups; DS sessions (no foreign key) explicitly. Portal users,
 * MSISDNs and search terms go with the subscriber. Audit entries stay: they hold ids, not content.
 */
export function deleteSubscriberData(db: Db, subscriberId: string): { devices: number } {
  const ids = devicesOfSubscriber(db, subscriberId).map((d) => d.id);
  const c = db.$client;
  for (const part of chunks(ids)) {
    const marks = part.map(() => '?').join(',');
    c.prepare(`delete from ds_sessions where account_id in (select id from ds_accounts where device_id in (${marks}))`).run(...part);
    c.prepare(`delete from devices where id in (${marks})`).run(...part);
  }
  c.prepare('delete from subscribers where id = ?').run(subscriberId);
  return { devices: ids.length };
}
