import { and, desc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { auditEvents } from '../schema';

export function insertAudit(db: Db, e: { actor: string; action: string; deviceId?: string | null; details?: unknown }): void {
  db.insert(auditEvents).values({
    actor: e.actor, action: e.action, deviceId: e.deviceId ?? null,
    details: e.details === undefined ? null : JSON.stringify(e.details),
  }).run();
}

export function listAudit(db: Db, filter: { deviceId?: string; action?: string } = {}, limit = 200) {
  const where = and(
    filter.deviceId ? eq(auditEvents.deviceId, filter.deviceId) : undefined,
    filter.action ? eq(auditEvents.action, filter.action) : undefined,
  );
  return db.select().from(auditEvents).where(where).orderBy(desc(auditEvents.at)).limit(limit).all();
}
