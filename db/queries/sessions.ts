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

/** Sessions that never authenticated a device keeps at most (the newest); older ones go as new ones come. */
export const UNAUTHENTICATED_KEEP = 16;
/** An active session that never authenticated and has been quiet this long is given up. */
export const UNAUTHENTICATED_IDLE_MS = 3 * 60_000;

export function insertSession(db: Db, row: { deviceId: string; sessionId: string; state: string }): DmSessionRow {
  const inserted = prepared(db).insertSession.get({ ...row, id: crypto.randomUUID(), now: Date.now() })!;
  // Anyone who knows a DevId can open a session with a new SessionID and bad credentials:
  // without this, every such message would leave a row behind.
  if (!isAuthenticatedState(row.state)) reapUnauthenticatedSessions(db, row.deviceId, inserted.id);
  return inserted;
}

function isAuthenticatedState(state: string): boolean {
  try {
    return (JSON.parse(state) as { authenticated?: unknown }).authenticated === true;
  } catch {
    return false;
  }
}

const reapStatements = new WeakMap<object, { reap: { run(...a: unknown[]): { changes: number } } }>();

/**
 * Drops a device's sessions whose state never authenticated (the engine's `authenticated`
 * flag, set by the message that proved the handset's credentials, before any work is
 * queued: such a session has no jobs, no inventory, nothing to resume): active ones quiet
 * for UNAUTHENTICATED_IDLE_MS, and any beyond the newest UNAUTHENTICATED_KEEP. A handset's
 * own session between a challenge and its retry is seconds old and among the newest, and
 * an authenticated session, concurrent or not, is never touched (`keepId` neither).
 */
export function reapUnauthenticatedSessions(db: Db, deviceId: string, keepId: string, now = Date.now()): number {
  let s = reapStatements.get(db.$client);
  if (!s) {
    const never = `device_id = @deviceId and id != @keepId and (case when json_valid(state) then json_extract(state, '$.authenticated') end) = 0`;
    s = {
      reap: db.$client.prepare(`delete from dm_sessions where id in (
        select id from dm_sessions where ${never} and status = 'active' and updated_at < @idleBefore
        union
        select id from (select id from dm_sessions where ${never} order by updated_at desc, created_at desc limit -1 offset @keep)
      )`),
    };
    reapStatements.set(db.$client, s);
  }
  return s.reap.run({ deviceId, keepId, idleBefore: now - UNAUTHENTICATED_IDLE_MS, keep: UNAUTHENTICATED_KEEP - 1 }).changes;
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
  db.update(dmSessions).set({ status: 'failed', error, state: '{}', updatedAt: Date.now() }).where(eq(dmSessions.id, id)).run();
  // Nothing will read its state again (and it holds values read from the handset).
  db.$client.prepare('delete from dm_session_values where session_row_id = ?').run(id);
}

const valueStatements = new WeakMap<object, ReturnType<typeof prepareValueStatements>>();

function prepareValueStatements(db: Db) {
  return {
    hashes: db.$client.prepare('select hash from dm_session_values where session_row_id = ?').pluck(),
    insert: db.$client.prepare('insert or ignore into dm_session_values (session_row_id, hash, data) values (?, ?, ?)'),
    get: db.$client.prepare('select data from dm_session_values where session_row_id = ? and hash = ?').pluck(),
    remove: db.$client.prepare('delete from dm_session_values where session_row_id = ? and hash = ?'),
  };
}

function valuesOf(db: Db) {
  let s = valueStatements.get(db.$client);
  if (!s) {
    s = prepareValueStatements(db);
    valueStatements.set(db.$client, s);
  }
  return s;
}

/**
 * Makes the stored large values of a session exactly `values`: new ones are written (once:
 * a value already stored is not sent to the database again), ones the state left are dropped.
 */
export function syncSessionValues(db: Db, sessionRowId: string, values: ReadonlyMap<string, string>): void {
  const s = valuesOf(db);
  const stored = new Set(s.hashes.all(sessionRowId) as string[]);
  for (const [hash, data] of values) if (!stored.has(hash)) s.insert.run(sessionRowId, hash, data);
  for (const hash of stored) if (!values.has(hash)) s.remove.run(sessionRowId, hash);
}

export function getSessionValue(db: Db, sessionRowId: string, hash: string): string | undefined {
  return valuesOf(db).get.get(sessionRowId, hash) as string | undefined;
}
