import { and, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { dmSessions, dmSessionValues } from '../schema';
import { column, exec, rows, value } from '../sql';
import { prepared, preparedByShape } from '../prepared';

export type DmSessionRow = typeof dmSessions.$inferSelect;

export async function findActiveSession(
  db: Db,
  deviceId: string,
  sessionId: string,
): Promise<DmSessionRow | undefined> {
  return (await bySessionId(db, { deviceId, sessionId, status: 'active' }))[0];
}

const bySessionId = prepared((db, v: { deviceId: string; sessionId: string; status: DmSessionRow['status'] }) =>
  db
    .select()
    .from(dmSessions)
    .where(
      and(eq(dmSessions.deviceId, v.deviceId), eq(dmSessions.sessionId, v.sessionId), eq(dmSessions.status, v.status)),
    )
    .limit(1),
);

export async function findSession(
  db: Db,
  deviceId: string,
  sessionId: string,
  status: DmSessionRow['status'],
): Promise<DmSessionRow | undefined> {
  return (await bySessionId(db, { deviceId, sessionId, status }))[0];
}

/** Sessions that never authenticated a device keeps at most (the newest); older ones go as new ones come. */
export const UNAUTHENTICATED_KEEP = 16;
/** An active session that never authenticated and has been quiet this long is given up. */
export const UNAUTHENTICATED_IDLE_MS = 3 * 60_000;

export async function insertSession(
  db: Db,
  // `id`: given when the row is referred to before it is written (in the same transaction).
  row: { id?: string; deviceId: string; sessionId: string; state: string; processId?: string | null },
): Promise<DmSessionRow> {
  const now = Date.now();
  const [inserted] = await db
    .insert(dmSessions)
    .values({ ...row, createdAt: now, updatedAt: now })
    .returning();
  // Anyone who knows a DevId can open a session with a new SessionID and bad credentials:
  // without this, every such message would leave a row behind.
  if (!isAuthenticatedState(row.state)) await reapUnauthenticatedSessions(db, row.deviceId, inserted!.id);
  return inserted!;
}

function isAuthenticatedState(state: string): boolean {
  try {
    return (JSON.parse(state) as { authenticated?: unknown }).authenticated === true;
  } catch {
    return false;
  }
}

/** The state says it never authenticated (its `authenticated` flag is false, not merely absent). */
function neverAuthenticated(state: string): boolean {
  try {
    const a = (JSON.parse(state) as { authenticated?: unknown } | null)?.authenticated;
    return a === false || a === 0;
  } catch {
    return false;
  }
}

/**
 * Drops a device's sessions whose state never authenticated (the engine's `authenticated`
 * flag, set by the message that proved the handset's credentials, before any work is
 * queued: such a session has no jobs, no inventory, nothing to resume): active ones quiet
 * for UNAUTHENTICATED_IDLE_MS, and any beyond the newest UNAUTHENTICATED_KEEP. A handset's
 * own session between a challenge and its retry is seconds old and among the newest, and
 * an authenticated session, concurrent or not, is never touched (`keepId` neither).
 *
 * The state is read in TypeScript (JSON functions differ between the databases); the LIKE
 * only narrows the rows to those that may hold the flag as JSON.stringify writes it.
 */
export async function reapUnauthenticatedSessions(
  db: Db,
  deviceId: string,
  keepId: string,
  now = Date.now(),
): Promise<number> {
  const idleBefore = now - UNAUTHENTICATED_IDLE_MS;
  const rows = await db
    .select({ id: dmSessions.id, state: dmSessions.state, status: dmSessions.status, updatedAt: dmSessions.updatedAt })
    .from(dmSessions)
    .where(
      and(
        eq(dmSessions.deviceId, deviceId),
        ne(dmSessions.id, keepId),
        sql`${dmSessions.state} like '%"authenticated":false%'`,
      ),
    )
    .orderBy(desc(dmSessions.updatedAt), desc(dmSessions.createdAt));
  const never = rows.filter((r) => neverAuthenticated(r.state));
  // keepId is one of the newest UNAUTHENTICATED_KEEP.
  const doomed = never
    .filter((r, i) => i >= UNAUTHENTICATED_KEEP - 1 || (r.status === 'active' && r.updatedAt < idleBefore))
    .map((r) => r.id);
  if (!doomed.length) return 0;
  return (await db.delete(dmSessions).where(inArray(dmSessions.id, doomed)).returning({ id: dmSessions.id })).length;
}

export async function saveSession(
  db: Db,
  id: string,
  patch: {
    state: string;
    status: DmSessionRow['status'];
    bytesIn: number;
    bytesOut: number;
    error?: string | null;
    /** The server process that handled this message (its heartbeat says whether it still runs). */
    processId?: string | null;
  },
): Promise<void> {
  await save(db, {
    id,
    state: patch.state,
    processId: patch.processId,
    status: patch.status,
    bytesIn: patch.bytesIn,
    bytesOut: patch.bytesOut,
    error: patch.error,
    updatedAt: Date.now(),
  });
}

// processId and error are set only when given (undefined: kept), so one statement per which of them are.
const save = preparedByShape(
  (
    db,
    v: {
      id: string;
      state: string;
      processId?: string | null;
      status: DmSessionRow['status'];
      bytesIn: number;
      bytesOut: number;
      error?: string | null;
      updatedAt: number;
    },
  ) =>
    db
      .update(dmSessions)
      .set({
        state: v.state,
        processId: v.processId,
        status: v.status,
        messages: sql`${dmSessions.messages} + 1`,
        bytesIn: sql`${dmSessions.bytesIn} + ${v.bytesIn}`,
        bytesOut: sql`${dmSessions.bytesOut} + ${v.bytesOut}`,
        // Kept unless given: an error a job met earlier in the session stays in its history.
        error: v.error,
        updatedAt: v.updatedAt,
      })
      .where(eq(dmSessions.id, v.id)),
);

const sessionRow = prepared((db, v: { id: string }) =>
  db.select().from(dmSessions).where(eq(dmSessions.id, v.id)).limit(1),
);

export async function getSessionRow(db: Db, id: string): Promise<DmSessionRow | undefined> {
  return (await sessionRow(db, { id }))[0];
}

const ready = prepared((db, v: { id: string; at: number }) =>
  db.update(dmSessions).set({ readyAt: v.at }).where(eq(dmSessions.id, v.id)),
);

export async function markSessionReady(db: Db, id: string, at: number): Promise<void> {
  await ready(db, { id, at });
}

/** What went wrong in a session that goes on (a job stopped by a key that does not open, the store unreachable). */
export async function noteSessionError(db: Db, id: string, error: string): Promise<void> {
  await db.update(dmSessions).set({ error }).where(eq(dmSessions.id, id));
}

export async function failSession(db: Db, id: string, error: string): Promise<void> {
  await db
    .update(dmSessions)
    .set({ status: 'failed', error, state: '{}', updatedAt: Date.now() })
    .where(eq(dmSessions.id, id));
  // Nothing will read its state again (and it holds values read from the handset).
  await db.delete(dmSessionValues).where(eq(dmSessionValues.sessionRowId, id));
}

/**
 * Makes the stored large values of a session exactly `values`: new ones are written (once:
 * a value already stored is not sent to the database again), ones the state left are dropped.
 */
export async function syncSessionValues(
  db: Db,
  sessionRowId: string,
  values: ReadonlyMap<string, string>,
): Promise<void> {
  const stored = new Set(
    await column<string>(db, sql`select hash from dm_session_values where session_row_id = ${sessionRowId}`),
  );
  for (const [hash, data] of values) {
    if (!stored.has(hash))
      await exec(
        db,
        sql`insert into dm_session_values (session_row_id, hash, data) values (${sessionRowId}, ${hash}, ${data}) on conflict do nothing`,
      );
  }
  for (const hash of stored) {
    if (!values.has(hash))
      await exec(db, sql`delete from dm_session_values where session_row_id = ${sessionRowId} and hash = ${hash}`);
  }
}

export async function getSessionValue(db: Db, sessionRowId: string, hash: string): Promise<string | undefined> {
  return value<string>(
    db,
    sql`select data from dm_session_values where session_row_id = ${sessionRowId} and hash = ${hash}`,
  );
}

/**
 * Active sessions whose last message was handled by a server process that has stopped: its
 * heartbeat lease (`process:<id>`) is gone or expired, and the session has been quiet at
 * least `quietMs` (a process stopped by SIGTERM gives its lease back at once, and its
 * handsets' next messages go to another process, which takes the session over).
 */
export async function sessionsOfStoppedProcesses(
  db: Db,
  quietMs: number,
  now = Date.now(),
  limit = 500,
): Promise<Array<{ id: string; processId: string }>> {
  return rows(
    db,
    sql`select id, process_id as "processId" from dm_sessions s
    where s.status = 'active' and s.process_id is not null and s.updated_at < ${now - quietMs}
      and not exists (select 1 from leases l where l.name = 'process:' || s.process_id and l.expires_at >= ${now})
    order by s.updated_at limit ${limit}`,
  );
}

/**
 * Ends a session its process left behind, with the reason; false when it is no longer that
 * process's (another process took its next message, or another reaper ended it first).
 */
export async function endStoppedSession(db: Db, id: string, processId: string, reason: string): Promise<boolean> {
  const ended = await db
    .update(dmSessions)
    .set({ status: 'failed', error: reason, state: '{}', updatedAt: Date.now() })
    .where(and(eq(dmSessions.id, id), eq(dmSessions.status, 'active'), eq(dmSessions.processId, processId)))
    .returning({ id: dmSessions.id });
  if (!ended.length) return false;
  // Nothing will read its state again (and it holds values read from the handset).
  await db.delete(dmSessionValues).where(eq(dmSessionValues.sessionRowId, id));
  return true;
}
