import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, msisdns, subscribers } from '../schema';
import { prepared } from './prepared';

export type DeviceRow = typeof devices.$inferSelect;
export type NewDevice = typeof devices.$inferInsert;

export function getDeviceByDevId(db: Db, devId: string): DeviceRow | undefined {
  return prepared(db).deviceByDevId.get({ devId });
}

export function getDevice(db: Db, id: string): DeviceRow | undefined {
  return db.select().from(devices).where(eq(devices.id, id)).get();
}

/**
 * Creates or updates a device (matched by DevId), creating its subscriber and MSISDN
 * when named. One transaction: a provisioning either lands whole or not at all.
 */
export function upsertDevice(
  db: Db,
  device: Omit<NewDevice, 'id' | 'subscriberId'>,
  owner?: { subscriberName?: string; msisdn?: string; email?: string },
): DeviceRow {
  return db.transaction((tx) => {
    let subscriberId: string | undefined;
    if (owner?.msisdn) {
      subscriberId = tx.select().from(msisdns).where(eq(msisdns.msisdn, owner.msisdn)).get()?.subscriberId;
    }
    if (!subscriberId && (owner?.subscriberName || owner?.msisdn)) {
      subscriberId = tx.insert(subscribers).values({ name: owner.subscriberName ?? owner.msisdn!, email: owner.email ?? null }).returning().get().id;
      if (owner.msisdn) tx.insert(msisdns).values({ msisdn: owner.msisdn, subscriberId }).run();
    }
    if (subscriberId && owner?.email) tx.update(subscribers).set({ email: owner.email }).where(eq(subscribers.id, subscriberId)).run();
    const existing = tx.select().from(devices).where(eq(devices.devId, device.devId)).get();
    if (existing) {
      return tx.update(devices)
        .set({ ...device, ...(subscriberId ? { subscriberId } : {}) })
        .where(eq(devices.id, existing.id)).returning().get();
    }
    return tx.insert(devices).values({ ...device, subscriberId }).returning().get();
  });
}

export function updateDevice(db: Db, id: string, patch: Partial<Omit<NewDevice, 'id'>>): void {
  db.update(devices).set(patch).where(eq(devices.id, id)).run();
}

export function listDevices(db: Db, limit = 100): DeviceRow[] {
  return db.select().from(devices).limit(limit).all();
}
