import { and, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { dsAccounts, dsItems, dsSessions, dsSnapshots, dsStores, type DsStoreName } from '../schema';

export type DsAccountRow = typeof dsAccounts.$inferSelect;
export type DsItemRow = typeof dsItems.$inferSelect;
export type DsSessionRow = typeof dsSessions.$inferSelect;
export type DsSnapshotRow = typeof dsSnapshots.$inferSelect;
export type DsStoreRow = typeof dsStores.$inferSelect;

// Accounts -------------------------------------------------------------------------------

export function insertDsAccount(db: Db, a: Pick<DsAccountRow, 'deviceId' | 'username' | 'derived' | 'auth'>): DsAccountRow {
  return db.insert(dsAccounts).values(a).returning().get();
}

export function updateDsAccount(db: Db, id: string, patch: Partial<Pick<DsAccountRow, 'derived' | 'auth' | 'nonce' | 'deviceId'>>): void {
  db.update(dsAccounts).set(patch).where(eq(dsAccounts.id, id)).run();
}

export function getDsAccountByUser(db: Db, username: string): DsAccountRow | undefined {
  return db.select().from(dsAccounts).where(eq(dsAccounts.username, username)).get();
}

export function getDsAccount(db: Db, id: string): DsAccountRow | undefined {
  return db.select().from(dsAccounts).where(eq(dsAccounts.id, id)).get();
}

export function dsAccountsOfDevice(db: Db, deviceId: string): DsAccountRow[] {
  return db.select().from(dsAccounts).where(eq(dsAccounts.deviceId, deviceId)).all();
}

// Stores (anchors) -----------------------------------------------------------------------

export function getDsStore(db: Db, accountId: string, store: DsStoreName): DsStoreRow | undefined {
  return db.select().from(dsStores).where(and(eq(dsStores.accountId, accountId), eq(dsStores.store, store))).get();
}

export function saveDsStore(db: Db, row: DsStoreRow): void {
  db.insert(dsStores).values(row).onConflictDoUpdate({
    target: [dsStores.accountId, dsStores.store],
    set: { clientAnchor: row.clientAnchor, serverAnchor: row.serverAnchor, clientUri: row.clientUri, syncedAt: row.syncedAt, lastSyncType: row.lastSyncType },
  }).run();
}

/** Forgets the anchors, so the next sync of this store must be slow (after a restore loads other content). */
export function resetDsAnchors(db: Db, accountId: string): void {
  db.update(dsStores).set({ clientAnchor: null }).where(eq(dsStores.accountId, accountId)).run();
}

// Items ----------------------------------------------------------------------------------

export function dsItemsOf(db: Db, accountId: string, store?: DsStoreName): DsItemRow[] {
  return db.select().from(dsItems)
    .where(and(eq(dsItems.accountId, accountId), store ? eq(dsItems.store, store) : undefined))
    .orderBy(dsItems.id).all();
}

export function getDsItem(db: Db, accountId: string, store: DsStoreName, id: string): DsItemRow | undefined {
  return db.select().from(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), eq(dsItems.id, id))).get();
}

export function dsItemByLuid(db: Db, accountId: string, store: DsStoreName, luid: string): DsItemRow | undefined {
  return db.select().from(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), eq(dsItems.luid, luid))).get();
}

/** Items of a store whose client LUID is not known: the ones a slow sync may match by content. */
export function unmappedDsItems(db: Db, accountId: string, store: DsStoreName): DsItemRow[] {
  return db.select().from(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), isNull(dsItems.luid))).all();
}

export function insertDsItem(db: Db, row: Omit<typeof dsItems.$inferInsert, 'id' | 'updatedAt'>): DsItemRow {
  return db.insert(dsItems).values({ ...row, updatedAt: Date.now() }).returning().get();
}

export function updateDsItem(db: Db, id: string, patch: Partial<Omit<DsItemRow, 'id' | 'accountId' | 'store'>>): void {
  db.update(dsItems).set({ ...patch, updatedAt: Date.now() }).where(eq(dsItems.id, id)).run();
}

export function deleteDsItems(db: Db, ids: readonly string[]): void {
  for (let i = 0; i < ids.length; i += 500) db.delete(dsItems).where(inArray(dsItems.id, ids.slice(i, i + 500))).run();
}

export function clearDsStoreItems(db: Db, accountId: string, store: DsStoreName): void {
  db.delete(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store))).run();
}

/** Items with a change for the client: what a two-way or one-way-from-server sync sends. */
export function pendingDsItems(db: Db, accountId: string, store: DsStoreName): DsItemRow[] {
  return db.select().from(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), isNotNull(dsItems.pending))).orderBy(dsItems.id).all();
}

/** Every content hash the server's DS copies hold (garbage collection keeps them). */
export function dsItemHashes(db: Db): string[] {
  return db.$client.prepare('select distinct hash from ds_items').pluck().all() as string[];
}

// Sessions -------------------------------------------------------------------------------

export function findActiveDsSession(db: Db, source: string, sessionId: string): DsSessionRow | undefined {
  return db.select().from(dsSessions)
    .where(and(eq(dsSessions.source, source), eq(dsSessions.sessionId, sessionId), eq(dsSessions.status, 'active')))
    .orderBy(desc(dsSessions.createdAt)).get();
}

export function insertDsSession(db: Db, row: Pick<DsSessionRow, 'source' | 'sessionId' | 'state'> & { accountId?: string | null }): DsSessionRow {
  return db.insert(dsSessions).values(row).returning().get();
}

export function updateDsSession(db: Db, id: string, patch: Partial<Pick<DsSessionRow, 'state' | 'status' | 'accountId'>>): void {
  db.update(dsSessions).set({ ...patch, updatedAt: Date.now() }).where(eq(dsSessions.id, id)).run();
}

/** Sessions a client abandoned: active rows untouched for `olderThanMs`, marked failed. */
export function expireDsSessions(db: Db, now: number, olderThanMs: number): number {
  return db.update(dsSessions).set({ status: 'failed', updatedAt: now })
    .where(and(eq(dsSessions.status, 'active'), sql`${dsSessions.updatedAt} < ${now - olderThanMs}`)).run().changes;
}

// Snapshots ------------------------------------------------------------------------------

export function insertDsSnapshot(db: Db, row: Omit<typeof dsSnapshots.$inferInsert, 'id'>): DsSnapshotRow {
  return db.insert(dsSnapshots).values(row).returning().get();
}

export function getDsSnapshot(db: Db, id: string): DsSnapshotRow | undefined {
  return db.select().from(dsSnapshots).where(eq(dsSnapshots.id, id)).get();
}

export function dsSnapshotsOf(db: Db, deviceId: string, limit = 100): DsSnapshotRow[] {
  return db.select().from(dsSnapshots).where(eq(dsSnapshots.deviceId, deviceId)).orderBy(desc(dsSnapshots.createdAt), desc(dsSnapshots.id)).limit(limit).all();
}

export function dsSnapshotRoots(db: Db): Array<{ id: string; rootHash: string }> {
  return db.select({ id: dsSnapshots.id, rootHash: dsSnapshots.rootHash }).from(dsSnapshots).all();
}

export function deleteDsSnapshotsOf(db: Db, deviceId: string): number {
  return db.delete(dsSnapshots).where(eq(dsSnapshots.deviceId, deviceId)).run().changes;
}
