import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, msisdns, subscribers } from '../schema';
import { prepared } from './prepared';
import { indexSubscriber } from './search';

export type DeviceRow = typeof devices.$inferSelect;
export type NewDevice = typeof devices.$inferInsert;

export function getDeviceByDevId(db: Db, devId: string): DeviceRow | undefined {
  return prepared(db).deviceByDevId.get({ devId });
}

export function getDevice(db: Db, id: string): DeviceRow | undefined {
  return prepared(db).deviceById.get({ id });
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
    const row = existing
      ? tx.update(devices).set({ ...device, ...(subscriberId ? { subscriberId } : {}) }).where(eq(devices.id, existing.id)).returning().get()
      : tx.insert(devices).values({ ...device, subscriberId }).returning().get();
    // The search index, in the same transaction: the owner's terms (name, email, MSISDN, this
    // IMEI) and, for a handset that changed hands, the previous owner's (without it now).
    for (const id of new Set([row.subscriberId, existing?.subscriberId])) if (id) indexSubscriber(db, id);
    return row;
  });
}

/** The columns a DM message updates (only those given), through a statement prepared once. */
export function updateDeviceAfterMessage(
  db: Db, id: string, patch: { lastSeenAt?: number; encoding?: 'xml' | 'wbxml'; clientNonce?: string; serverNonce?: string },
): void {
  prepared(db).deviceAfterMessage.run({
    id, lastSeenAt: patch.lastSeenAt ?? null, encoding: patch.encoding ?? null, clientNonce: patch.clientNonce ?? null, serverNonce: patch.serverNonce ?? null,
  });
}

export function updateDevice(db: Db, id: string, patch: Partial<Omit<NewDevice, 'id'>>): void {
  // Only a new owner or DevId changes what the search index holds; the DM path never sets either.
  if (!('subscriberId' in patch) && !('devId' in patch)) {
    db.update(devices).set(patch).where(eq(devices.id, id)).run();
    return;
  }
  db.transaction(() => {
    const before = getDevice(db, id);
    db.update(devices).set(patch).where(eq(devices.id, id)).run();
    for (const s of new Set([before?.subscriberId, getDevice(db, id)?.subscriberId])) if (s) indexSubscriber(db, s);
  });
}

export function listDevices(db: Db, limit = 100): DeviceRow[] {
  return db.select().from(devices).limit(limit).all();
}
