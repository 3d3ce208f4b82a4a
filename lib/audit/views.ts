/**
 * The audit log as people read it: filters from a URL (the page and its CSV export share
 * them), cursors for paging, and CSV that is safe to open in a spreadsheet.
 */
import { csvLine } from '../core/csv';
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
  /** First day shown, YYYY-MM-DD (UTC). */
  from?: string;
  /** Last day shown, YYYY-MM-DD (UTC), the whole of it. */
  to?: string;
  /** A page of older events: those before this cursor. */
  before?: string;
  /** A page of newer events: those after this cursor. */
  after?: string;
}

/** The filters a cursor is not one of. */
export type AuditFilters = Omit<AuditQuery, 'before' | 'after'>;

const DAY_MS = 86_400_000;

/** The filters as the form sends them (each trimmed; blank is no filter). */
export function auditQueryOf(params: Record<string, string | string[] | undefined> | URLSearchParams): AuditQuery {
  const get = (k: string) => {
    const v = params instanceof URLSearchParams ? params.get(k) : params[k];
    const s = (Array.isArray(v) ? v[0] : v)?.trim().slice(0, 256);
    return s || undefined;
  };
  const q: AuditQuery = {};
  for (const k of ['devId', 'actor', 'action', 'from', 'to', 'before', 'after'] as const) {
    const v = get(k);
    if (v) q[k] = v;
  }
  return q;
}

/**
 * How a person or action box is read: "backup.*" is everything starting "backup.", "*lovelace"
 * (or "*lovelace*") everything holding it in any case, anything else the exact value.
 */
export function textMatch(v: string | undefined): TextMatch | undefined {
  if (!v) return undefined;
  if (v.startsWith('*')) return { contains: v.replace(/^\*+|\*+$/g, '') };
  return v.endsWith('*') ? { prefix: v.slice(0, -1) } : { exact: v };
}

/** Midnight UTC starting `day` (YYYY-MM-DD), or undefined when it is not a real date. */
function dayStart(day: string | undefined): number | undefined {
  const m = day ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(day) : null;
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === day ? t : undefined;
}

/** Why the filters cannot be used as typed, in plain words; undefined when they can. */
export function auditFilterProblem(q: AuditQuery): string | undefined {
  if (q.from && dayStart(q.from) === undefined) return `“${q.from}” is not a date: write it as YYYY-MM-DD.`;
  if (q.to && dayStart(q.to) === undefined) return `“${q.to}” is not a date: write it as YYYY-MM-DD.`;
  if (q.from && q.to && dayStart(q.from)! > dayStart(q.to)!) return 'The first day is after the last day.';
  return undefined;
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
  const since = dayStart(q.from);
  const until = dayStart(q.to);
  if (since !== undefined) f.since = since;
  if (until !== undefined) f.until = until + DAY_MS;
  return f;
}

/**
 * One page, newest first: the newest events, those older than `before`, or those newer than
 * `after`. With the cursor of the older page (`next`) and of the newer one (`prev`) when there
 * are more events that way.
 */
export async function auditPage(
  db: Db,
  q: AuditQuery,
  limit = AUDIT_PAGE_SIZE,
): Promise<{ rows: AuditEntry[]; next?: string; prev?: string }> {
  const f = await auditFilterOf(db, q);
  if (!f) return { rows: [] };
  const before = decodeCursor(q.before);
  const after = before ? undefined : decodeCursor(q.after);
  if (after) {
    // The events just newer than the cursor: one more tells whether newer ones remain.
    const rows = await searchAudit(db, f, { limit: limit + 1, after });
    const page = rows.slice(-limit);
    return {
      rows: page,
      ...(page.length ? { next: encodeCursor(page.at(-1)!) } : {}),
      ...(rows.length > limit ? { prev: encodeCursor(page[0]!) } : {}),
    };
  }
  const rows = await searchAudit(db, f, { limit: limit + 1, ...(before ? { before } : {}) });
  const page = rows.slice(0, limit);
  return {
    rows: page,
    ...(rows.length > limit ? { next: encodeCursor(page.at(-1)!) } : {}),
    ...(before && page.length ? { prev: encodeCursor(page[0]!) } : {}),
  };
}

/** Words for the keys details are written with ("intervalMinutes" → "interval minutes"). */
function keyWords(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function valueWords(v: unknown): string {
  if (v === null || v === undefined) return 'none';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map(valueWords).join(', ') : 'none';
  return String(v);
}

/**
 * An event's details as lines a person reads ("Interval minutes: 2880", "Before, name: Trial"),
 * nested objects flattened; text that is not JSON is one line as stored.
 */
export function auditDetailLines(json: string | null): Array<{ label: string; value: string }> {
  if (!json) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [{ label: 'Details', value: json }];
  }
  const out: Array<{ label: string; value: string }> = [];
  const walk = (v: unknown, label: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, label ? `${label}, ${keyWords(k).toLowerCase()}` : keyWords(k));
    } else out.push({ label: label || 'Details', value: valueWords(v) });
  };
  walk(parsed, '');
  return out;
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
  const { before: _before, after: _after, ...filters } = q;
  await insertAudit(db, { actor, action: 'audit.exported', details: filters });
  return auditCsv(db, filters);
}
