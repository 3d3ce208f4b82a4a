import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import { auditEvents, devices } from '../schema';

export type AuditRow = typeof auditEvents.$inferSelect;

export async function insertAudit(
  db: Db,
  e: { actor: string; action: string; deviceId?: string | null; details?: unknown },
): Promise<void> {
  await db.insert(auditEvents).values({
    actor: e.actor,
    action: e.action,
    deviceId: e.deviceId ?? null,
    details: e.details === undefined ? null : JSON.stringify(e.details),
  });
}

/**
 * Where the log ends now, to ask afterwards what was written since. SQLite: the rowid, which
 * only grows. PostgreSQL has no such column (and the ids are random): the time, which every
 * entry written afterwards has reached (`at` is Date.now() when it is written).
 */
export async function auditMark(db: Db): Promise<number> {
  if (isPg(db)) return Date.now();
  return (
    (
      await db
        .select({ n: sql<number>`coalesce(max(rowid), 0)` })
        .from(auditEvents)
        .limit(1)
    )[0]?.n ?? 0
  );
}

/** How many entries `actor` (or any of several) has written after `mark` (auditMark): did an action leave its record? */
export async function countAuditSince(db: Db, actor: string | readonly string[], mark: number): Promise<number> {
  const who = typeof actor === 'string' ? eq(auditEvents.actor, actor) : inArray(auditEvents.actor, [...actor]);
  const since = isPg(db) ? gte(auditEvents.at, mark) : sql`rowid > ${mark}`;
  return (
    (
      await db
        .select({ n: sql<number>`count(*)` })
        .from(auditEvents)
        .where(and(who, since))
        .limit(1)
    )[0]?.n ?? 0
  );
}

export async function listAudit(db: Db, filter: { deviceId?: string; action?: string } = {}, limit = 200) {
  const where = and(
    filter.deviceId ? eq(auditEvents.deviceId, filter.deviceId) : undefined,
    filter.action ? eq(auditEvents.action, filter.action) : undefined,
  );
  return db.select().from(auditEvents).where(where).orderBy(desc(auditEvents.at)).limit(limit);
}

/** A text filter: the exact value, or every value starting with `prefix`. */
export type TextMatch = { exact: string } | { prefix: string };

export interface AuditFilter {
  /** devices.id (the page turns a DevId into it). */
  deviceId?: string;
  actor?: TextMatch;
  action?: TextMatch;
}

/** Where a page of the log starts: strictly older than this event (newest first by `at`, then id). */
export interface AuditCursor {
  at: number;
  id: string;
}

function match(col: typeof auditEvents.actor | typeof auditEvents.action, m: TextMatch | undefined): SQL | undefined {
  if (!m) return undefined;
  if ('exact' in m) return eq(col, m.exact);
  // A range, not LIKE: it uses the (column, at) index and treats % and _ as themselves.
  return m.prefix ? and(gte(col, m.prefix), lt(col, `${m.prefix}\u{10ffff}`)) : undefined;
}

/**
 * The audit log, newest first, filtered by device, actor and action, a page at a time
 * (keyset on at, id: a page costs the same however deep it is). Each event carries its
 * device's DevId when the device still exists.
 */
export async function searchAudit(db: Db, filter: AuditFilter, opts: { before?: AuditCursor; limit: number }) {
  const b = opts.before;
  const where = and(
    filter.deviceId ? eq(auditEvents.deviceId, filter.deviceId) : undefined,
    match(auditEvents.actor, filter.actor),
    match(auditEvents.action, filter.action),
    b ? or(lt(auditEvents.at, b.at), and(eq(auditEvents.at, b.at), lt(auditEvents.id, b.id))) : undefined,
  );
  return db
    .select({
      id: auditEvents.id,
      at: auditEvents.at,
      actor: auditEvents.actor,
      action: auditEvents.action,
      deviceId: auditEvents.deviceId,
      devId: sql<string | null>`${devices.devId}`,
      details: auditEvents.details,
    })
    .from(auditEvents)
    .leftJoin(devices, eq(devices.id, auditEvents.deviceId))
    .where(where)
    .orderBy(desc(auditEvents.at), desc(auditEvents.id))
    .limit(opts.limit);
}

export type AuditEntry = Awaited<ReturnType<typeof searchAudit>>[number];
