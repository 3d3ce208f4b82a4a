/**
 * The audit log as people read it: filters from a URL (the page and its CSV export share
 * them), cursors for paging, and CSV that is safe to open in a spreadsheet.
 */
import type { Db } from '@/db/client';
import { getDeviceByDevId } from '@/db/queries/devices';
import {
  insertAudit,
  searchAudit,
  type AuditCursor,
  type AuditEntry,
  type AuditFilter,
  type TextMatch,
} from '@/db/queries/audit';

export const AUDIT_PAGE_SIZE = 50;
/** An export is read in pages of this many events, so a large one never sits in memory whole. */
const EXPORT_BATCH = 1000;
/** The most events one export holds; filter further for more. */
export const AUDIT_EXPORT_MAX = 200_000;

export interface AuditQuery {
  devId?: string;
  actor?: string;
  action?: string;
  before?: string;
}

/** The filters as the form sends them (each trimmed; blank is no filter). */
export function auditQueryOf(params: Record<string, string | string[] | undefined> | URLSearchParams): AuditQuery {
  const get = (k: string) => {
    const v = params instanceof URLSearchParams ? params.get(k) : params[k];
    const s = (Array.isArray(v) ? v[0] : v)?.trim().slice(0, 256);
    return s || undefined;
  };
  const q: AuditQuery = {};
  for (const k of ['devId', 'actor', 'action', 'before'] as const) {
    const v = get(k);
    if (v) q[k] = v;
  }
  return q;
}

/** "backup.*" is every action starting "backup."; anything else matches exactly. */
export function textMatch(v: string | undefined): TextMatch | undefined {
  if (!v) return undefined;
  return v.endsWith('*') ? { prefix: v.slice(0, -1) } : { exact: v };
}

export function encodeCursor(e: Pick<AuditEntry, 'at' | 'id'>): string {
  return `${e.at}_${e.id}`;
}

export function decodeCursor(s: string | undefined): AuditCursor | undefined {
  const m = s ? /^(\d{1,16})_([0-9A-Za-z-]{1,64})$/.exec(s) : null;
  return m ? { at: Number(m[1]), id: m[2]! } : undefined;
}

/** The database filter; undefined when it can match nothing (a DevId no device has). */
export async function auditFilterOf(db: Db, q: AuditQuery): Promise<AuditFilter | undefined> {
  const f: AuditFilter = {};
  if (q.devId) {
    const d = await getDeviceByDevId(db, q.devId);
    if (!d) return undefined;
    f.deviceId = d.id;
  }
  const actor = textMatch(q.actor);
  const action = textMatch(q.action);
  if (actor) f.actor = actor;
  if (action) f.action = action;
  return f;
}

/** One page, newest first, and the cursor of the next (older) page when there is one. */
export async function auditPage(
  db: Db,
  q: AuditQuery,
  limit = AUDIT_PAGE_SIZE,
): Promise<{ rows: AuditEntry[]; next?: string }> {
  const f = await auditFilterOf(db, q);
  if (!f) return { rows: [] };
  const before = decodeCursor(q.before);
  const rows = await searchAudit(db, f, { limit: limit + 1, ...(before ? { before } : {}) });
  const page = rows.slice(0, limit);
  return rows.length > limit ? { rows: page, next: encodeCursor(page.at(-1)!) } : { rows: page };
}

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote or line break, quotes
 * doubled. A cell a spreadsheet would run as a formula (= + - @, or a tab or carriage
 * return before one) is prefixed with an apostrophe so it is shown as text.
 */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function csvLine(cells: Array<string | number | null | undefined>): string {
  return `${cells.map(csvCell).join(',')}\r\n`;
}

export const AUDIT_CSV_HEADER = ['at', 'actor', 'action', 'device', 'details'];

export function auditCsvLine(e: AuditEntry): string {
  return csvLine([new Date(e.at).toISOString(), e.actor, e.action, e.devId ?? e.deviceId, e.details]);
}

/** The whole filtered log as CSV lines, header first, newest first, read a batch at a time (cursor ignored). */
export async function* auditCsv(db: Db, q: AuditQuery): AsyncGenerator<string> {
  yield csvLine(AUDIT_CSV_HEADER);
  const f = await auditFilterOf(db, q);
  if (!f) return;
  let before: AuditCursor | undefined;
  for (let n = 0; n < AUDIT_EXPORT_MAX;) {
    const rows = await searchAudit(db, f, {
      limit: Math.min(EXPORT_BATCH, AUDIT_EXPORT_MAX - n),
      ...(before ? { before } : {}),
    });
    for (const r of rows) yield auditCsvLine(r);
    n += rows.length;
    if (rows.length < EXPORT_BATCH) return;
    before = rows.at(-1)!;
  }
}

/**
 * A CSV export of the log with the page's filters (the cursor is not one), taken by `actor`:
 * who took a copy of the log, and of what, is itself recorded before the first line is read.
 */
export async function exportAudit(db: Db, q: AuditQuery, actor: string): Promise<AsyncGenerator<string>> {
  const { before: _ignored, ...filters } = q;
  await insertAudit(db, { actor, action: 'audit.exported', details: filters });
  return auditCsv(db, filters);
}
