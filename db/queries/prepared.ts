/**
 * Statements on the DM endpoint's path, prepared once per connection: building the SQL
 * of a query anew for every message cost more than running it.
 */
import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dmSessions } from '../schema';

function build(db: Db) {
  return {
    deviceByDevId: db.select().from(devices).where(eq(devices.devId, sql.placeholder('devId'))).prepare(),
    activeSession: db.select().from(dmSessions).where(and(
      eq(dmSessions.deviceId, sql.placeholder('deviceId')), eq(dmSessions.sessionId, sql.placeholder('sessionId')), eq(dmSessions.status, 'active'),
    )).prepare(),
    sessionById: db.select().from(dmSessions).where(eq(dmSessions.id, sql.placeholder('id'))).prepare(),
    saveSession: db.update(dmSessions).set({
      state: sql`${sql.placeholder('state')}`,
      status: sql`${sql.placeholder('status')}`,
      messages: sql`${dmSessions.messages} + 1`,
      bytesIn: sql`${dmSessions.bytesIn} + ${sql.placeholder('bytesIn')}`,
      bytesOut: sql`${dmSessions.bytesOut} + ${sql.placeholder('bytesOut')}`,
      error: sql`${sql.placeholder('error')}`,
      updatedAt: sql`${sql.placeholder('now')}`,
    }).where(eq(dmSessions.id, sql.placeholder('id'))).prepare(),
  };
}

const cache = new WeakMap<Db, ReturnType<typeof build>>();

export function prepared(db: Db): ReturnType<typeof build> {
  let s = cache.get(db);
  if (!s) {
    s = build(db);
    cache.set(db, s);
  }
  return s;
}
