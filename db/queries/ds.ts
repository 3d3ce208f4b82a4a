import { and, desc, eq, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { column } from '../sql';
import { newestFirst, olderThan, type TimeKey } from './keyset';
import { dsAccounts, dsItems, dsSessions, dsSnapshots, dsStores, type DsStoreName } from '../schema';

export type DsAccountRow = typeof dsAccounts.$inferSelect;
export type DsItemRow = typeof dsItems.$inferSelect;
export type DsSessionRow = typeof dsSessions.$inferSelect;
export type DsSnapshotRow = typeof dsSnapshots.$inferSelect;
export type DsStoreRow = typeof dsStores.$inferSelect;

// Accounts -------------------------------------------------------------------------------

export async function insertDsAccount(
  db: Db,
  a: Pick<DsAccountRow, 'deviceId' | 'username' | 'derived' | 'auth'>,
): Promise<DsAccountRow> {
  return (await db.insert(dsAccounts).values(a).returning())[0]!;
}

export async function updateDsAccount(
  db: Db,
  id: string,
  patch: Partial<Pick<DsAccountRow, 'derived' | 'auth' | 'nonce' | 'deviceId'>>,
): Promise<void> {
  await db.update(dsAccounts).set(patch).where(eq(dsAccounts.id, id));
}

export async function getDsAccountByUser(db: Db, username: string): Promise<DsAccountRow | undefined> {
  return (await db.select().from(dsAccounts).where(eq(dsAccounts.username, username)).limit(1))[0];
}

export async function getDsAccount(db: Db, id: string): Promise<DsAccountRow | undefined> {
  return (await db.select().from(dsAccounts).where(eq(dsAccounts.id, id)).limit(1))[0];
}

export async function dsAccountsOfDevice(db: Db, deviceId: string): Promise<DsAccountRow[]> {
  return db.select().from(dsAccounts).where(eq(dsAccounts.deviceId, deviceId));
}

// Stores (anchors) -----------------------------------------------------------------------

export async function getDsStore(db: Db, accountId: string, store: DsStoreName): Promise<DsStoreRow | undefined> {
  return (
    await db
      .select()
      .from(dsStores)
      .where(and(eq(dsStores.accountId, accountId), eq(dsStores.store, store)))
      .limit(1)
  )[0];
}

export async function saveDsStore(db: Db, row: DsStoreRow): Promise<void> {
  await db
    .insert(dsStores)
    .values(row)
    .onConflictDoUpdate({
      target: [dsStores.accountId, dsStores.store],
      set: {
        clientAnchor: row.clientAnchor,
        serverAnchor: row.serverAnchor,
        clientUri: row.clientUri,
        syncedAt: row.syncedAt,
        lastSyncType: row.lastSyncType,
      },
    });
}

/** Forgets the anchors, so the next sync of this store must be slow (after a restore loads other content). */
export async function resetDsAnchors(db: Db, accountId: string): Promise<void> {
  await db.update(dsStores).set({ clientAnchor: null }).where(eq(dsStores.accountId, accountId));
}

// Items ----------------------------------------------------------------------------------

export async function dsItemsOf(db: Db, accountId: string, store?: DsStoreName): Promise<DsItemRow[]> {
  return db
    .select()
    .from(dsItems)
    .where(and(eq(dsItems.accountId, accountId), store ? eq(dsItems.store, store) : undefined))
    .orderBy(dsItems.id);
}

export async function getDsItem(
  db: Db,
  accountId: string,
  store: DsStoreName,
  id: string,
): Promise<DsItemRow | undefined> {
  return (
    await db
      .select()
      .from(dsItems)
      .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), eq(dsItems.id, id)))
      .limit(1)
  )[0];
}

export async function dsItemByLuid(
  db: Db,
  accountId: string,
  store: DsStoreName,
  luid: string,
): Promise<DsItemRow | undefined> {
  return (
    await db
      .select()
      .from(dsItems)
      .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), eq(dsItems.luid, luid)))
      .limit(1)
  )[0];
}

/** Items of a store by their ids (those that exist). */
export async function dsItemsByIds(
  db: Db,
  accountId: string,
  store: DsStoreName,
  ids: readonly string[],
): Promise<DsItemRow[]> {
  return inChunks(ids, (part) =>
    db
      .select()
      .from(dsItems)
      .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), inArray(dsItems.id, part))),
  );
}

/** Items of a store by their client LUIDs (those that exist). */
export async function dsItemsByLuids(
  db: Db,
  accountId: string,
  store: DsStoreName,
  luids: readonly string[],
): Promise<DsItemRow[]> {
  return inChunks(luids, (part) =>
    db
      .select()
      .from(dsItems)
      .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), inArray(dsItems.luid, part))),
  );
}

async function inChunks<T>(keys: readonly string[], query: (part: string[]) => Promise<T[]>): Promise<T[]> {
  const unique = [...new Set(keys)];
  const out: T[] = [];
  for (let i = 0; i < unique.length; i += 500) out.push(...(await query(unique.slice(i, i + 500))));
  return out;
}

/** Items of a store whose client LUID is not known: the ones a slow sync may match by content. */
export async function unmappedDsItems(db: Db, accountId: string, store: DsStoreName): Promise<DsItemRow[]> {
  return db
    .select()
    .from(dsItems)
    .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), isNull(dsItems.luid)));
}

export async function insertDsItem(
  db: Db,
  row: Omit<typeof dsItems.$inferInsert, 'id' | 'updatedAt'>,
): Promise<DsItemRow> {
  return (
    await db
      .insert(dsItems)
      .values({ ...row, updatedAt: Date.now() })
      .returning()
  )[0]!;
}

export async function updateDsItem(
  db: Db,
  id: string,
  patch: Partial<Omit<DsItemRow, 'id' | 'accountId' | 'store'>>,
): Promise<void> {
  await db
    .update(dsItems)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(dsItems.id, id));
}

export async function deleteDsItems(db: Db, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) await db.delete(dsItems).where(inArray(dsItems.id, ids.slice(i, i + 500)));
}

export async function clearDsStoreItems(db: Db, accountId: string, store: DsStoreName): Promise<void> {
  await db.delete(dsItems).where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store)));
}

/** Items with a change for the client: what a two-way or one-way-from-server sync sends. */
export async function pendingDsItems(db: Db, accountId: string, store: DsStoreName): Promise<DsItemRow[]> {
  return db
    .select()
    .from(dsItems)
    .where(and(eq(dsItems.accountId, accountId), eq(dsItems.store, store), isNotNull(dsItems.pending)))
    .orderBy(dsItems.id);
}

/** Every content hash the server's DS copies hold (garbage collection keeps them). */
export async function dsItemHashes(db: Db): Promise<string[]> {
  return column<string>(db, sql`select distinct hash from ds_items`);
}

// Sessions -------------------------------------------------------------------------------

export async function findActiveDsSession(
  db: Db,
  source: string,
  sessionId: string,
): Promise<DsSessionRow | undefined> {
  return (
    await db
      .select()
      .from(dsSessions)
      .where(and(eq(dsSessions.source, source), eq(dsSessions.sessionId, sessionId), eq(dsSessions.status, 'active')))
      .orderBy(desc(dsSessions.createdAt))
      .limit(1)
  )[0];
}

export async function insertDsSession(
  db: Db,
  row: Pick<DsSessionRow, 'source' | 'sessionId' | 'state'> & { accountId?: string | null },
): Promise<DsSessionRow> {
  return (await db.insert(dsSessions).values(row).returning())[0]!;
}

export async function updateDsSession(
  db: Db,
  id: string,
  patch: Partial<Pick<DsSessionRow, 'state' | 'status' | 'accountId'>>,
): Promise<void> {
  await db
    .update(dsSessions)
    .set({ ...patch, updatedAt: Date.now() })
    .where(eq(dsSessions.id, id));
}

/** Sessions a client abandoned: active rows untouched for `olderThanMs`, marked failed. */
export async function expireDsSessions(db: Db, now: number, olderThanMs: number): Promise<number> {
  return (
    await db
      .update(dsSessions)
      .set({ status: 'failed', updatedAt: now })
      .where(and(eq(dsSessions.status, 'active'), sql`${dsSessions.updatedAt} < ${now - olderThanMs}`))
      .returning({ id: dsSessions.id })
  ).length;
}

// Snapshots ------------------------------------------------------------------------------

export async function insertDsSnapshot(
  db: Db,
  row: Omit<typeof dsSnapshots.$inferInsert, 'id'>,
): Promise<DsSnapshotRow> {
  return (await db.insert(dsSnapshots).values(row).returning())[0]!;
}

export async function getDsSnapshot(db: Db, id: string): Promise<DsSnapshotRow | undefined> {
  return (await db.select().from(dsSnapshots).where(eq(dsSnapshots.id, id)).limit(1))[0];
}

export async function dsSnapshotsOf(db: Db, deviceId: string, limit = 100, after?: TimeKey): Promise<DsSnapshotRow[]> {
  return db
    .select()
    .from(dsSnapshots)
    .where(and(eq(dsSnapshots.deviceId, deviceId), olderThan(dsSnapshots.createdAt, dsSnapshots.id, after)))
    .orderBy(...newestFirst(dsSnapshots.createdAt, dsSnapshots.id))
    .limit(limit);
}

export async function dsSnapshotRoots(db: Db): Promise<Array<{ id: string; rootHash: string }>> {
  return db.select({ id: dsSnapshots.id, rootHash: dsSnapshots.rootHash }).from(dsSnapshots);
}

export async function deleteDsSnapshotsOf(db: Db, deviceId: string): Promise<number> {
  return (await db.delete(dsSnapshots).where(eq(dsSnapshots.deviceId, deviceId)).returning({ id: dsSnapshots.id }))
    .length;
}
