import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { consents, deviceLinks, restoreItems, restorePlans } from '../schema';

export type RestorePlanRow = typeof restorePlans.$inferSelect;
export type RestoreItemRow = typeof restoreItems.$inferSelect;
export type ConsentRow = typeof consents.$inferSelect;

export function insertPlan(db: Db, row: Omit<typeof restorePlans.$inferInsert, 'id' | 'createdAt'>): RestorePlanRow {
  return db.insert(restorePlans).values(row).returning().get();
}

export function getPlan(db: Db, id: string): RestorePlanRow | undefined {
  return db.select().from(restorePlans).where(eq(restorePlans.id, id)).get();
}

export function setPlanJob(db: Db, id: string, jobId: string): void {
  db.update(restorePlans).set({ jobId }).where(eq(restorePlans.id, id)).run();
}

export function insertItems(db: Db, rows: Array<Omit<typeof restoreItems.$inferInsert, 'id' | 'updatedAt'>>): void {
  for (let i = 0; i < rows.length; i += 500) db.insert(restoreItems).values(rows.slice(i, i + 500)).run();
}

export function listItems(db: Db, jobId: string, statuses?: readonly RestoreItemRow['status'][]): RestoreItemRow[] {
  const where = statuses ? and(eq(restoreItems.jobId, jobId), inArray(restoreItems.status, [...statuses])) : eq(restoreItems.jobId, jobId);
  return db.select().from(restoreItems).where(where).orderBy(asc(restoreItems.seq)).all();
}

export function updateItem(db: Db, jobId: string, seq: number, patch: Partial<Pick<RestoreItemRow, 'status' | 'code' | 'detail' | 'op'>>): void {
  db.update(restoreItems).set({ ...patch, updatedAt: Date.now() }).where(and(eq(restoreItems.jobId, jobId), eq(restoreItems.seq, seq))).run();
}

export function setItemsStatus(db: Db, jobId: string, from: readonly RestoreItemRow['status'][], to: RestoreItemRow['status']): void {
  db.update(restoreItems).set({ status: to, updatedAt: Date.now() }).where(and(eq(restoreItems.jobId, jobId), inArray(restoreItems.status, [...from]))).run();
}

export function insertConsent(db: Db, row: Omit<typeof consents.$inferInsert, 'id' | 'at'>): ConsentRow {
  return db.insert(consents).values(row).returning().get();
}

export function listConsents(db: Db, filter: { deviceId?: string; subscriberId?: string; jobId?: string }, limit = 200): ConsentRow[] {
  const where = and(
    filter.deviceId ? eq(consents.deviceId, filter.deviceId) : undefined,
    filter.subscriberId ? eq(consents.subscriberId, filter.subscriberId) : undefined,
    filter.jobId ? eq(consents.jobId, filter.jobId) : undefined,
  );
  return db.select().from(consents).where(where).orderBy(desc(consents.at)).limit(limit).all();
}

export function linkDevices(db: Db, fromDeviceId: string, toDeviceId: string, reason: string): void {
  db.insert(deviceLinks).values({ fromDeviceId, toDeviceId, reason }).onConflictDoNothing().run();
}

export function linksOf(db: Db, deviceId: string) {
  return db.select().from(deviceLinks).where(eq(deviceLinks.fromDeviceId, deviceId)).all()
    .concat(db.select().from(deviceLinks).where(eq(deviceLinks.toDeviceId, deviceId)).all());
}
