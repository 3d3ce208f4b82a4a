import { asc, count, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, msisdns, subscribers } from '../schema';
import type { DeviceRow } from './devices';

export type SubscriberRow = typeof subscribers.$inferSelect;

export interface SubscriberSummary extends SubscriberRow {
  msisdns: string[];
  devices: number;
}

/** `s` for a LIKE pattern, with its own wildcards taken literally (ESCAPE '\'). */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Subscribers whose name or email starts with `text` (case-insensitive for ASCII, as
 * SQLite's LIKE is), or who have an MSISDN matching `digits`: an MSISDN that starts with
 * them (the international form, as stored) or ends with them less their leading zeros
 * (the national form: 07700 900123 finds 447700900123). Sorted by name.
 */
export function searchSubscribers(db: Db, q: { text?: string; digits?: string }, limit = 50): SubscriberSummary[] {
  const conds: SQL[] = [];
  if (q.text) {
    const p = `${likeLiteral(q.text)}%`;
    conds.push(sql`${subscribers.name} like ${p} escape '\\'`, sql`${subscribers.email} like ${p} escape '\\'`);
  }
  if (q.digits) {
    const suffix = q.digits.replace(/^0+/, '') || q.digits;
    conds.push(sql`exists (select 1 from ${msisdns} m where m.subscriber_id = ${subscribers.id} and (m.msisdn like ${`${q.digits}%`} or m.msisdn like ${`%${suffix}`}))`);
  }
  if (!conds.length) return [];
  const rows = db.select().from(subscribers).where(or(...conds)).orderBy(asc(subscribers.name), asc(subscribers.id)).limit(limit).all();
  return withDetails(db, rows);
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
