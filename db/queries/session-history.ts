/**
 * A handset's DM sessions as history: what happened in them, for people reading it later
 * (`rewind device show`). The session engine's own reads and writes are in sessions.ts.
 */
import { desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { dmSessions } from '../schema';

/** Notes how authentication changed in a session (see dm_sessions.auth_change). */
export async function recordAuthChange(db: Db, sessionRowId: string, change: string): Promise<void> {
  await db.update(dmSessions).set({ authChange: change }).where(eq(dmSessions.id, sessionRowId));
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
