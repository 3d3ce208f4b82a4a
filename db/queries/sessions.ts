import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { dmSessions } from '../schema';
import { prepared } from './prepared';

export type DmSessionRow = typeof dmSessions.$inferSelect;

export function findActiveSession(db: Db, deviceId: string, sessionId: string): DmSessionRow | undefined {
  return prepared(db).activeSession.get({ deviceId, sessionId });
}

export function findSession(db: Db, deviceId: string, sessionId: string, status: DmSessionRow['status']): DmSessionRow | undefined {
  return db.select().from(dmSessions)
    .where(and(eq(dmSessions.deviceId, deviceId), eq(dmSessions.sessionId, sessionId), eq(dmSessions.status, status)))
    .get();
}

export function insertSession(db: Db, row: { deviceId: string; sessionId: string; state: string }): DmSessionRow {
  return db.insert(dmSessions).values(row).returning().get();
}

export function saveSession(
  db: Db,
  id: string,
  patch: { state: string; status: DmSessionRow['status']; bytesIn: number; bytesOut: number; error?: string | null },
): void {
  prepared(db).saveSession.run({ id, state: patch.state, status: patch.status, bytesIn: patch.bytesIn, bytesOut: patch.bytesOut, error: patch.error ?? null, now: Date.now() });
}

export function getSessionRow(db: Db, id: string): DmSessionRow | undefined {
  return prepared(db).sessionById.get({ id });
}

export function markSessionReady(db: Db, id: string, at: number): void {
  db.update(dmSessions).set({ readyAt: at }).where(eq(dmSessions.id, id)).run();
}

export function failSession(db: Db, id: string, error: string): void {
  db.update(dmSessions).set({ status: 'failed', error, updatedAt: Date.now() }).where(eq(dmSessions.id, id)).run();
  // Nothing will read its state again.
  db.$client.prepare('delete from dm_session_values where session_row_id = ?').run(id);
}

/** Stores large values of a session's state (each once: a value already there is kept). */
export function putSessionValues(db: Db, sessionRowId: string, values: ReadonlyMap<string, string>): void {
  if (!values.size) return;
  const stmt = db.$client.prepare('insert or ignore into dm_session_values (session_row_id, hash, data) values (?, ?, ?)');
  for (const [hash, data] of values) stmt.run(sessionRowId, hash, data);
}

export function getSessionValue(db: Db, sessionRowId: string, hash: string): string | undefined {
  return db.$client.prepare('select data from dm_session_values where session_row_id = ? and hash = ?').pluck().get(sessionRowId, hash) as string | undefined;
}

/** Values the state no longer refers to; a finished session keeps none. */
export function pruneSessionValues(db: Db, sessionRowId: string, keep: ReadonlySet<string>): void {
  const rows = db.$client.prepare('select hash from dm_session_values where session_row_id = ?').pluck().all(sessionRowId) as string[];
  const del = db.$client.prepare('delete from dm_session_values where session_row_id = ? and hash = ?');
  for (const h of rows) if (!keep.has(h)) del.run(sessionRowId, h);
}
