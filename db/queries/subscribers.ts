import { asc, count, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec } from '../sql';
import { devices, jobs, msisdns, snapshots, subscribers } from '../schema';
import type { DeviceRow } from './devices';
import { indexSubscriber } from './search';
import { chunks } from './chunks';
import { toJob, type JobRow } from './jobs';

export type SubscriberRow = typeof subscribers.$inferSelect;

export interface SubscriberSummary extends SubscriberRow {
  msisdns: string[];
  devices: number;
}

async function withDetails(db: Db, rows: SubscriberRow[]): Promise<SubscriberSummary[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const numbers = new Map<string, string[]>();
  for (const m of await db
    .select()
    .from(msisdns)
    .where(inArray(msisdns.subscriberId, ids))
    .orderBy(asc(msisdns.msisdn))) {
    (numbers.get(m.subscriberId) ?? numbers.set(m.subscriberId, []).get(m.subscriberId)!).push(m.msisdn);
  }
  const counts = new Map(
    (
      await db
        .select({ id: devices.subscriberId, n: count() })
        .from(devices)
        .where(inArray(devices.subscriberId, ids))
        .groupBy(devices.subscriberId)
    ).map((r) => [r.id, r.n] as const),
  );
  return rows.map((r) => ({ ...r, msisdns: numbers.get(r.id) ?? [], devices: counts.get(r.id) ?? 0 }));
}

export async function getSubscriber(db: Db, id: string): Promise<SubscriberSummary | undefined> {
  const [row] = await db.select().from(subscribers).where(eq(subscribers.id, id)).limit(1);
  return row ? (await withDetails(db, [row]))[0] : undefined;
}

export async function devicesOfSubscriber(db: Db, subscriberId: string): Promise<DeviceRow[]> {
  return db.select().from(devices).where(eq(devices.subscriberId, subscriberId)).orderBy(asc(devices.devId));
}

export async function countSubscribers(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(subscribers).limit(1))[0]?.n ?? 0;
}

/** One entry of a subscriber's recent activity: a job on one of their handsets, or a backup taken. */
export type ActivityEntry =
  | { type: 'job'; at: number; deviceId: string; devId: string; job: JobRow }
  | { type: 'snapshot'; at: number; deviceId: string; devId: string; snapshot: typeof snapshots.$inferSelect };

/** Jobs and snapshots of a subscriber's handsets, newest first (jobs by last change, snapshots by start). */
export async function subscriberActivity(db: Db, subscriberId: string, limit = 30): Promise<ActivityEntry[]> {
  const js = await db
    .select({ job: jobs, devId: devices.devId })
    .from(jobs)
    .innerJoin(devices, eq(devices.id, jobs.deviceId))
    .where(eq(devices.subscriberId, subscriberId))
    .orderBy(desc(jobs.updatedAt))
    .limit(limit);
  const ss = await db
    .select({ snapshot: snapshots, devId: devices.devId })
    .from(snapshots)
    .innerJoin(devices, eq(devices.id, snapshots.deviceId))
    .where(eq(devices.subscriberId, subscriberId))
    .orderBy(desc(snapshots.startedAt))
    .limit(limit);
  return [
    ...js.map((r): ActivityEntry => ({
      type: 'job',
      at: r.job.updatedAt,
      deviceId: r.job.deviceId,
      devId: r.devId,
      job: toJob(r.job),
    })),
    ...ss.map((r): ActivityEntry => ({
      type: 'snapshot',
      at: r.snapshot.completedAt ?? r.snapshot.startedAt,
      deviceId: r.snapshot.deviceId,
      devId: r.devId,
      snapshot: r.snapshot,
    })),
  ]
    .sort((a, b) => b.at - a.at)
    .slice(0, limit);
}

/** Renames a subscriber or changes their email; the search index follows in the same transaction. */
export async function updateSubscriber(
  db: Db,
  id: string,
  patch: { name?: string; email?: string | null },
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(subscribers).set(patch).where(eq(subscribers.id, id));
    await indexSubscriber(tx, id);
  });
}

/**
 * Deletes a subscriber and everything of their handsets: the device rows go, and with them
 * (by cascade) snapshots, jobs, DM sessions and their values, restore plans, consents, DS
 * accounts, stores, items and backups; DS sessions (no foreign key) explicitly. Portal users,
 * MSISDNs and search terms go with the subscriber. Audit entries stay: they hold ids, not content.
 */
export async function deleteSubscriberData(db: Db, subscriberId: string): Promise<{ devices: number }> {
  const ids = (await devicesOfSubscriber(db, subscriberId)).map((d) => d.id);
  for (const part of chunks(ids)) {
    const list = sql.join(
      part.map((id) => sql`${id}`),
      sql`, `,
    );
    await exec(
      db,
      sql`delete from ds_sessions where account_id in (select id from ds_accounts where device_id in (${list}))`,
    );
    await exec(db, sql`delete from devices where id in (${list})`);
  }
  await exec(db, sql`delete from subscribers where id = ${subscriberId}`);
  return { devices: ids.length };
}
