/**
 * A handset's sessions as history: what happened in them, for people reading it later (the
 * device page, the portal, `rewind device show`). The session engine's own reads and writes
 * are in sessions.ts.
 */
import { and, desc, eq, inArray, isNull, lt, ne, notLike, or } from 'drizzle-orm';
import type { Db } from '../client';
import { deviceAttempts, dmSessions, dsAccounts, dsSessions } from '../schema';

/** Notes how authentication changed in a session (see dm_sessions.auth_change). */
export async function recordAuthChange(db: Db, sessionRowId: string, change: string): Promise<void> {
  await db.update(dmSessions).set({ authChange: change }).where(eq(dmSessions.id, sessionRowId));
}

/** Notes what opened a session: the handset by itself, or a Package #0. */
export async function recordSessionStart(db: Db, sessionRowId: string, initiator: 'client' | 'server'): Promise<void> {
  await db.update(dmSessions).set({ initiator }).where(eq(dmSessions.id, sessionRowId));
}

/** Notes how a session ended when not plainly (the engine's SessionEndReason). */
export async function recordSessionEnd(db: Db, sessionRowId: string, reason: string): Promise<void> {
  await db.update(dmSessions).set({ endReason: reason }).where(eq(dmSessions.id, sessionRowId));
}

/** A device's latest sessions, newest first, without their state. */
export async function recentSessions(db: Db, deviceId: string, limit = 10) {
  return db
    .select({
      sessionId: dmSessions.sessionId,
      status: dmSessions.status,
      messages: dmSessions.messages,
      error: dmSessions.error,
      authChange: dmSessions.authChange,
      createdAt: dmSessions.createdAt,
      updatedAt: dmSessions.updatedAt,
    })
    .from(dmSessions)
    .where(eq(dmSessions.deviceId, deviceId))
    .orderBy(desc(dmSessions.createdAt), desc(dmSessions.updatedAt))
    .limit(limit);
}

export type SessionHistoryRow = Awaited<ReturnType<typeof recentSessions>>[number];

/**
 * A device's DM sessions for its history, newest first. A session whose handset never proved
 * who it is is left out: its failed authentication is in device_attempts (and such rows are
 * reaped), so it is told once.
 */
export async function dmSessionHistory(db: Db, deviceId: string, limit = 200) {
  return db
    .select({
      id: dmSessions.id,
      sessionId: dmSessions.sessionId,
      status: dmSessions.status,
      messages: dmSessions.messages,
      bytesIn: dmSessions.bytesIn,
      bytesOut: dmSessions.bytesOut,
      error: dmSessions.error,
      authChange: dmSessions.authChange,
      initiator: dmSessions.initiator,
      endReason: dmSessions.endReason,
      createdAt: dmSessions.createdAt,
      updatedAt: dmSessions.updatedAt,
    })
    .from(dmSessions)
    .where(
      and(
        eq(dmSessions.deviceId, deviceId),
        notLike(dmSessions.state, '%"authenticated":false%'),
        or(isNull(dmSessions.endReason), ne(dmSessions.endReason, 'auth-failed')),
      ),
    )
    .orderBy(desc(dmSessions.createdAt), desc(dmSessions.id))
    .limit(limit);
}

export type DmSessionHistoryRow = Awaited<ReturnType<typeof dmSessionHistory>>[number];

/** The DS sessions of a device's DS accounts, newest first, without their state. */
export async function dsSessionHistory(db: Db, deviceId: string, limit = 200) {
  const accounts = await db.select({ id: dsAccounts.id }).from(dsAccounts).where(eq(dsAccounts.deviceId, deviceId));
  if (!accounts.length) return [];
  return db
    .select({
      id: dsSessions.id,
      sessionId: dsSessions.sessionId,
      status: dsSessions.status,
      createdAt: dsSessions.createdAt,
      updatedAt: dsSessions.updatedAt,
    })
    .from(dsSessions)
    .where(
      inArray(
        dsSessions.accountId,
        accounts.map((a) => a.id),
      ),
    )
    .orderBy(desc(dsSessions.createdAt), desc(dsSessions.id))
    .limit(limit);
}

export type DsSessionHistoryRow = Awaited<ReturnType<typeof dsSessionHistory>>[number];

/**
 * Drops a device's history older than `before`: its ended DM sessions, its DS accounts' ended
 * DS sessions, and its failed and refused attempts; an active session is never touched.
 * How many rows went.
 */
export async function pruneSessionHistory(db: Db, deviceId: string, before: number): Promise<number> {
  let n = (
    await db
      .delete(dmSessions)
      .where(and(eq(dmSessions.deviceId, deviceId), ne(dmSessions.status, 'active'), lt(dmSessions.updatedAt, before)))
      .returning({ id: dmSessions.id })
  ).length;
  n += (
    await db
      .delete(dsSessions)
      .where(
        and(
          ne(dsSessions.status, 'active'),
          lt(dsSessions.updatedAt, before),
          inArray(
            dsSessions.accountId,
            db.select({ id: dsAccounts.id }).from(dsAccounts).where(eq(dsAccounts.deviceId, deviceId)),
          ),
        ),
      )
      .returning({ id: dsSessions.id })
  ).length;
  n += (
    await db
      .delete(deviceAttempts)
      .where(and(eq(deviceAttempts.deviceId, deviceId), lt(deviceAttempts.lastAt, before)))
      .returning({ id: deviceAttempts.id })
  ).length;
  return n;
}
