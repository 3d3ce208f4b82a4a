import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { localBackups } from '../schema';

export type LocalBackupRow = typeof localBackups.$inferSelect;

/** Records a local backup as the handset reported it (a second report of the same id updates it). */
export function upsertLocalBackup(db: Db, row: Omit<typeof localBackups.$inferInsert, 'id' | 'reportedAt'>): LocalBackupRow {
  const values = { ...row, reportedAt: Date.now(), goneAt: null };
  return db.insert(localBackups).values(values)
    .onConflictDoUpdate({ target: [localBackups.deviceId, localBackups.localId], set: values }).returning().get();
}

export function listLocalBackups(db: Db, deviceId: string): LocalBackupRow[] {
  return db.select().from(localBackups).where(eq(localBackups.deviceId, deviceId)).orderBy(desc(localBackups.takenAt)).all();
}

export function getLocalBackup(db: Db, deviceId: string, localId: string): LocalBackupRow | undefined {
  return db.select().from(localBackups).where(and(eq(localBackups.deviceId, deviceId), eq(localBackups.localId, localId))).get();
}

/** Forgets every local backup a handset reported (the subscriber's erasure); how many went. */
export function deleteLocalBackups(db: Db, deviceId: string): number {
  return db.delete(localBackups).where(eq(localBackups.deviceId, deviceId)).run().changes;
}
