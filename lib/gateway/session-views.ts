/** A handset's DM sessions as people read them later: how each ended, and how authentication changed in it. */
import type { Db } from '@/db/client';
import { recentSessions, type SessionHistoryRow } from '@/db/queries/session-history';

export function publicDmSession(s: SessionHistoryRow) {
  return {
    sessionId: s.sessionId,
    status: s.status,
    messages: s.messages,
    /** Why it failed, in plain words (e.g. a scheme refused below DM_MIN_SERVER_AUTH). */
    error: s.error,
    /** How authentication changed in it (the server following the scheme the handset checks it with). */
    authChange: s.authChange,
    startedAt: s.createdAt,
    lastMessageAt: s.updatedAt,
  };
}

/** The device's latest DM sessions, newest first. */
export async function deviceDmSessions(db: Db, device: { id: string }, limit = 10) {
  return (await recentSessions(db, device.id, limit)).map(publicDmSession);
}
