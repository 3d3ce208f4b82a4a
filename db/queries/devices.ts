import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows } from '../sql';
import { prepared, preparedByShape } from '../prepared';
import { devices, msisdns, subscribers } from '../schema';
import { indexSubscriber } from './search';
import { idAfter } from './keyset';
import { firmwareKey } from '@/lib/devices/filter';

export type DeviceRow = typeof devices.$inferSelect;
export type NewDevice = typeof devices.$inferInsert;

/**
 * A write to devices with firmware_key beside firmware: the device list sorts and filters
 * firmware ranges on the key, so every write that sets one sets the other.
 */
function withFirmwareKey<T extends Partial<NewDevice>>(patch: T): T {
  return 'firmware' in patch ? { ...patch, firmwareKey: firmwareKey(patch.firmware) } : patch;
}

const byDevId = prepared((db, v: { devId: string }) =>
  db.select().from(devices).where(eq(devices.devId, v.devId)).limit(1),
);

export async function getDeviceByDevId(db: Db, devId: string): Promise<DeviceRow | undefined> {
  return (await byDevId(db, { devId }))[0];
}

const byId = prepared((db, v: { id: string }) => db.select().from(devices).where(eq(devices.id, v.id)).limit(1));

export async function getDevice(db: Db, id: string): Promise<DeviceRow | undefined> {
  return (await byId(db, { id }))[0];
}

/**
 * Creates or updates a device (matched by DevId), creating its subscriber and MSISDN
 * when named. One transaction: a provisioning either lands whole or not at all.
 */
export async function upsertDevice(
  db: Db,
  device: Omit<NewDevice, 'id' | 'subscriberId'>,
  owner?: { subscriberName?: string; msisdn?: string; email?: string },
): Promise<DeviceRow> {
  return db.transaction(async (tx) => {
    let subscriberId: string | undefined;
    if (owner?.msisdn) {
      subscriberId = (await tx.select().from(msisdns).where(eq(msisdns.msisdn, owner.msisdn)).limit(1))[0]
        ?.subscriberId;
    }
    if (!subscriberId && (owner?.subscriberName || owner?.msisdn)) {
      subscriberId = (
        await tx
          .insert(subscribers)
          .values({ name: owner.subscriberName ?? owner.msisdn!, email: owner.email ?? null })
          .returning()
      )[0]!.id;
      if (owner.msisdn) await tx.insert(msisdns).values({ msisdn: owner.msisdn, subscriberId });
    }
    if (subscriberId && owner?.email)
      await tx.update(subscribers).set({ email: owner.email }).where(eq(subscribers.id, subscriberId));
    const [existing] = await tx.select().from(devices).where(eq(devices.devId, device.devId)).limit(1);
    const [row] = existing
      ? await tx
          .update(devices)
          .set({ ...withFirmwareKey(device), ...(subscriberId ? { subscriberId } : {}) })
          .where(eq(devices.id, existing.id))
          .returning()
      : await tx
          .insert(devices)
          .values({ ...withFirmwareKey(device), subscriberId })
          .returning();
    // The search index, in the same transaction: the owner's terms (name, email, MSISDN, this
    // IMEI) and, for a handset that changed hands, the previous owner's (without it now).
    for (const id of new Set([row!.subscriberId, existing?.subscriberId])) if (id) await indexSubscriber(tx, id);
    return row!;
  });
}

/** The columns a DM message updates (only those given); a null leaves the column as it is. */
export async function updateDeviceAfterMessage(
  db: Db,
  id: string,
  patch: { lastSeenAt?: number; encoding?: 'xml' | 'wbxml'; clientNonce?: string; serverNonce?: string },
): Promise<void> {
  const set: Partial<Pick<NewDevice, 'lastSeenAt' | 'encoding' | 'clientNonce' | 'serverNonce'>> = {};
  if (patch.lastSeenAt !== undefined) set.lastSeenAt = patch.lastSeenAt;
  if (patch.encoding !== undefined) set.encoding = patch.encoding;
  if (patch.clientNonce !== undefined) set.clientNonce = patch.clientNonce;
  if (patch.serverNonce !== undefined) set.serverNonce = patch.serverNonce;
  if (!Object.keys(set).length) return;
  await afterMessage(db, { ...set, deviceId: id });
}

const afterMessage = preparedByShape(
  (
    db,
    v: Partial<Pick<NewDevice, 'lastSeenAt' | 'encoding' | 'clientNonce' | 'serverNonce'>> & { deviceId: string },
  ) => {
    const { deviceId, ...set } = v;
    return db.update(devices).set(set).where(eq(devices.id, deviceId));
  },
);

export async function updateDevice(db: Db, id: string, given: Partial<Omit<NewDevice, 'id'>>): Promise<void> {
  const patch = withFirmwareKey(given);
  // Only a new owner or DevId changes what the search index holds; the DM path never sets either.
  if (!('subscriberId' in patch) && !('devId' in patch)) {
    await db.update(devices).set(patch).where(eq(devices.id, id));
    return;
  }
  await db.transaction(async (tx) => {
    const before = await getDevice(tx, id);
    await tx.update(devices).set(patch).where(eq(devices.id, id));
    for (const s of new Set([before?.subscriberId, (await getDevice(tx, id))?.subscriberId]))
      if (s) await indexSubscriber(tx, s);
  });
}

/** `row` as updateDevice(`patch`) leaves it, for a caller that commits the update later (DM-path fields only). */
export function patchedDevice(
  row: DeviceRow,
  patch: Partial<Omit<NewDevice, 'id' | 'subscriberId' | 'devId'>>,
): DeviceRow {
  return { ...row, ...withFirmwareKey(patch) } as DeviceRow;
}

/** The devices of these ids (in no order); ids without a device are left out. */
export async function getDevicesByIds(db: Db, ids: readonly string[]): Promise<DeviceRow[]> {
  return ids.length
    ? db
        .select()
        .from(devices)
        .where(inArray(devices.id, [...ids]))
    : [];
}

/** Devices in id order, `limit` of them after `afterId` (keyset paging). */
export async function listDevices(db: Db, limit = 100, afterId?: string): Promise<DeviceRow[]> {
  return db.select().from(devices).where(idAfter(devices.id, afterId)).orderBy(devices.id).limit(limit);
}

/**
 * Sets firmware_key on rows written before it existed (the migration that added it could not
 * compute it: the key is TypeScript's), a page at a time so a million handsets never hold one
 * long transaction. Idempotent: a database with none left costs one indexed look-up.
 */
export async function backfillFirmwareKeys(db: Db, page = 2000): Promise<number> {
  let done = 0;
  for (;;) {
    const todo = await rows<{ id: string; firmware: string }>(
      db,
      sql`select id, firmware from devices where firmware_key is null and firmware is not null and trim(firmware) <> '' limit ${page}`,
    );
    if (!todo.length) return done;
    await db.transaction(async (tx) => {
      for (const d of todo)
        await exec(tx, sql`update devices set firmware_key = ${firmwareKey(d.firmware)} where id = ${d.id}`);
    });
    done += todo.length;
  }
}
