import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
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

/** A text filter: the exact value, every value starting with `prefix`, or every value holding `contains` (any case). */
export type TextMatch = { exact: string } | { prefix: string } | { contains: string };

export interface AuditFilter {
  /** devices.id (the page turns a DevId into it). */
  deviceId?: string;
  actor?: TextMatch;
  action?: TextMatch;
  /** Events at or after this time (ms). */
  since?: number;
  /** Events before this time (ms). */
  until?: number;
}

/** Where a page of the log starts: strictly older than this event (newest first by `at`, then id). */
export interface AuditCursor {
  at: number;
  id: string;
}

function match(
  db: Db,
  col: typeof auditEvents.actor | typeof auditEvents.action,
  m: TextMatch | undefined,
): SQL | undefined {
  if (!m) return undefined;
  if ('exact' in m) return eq(col, m.exact);
  // Contains reads every event the other filters leave (the time index bounds it); instr or
  // strpos, not LIKE, so % and _ are themselves.
  if ('contains' in m) {
    if (!m.contains) return undefined;
    const needle = m.contains.toLowerCase();
    return isPg(db) ? sql`strpos(lower(${col}), ${needle}) > 0` : sql`instr(lower(${col}), ${needle}) > 0`;
  }
  // A range, not LIKE: it uses the (column, at) index and treats % and _ as themselves.
  return m.prefix ? and(gte(col, m.prefix), lt(col, `${m.prefix}\u{10ffff}`)) : undefined;
}

/**
 * The audit log, newest first, filtered by device, actor, action and time, a page at a time
 * (keyset on at, id: a page costs the same however deep it is): strictly older than `before`,
 * or (for the page of newer events) the `limit` events just newer than `after`, still newest
 * first. Each event carries its device's DevId when the device still exists.
 */
export async function searchAudit(
  db: Db,
  filter: AuditFilter,
  opts: { before?: AuditCursor; after?: AuditCursor; limit: number },
) {
  const b = opts.before;
  const a = opts.after;
  const where = and(
    filter.deviceId ? eq(auditEvents.deviceId, filter.deviceId) : undefined,
    match(db, auditEvents.actor, filter.actor),
    match(db, auditEvents.action, filter.action),
    filter.since !== undefined ? gte(auditEvents.at, filter.since) : undefined,
    filter.until !== undefined ? lt(auditEvents.at, filter.until) : undefined,
    b ? or(lt(auditEvents.at, b.at), and(eq(auditEvents.at, b.at), lt(auditEvents.id, b.id))) : undefined,
    a ? or(gt(auditEvents.at, a.at), and(eq(auditEvents.at, a.at), gt(auditEvents.id, a.id))) : undefined,
  );
  const rows = await db
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
    .orderBy(...(a ? [asc(auditEvents.at), asc(auditEvents.id)] : [desc(auditEvents.at), desc(auditEvents.id)]))
    .limit(opts.limit);
  return a ? rows.reverse() : rows;
}

export type AuditEntry = Awaited<ReturnType<typeof searchAudit>>[number];
