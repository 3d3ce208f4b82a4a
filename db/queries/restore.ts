import { and, asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { consents, deviceLinks, restoreItems, restorePlans } from '../schema';
import { newestFirst, olderThan, type TimeKey } from './keyset';

export type RestorePlanRow = typeof restorePlans.$inferSelect;
export type RestoreItemRow = typeof restoreItems.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;

export async function insertPlan(
  db: Db,
  row: Omit<typeof restorePlans.$inferInsert, 'id' | 'createdAt'>,
): Promise<RestorePlanRow> {
  return (await db.insert(restorePlans).values(row).returning())[0]!;
}

export async function getPlan(db: Db, id: string): Promise<RestorePlanRow | undefined> {
  return (await db.select().from(restorePlans).where(eq(restorePlans.id, id)).limit(1))[0];
}

export async function setPlanJob(db: Db, id: string, jobId: string): Promise<void> {
  await db.update(restorePlans).set({ jobId }).where(eq(restorePlans.id, id));
}

export async function insertItems(
  db: Db,
  rows: Array<Omit<typeof restoreItems.$inferInsert, 'id' | 'updatedAt'>>,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await db.insert(restoreItems).values(rows.slice(i, i + 500));
}

export async function listItems(
  db: Db,
  jobId: string,
  statuses?: readonly RestoreItemRow['status'][],
): Promise<RestoreItemRow[]> {
  const where = statuses
    ? and(eq(restoreItems.jobId, jobId), inArray(restoreItems.status, [...statuses]))
    : eq(restoreItems.jobId, jobId);
  return db.select().from(restoreItems).where(where).orderBy(asc(restoreItems.seq));
}

export async function updateItem(
  db: Db,
  jobId: string,
  seq: number,
  patch: Partial<Pick<RestoreItemRow, 'status' | 'code' | 'detail' | 'op'>>,
): Promise<void> {
  await db
    .update(restoreItems)
    .set({ ...patch, updatedAt: Date.now() })
    .where(and(eq(restoreItems.jobId, jobId), eq(restoreItems.seq, seq)));
}

export async function setItemsStatus(
  db: Db,
  jobId: string,
  from: readonly RestoreItemRow['status'][],
  to: RestoreItemRow['status'],
): Promise<void> {
  await db
    .update(restoreItems)
    .set({ status: to, updatedAt: Date.now() })
    .where(and(eq(restoreItems.jobId, jobId), inArray(restoreItems.status, [...from])));
}

export async function insertConsent(db: Db, row: Omit<typeof consents.$inferInsert, 'id' | 'at'>): Promise<ConsentRow> {
  return (await db.insert(consents).values(row).returning())[0]!;
}

export async function listConsents(
  db: Db,
  filter: { deviceId?: string; subscriberId?: string; jobId?: string },
  limit = 200,
  after?: TimeKey,
): Promise<ConsentRow[]> {
  const where = and(
    filter.deviceId ? eq(consents.deviceId, filter.deviceId) : undefined,
    filter.subscriberId ? eq(consents.subscriberId, filter.subscriberId) : undefined,
    filter.jobId ? eq(consents.jobId, filter.jobId) : undefined,
    olderThan(consents.at, consents.id, after),
  );
  return db
    .select()
    .from(consents)
    .where(where)
    .orderBy(...newestFirst(consents.at, consents.id))
    .limit(limit);
}

export async function linkDevices(db: Db, fromDeviceId: string, toDeviceId: string, reason: string): Promise<void> {
  await db.insert(deviceLinks).values({ fromDeviceId, toDeviceId, reason }).onConflictDoNothing();
}

export async function linksOf(db: Db, deviceId: string) {
  const from = await db.select().from(deviceLinks).where(eq(deviceLinks.fromDeviceId, deviceId));
  return from.concat(await db.select().from(deviceLinks).where(eq(deviceLinks.toDeviceId, deviceId)));
}
