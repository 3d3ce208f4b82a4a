import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { localBackups } from '../schema';

export type LocalBackupRow = typeof localBackups.$inferSelect;

/** Records a local backup as the handset reported it (a second report of the same id updates it). */
export async function upsertLocalBackup(
  db: Db,
  row: Omit<typeof localBackups.$inferInsert, 'id' | 'reportedAt'>,
): Promise<LocalBackupRow> {
  const values = { ...row, reportedAt: Date.now(), goneAt: null };
  return (
    await db
      .insert(localBackups)
      .values(values)
      .onConflictDoUpdate({ target: [localBackups.deviceId, localBackups.localId], set: values })
      .returning()
  )[0]!;
}

export async function listLocalBackups(db: Db, deviceId: string): Promise<LocalBackupRow[]> {
  return db.select().from(localBackups).where(eq(localBackups.deviceId, deviceId)).orderBy(desc(localBackups.takenAt));
}

export async function getLocalBackup(db: Db, deviceId: string, localId: string): Promise<LocalBackupRow | undefined> {
  return (
    await db
      .select()
      .from(localBackups)
      .where(and(eq(localBackups.deviceId, deviceId), eq(localBackups.localId, localId)))
      .limit(1)
  )[0];
}

/** Forgets every local backup a handset reported (the subscriber's erasure); how many went. */
export async function deleteLocalBackups(db: Db, deviceId: string): Promise<number> {
  return (await db.delete(localBackups).where(eq(localBackups.deviceId, deviceId)).returning({ id: localBackups.id }))
    .length;
}
