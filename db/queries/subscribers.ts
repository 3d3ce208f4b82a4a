import { asc, count, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, msisdns, subscribers } from '../schema';
import type { DeviceRow } from './devices';

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
