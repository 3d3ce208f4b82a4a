/**
 * What the console, the portal and the REST API show of Data Sync: DS accounts (never their
 * derived secret or nonce), DS backups with their per-store changes, a backup's contacts and
 * events page by page with each item's fields in words, and a diff between two backups with
 * a changed item's fields side by side. Pages lay these out; nothing here renders.
 */
import type { Db } from '@/db/client';
import { auditPersonalRead, type Reader } from '../audit/reads';
import type { DeviceRow } from '@/db/queries/devices';
import { listDsAccounts } from '@/db/queries/ds-accounts';
import {
  dsAccountsOfDevice,
  dsSnapshotsOf,
  getDsSnapshot,
  getDsStore,
  type DsAccountRow,
  type DsSnapshotRow,
} from '@/db/queries/ds';
import type { BlobStore } from '../backup/blob-store';
import { AppError } from '../core/errors';
import { json } from '../backup/views';
import { DS_STORE_NAMES, type DsStoreName } from './protocol';
import { diffDsManifests, readDsManifest, type DsItemChange, type DsManifestEntry } from './snapshot';
import { contentLines, parseProperty, textValue, VObjectError } from './vobject';

/** Items a DS backup page lists at once: plain server-rendered rows, so a thousand contacts stay quick. */
export const DS_PAGE_SIZE = 100;
/** Items each section of a DS diff shows with their fields; the rest are counted. */
export const DS_DIFF_MAX = 200;

export const STORE_LABEL: Record<DsStoreName, string> = { contacts: 'Contacts', calendar: 'Calendar' };

export class DsNotFound extends AppError {
  constructor(what = 'DS backup') {
    super('not-found', `No such ${what} on this handset.`);
    this.name = 'DsNotFound';
  }
}

// Accounts and backups -------------------------------------------------------------------

export async function publicDsAccount(
  db: Db,
  a: Pick<DsAccountRow, 'id' | 'deviceId' | 'username' | 'auth' | 'createdAt'>,
) {
  const stores = (
    await Promise.all(
      DS_STORE_NAMES.map(async (store) => {
        const s = await getDsStore(db, a.id, store);
        return s ? [{ store, syncedAt: s.syncedAt, lastSyncType: s.lastSyncType, clientUri: s.clientUri }] : [];
      }),
    )
  ).flat();
  return { id: a.id, deviceId: a.deviceId, username: a.username, auth: a.auth, createdAt: a.createdAt, stores };
}

export type PublicDsAccount = Awaited<ReturnType<typeof publicDsAccount>>;

/** The admin page: accounts (newest first, narrowed by `q`) grouped by handset. */
export async function dsAccountsByHandset(db: Db, q: string | undefined, limit: number) {
  const rows = await listDsAccounts(db, { q, limit: limit + 1 });
  const handsets = new Map<string, { deviceId: string; devId: string; name: string; accounts: PublicDsAccount[] }>();
  for (const r of rows.slice(0, limit)) {
    const h = handsets.get(r.deviceId) ?? {
      deviceId: r.deviceId,
      devId: r.devId,
      name: [r.manufacturer, r.model].filter(Boolean).join(' '),
      accounts: [],
    };
    h.accounts.push(await publicDsAccount(db, r));
    handsets.set(r.deviceId, h);
  }
  return { handsets: [...handsets.values()], more: rows.length > limit, now: Date.now() };
}

export interface DsStoreCounts {
  received?: number;
  added?: number;
  replaced?: number;
  deleted?: number;
  failed?: number;
  sent?: number;
}

export function publicDsSnapshot(s: DsSnapshotRow) {
  const changes = json(s.changes);
  return {
    id: s.id,
    deviceId: s.deviceId,
    accountId: s.accountId,
    jobId: s.jobId,
    syncType: s.syncType,
    rootHash: s.rootHash,
    contacts: s.contacts,
    events: s.events,
    bytes: s.bytes,
    newBytes: s.newBytes,
    changes: (changes && typeof changes === 'object' ? changes : {}) as Partial<Record<DsStoreName, DsStoreCounts>>,
    createdAt: s.createdAt,
  };
}

export type PublicDsSnapshot = ReturnType<typeof publicDsSnapshot>;

/** "2 added, 1 changed, 3 sent to the handset" for one store of a session; '' when nothing moved. */
export function storeChangeText(c: DsStoreCounts | undefined): string {
  if (!c) return '';
  const parts = [
    c.added ? `${c.added} added` : '',
    c.replaced ? `${c.replaced} changed` : '',
    c.deleted ? `${c.deleted} deleted` : '',
    c.failed ? `${c.failed} failed` : '',
    c.sent ? `${c.sent} sent to the handset` : '',
  ].filter(Boolean);
  return parts.join(', ');
}

/** The device page's section: the handset's DS accounts and its DS backups, each with the one before it to diff against. */
export async function dsSectionData(db: Db, device: Pick<DeviceRow, 'id'>, limit = 50, now = Date.now()) {
  const rows = await dsSnapshotsOf(db, device.id, limit + 1);
  const snapshots = rows
    .slice(0, limit)
    .map((s, i) => ({ ...publicDsSnapshot(s), previousId: rows[i + 1]?.id ?? null }));
  const accounts: PublicDsAccount[] = [];
  for (const a of await dsAccountsOfDevice(db, device.id)) accounts.push(await publicDsAccount(db, a));
  return { accounts, snapshots, more: rows.length > limit, now };
}

/** A DS backup of this handset, or DsNotFound: an id from a URL is never trusted to belong to the page's handset. */
export async function dsSnapshotOf(
  db: Db,
  device: Pick<DeviceRow, 'id'>,
  id: string | undefined,
): Promise<DsSnapshotRow> {
  const s = id ? await getDsSnapshot(db, id) : undefined;
  if (!s || s.deviceId !== device.id) throw new DsNotFound();
  return s;
}

// Items in words --------------------------------------------------------------------------

export interface DsField {
  label: string;
  value: string;
}

const TEL_LABEL: Record<string, string> = {
  CELL: 'Mobile',
  HOME: 'Home phone',
  WORK: 'Work phone',
  FAX: 'Fax',
  PAGER: 'Pager',
};
/** Properties that are bookkeeping, not something a person reads. */
const HIDDEN = new Set([
  'BEGIN',
  'END',
  'VERSION',
  'PRODID',
  'UID',
  'REV',
  'DTSTAMP',
  'LAST-MODIFIED',
  'CREATED',
  'SEQUENCE',
  'X-EVOLUTION-FILE-AS',
  'CLASS',
  'TRANSP',
  'X-IRMC-LUID',
]);
const LABEL: Record<string, string> = {
  FN: 'Name',
  NICKNAME: 'Nickname',
  ORG: 'Organisation',
  TITLE: 'Job title',
  ROLE: 'Role',
  NOTE: 'Note',
  BDAY: 'Birthday',
  URL: 'Web',
  ADR: 'Address',
  CATEGORIES: 'Categories',
  SUMMARY: 'Title',
  DTSTART: 'Starts',
  DTEND: 'Ends',
  DUE: 'Due',
  LOCATION: 'Location',
  DESCRIPTION: 'Description',
  RRULE: 'Repeats',
  STATUS: 'Status',
  PRIORITY: 'Priority',
  GEO: 'Position',
  TZ: 'Time zone',
};

function typesOf(params: readonly string[]): string[] {
  return params.filter((p) => p.startsWith('TYPE=')).flatMap((p) => p.slice(5).toUpperCase().split(','));
}

/** 20260105T080000Z → 2026-01-05 08:00Z; 20260105 → 2026-01-05; anything else as it came. */
export function readableDate(v: string, tzid?: string): string {
  const m = /^(\d{4})-?(\d{2})-?(\d{2})(?:T(\d{2}):?(\d{2})(?::?(\d{2}))?(Z)?)?$/.exec(v.trim());
  if (!m) return v;
  const [, y, mo, d, h, mi, s, z] = m;
  const time = h ? ` ${h}:${mi}${s && s !== '00' ? `:${s}` : ''}${z ? 'Z' : tzid ? ` (${tzid})` : ''}` : '';
  return `${y}-${mo}-${d}${time}`;
}

function fieldOf(name: string, params: string[], value: string): DsField {
  const types = typesOf(params);
  switch (name) {
    case 'N': {
      const [family = '', given = '', middle = '', prefix = '', suffix = ''] = value.split(';');
      return { label: 'Full name', value: [prefix, given, middle, family, suffix].filter(Boolean).join(' ') };
    }
    case 'TEL': {
      const kind = types.map((t) => TEL_LABEL[t]).find(Boolean);
      return { label: kind ?? 'Phone', value };
    }
    case 'EMAIL': {
      const where = types.includes('WORK') ? 'Work email' : types.includes('HOME') ? 'Home email' : 'Email';
      return { label: where, value };
    }
    case 'ADR':
      return {
        label: LABEL.ADR!,
        value: value
          .split(';')
          .map((x) => x.trim())
          .filter(Boolean)
          .join(', '),
      };
    case 'ORG':
      return { label: LABEL.ORG!, value: value.split(';').filter(Boolean).join(', ') };
    case 'DTSTART':
    case 'DTEND':
    case 'DUE':
    case 'BDAY': {
      const tz = params.find((p) => p.startsWith('TZID='))?.slice(5);
      return { label: LABEL[name]!, value: readableDate(value, tz) };
    }
    case 'PHOTO':
    case 'LOGO':
    case 'SOUND':
    case 'ATTACH':
      return {
        label: name === 'PHOTO' ? 'Photo' : name.charAt(0) + name.slice(1).toLowerCase(),
        value: `${Math.round((value.length * 0.75) / 1024)} KB attached`,
      };
    default:
      return {
        label:
          LABEL[name] ??
          name
            .replace(/^X-/, '')
            .toLowerCase()
            .replace(/^./, (c) => c.toUpperCase()),
        value,
      };
  }
}

/**
 * A contact's or an event's fields as a person reads them, in the order the item has them:
 * "Mobile +447700900123", "Email ada@example.net", "Starts 2026-01-05 08:00Z". Bookkeeping
 * properties are left out, and so are alarms and time-zone definitions nested in an event
 * (a reminder shows as one field).
 */
export function readableFields(text: string): DsField[] {
  let lines: string[];
  try {
    lines = contentLines(text);
  } catch (err) {
    if (err instanceof VObjectError) return [{ label: 'Unreadable', value: err.message }];
    throw err;
  }
  const out: DsField[] = [];
  const nested: string[] = [];
  for (const line of lines) {
    let p;
    try {
      p = parseProperty(line);
    } catch {
      continue;
    }
    if (p.name === 'BEGIN') {
      const what = p.value.trim().toUpperCase();
      if (!['VCARD', 'VCALENDAR', 'VEVENT', 'VTODO'].includes(what)) nested.push(what);
      continue;
    }
    if (p.name === 'END') {
      if (nested.length && nested[nested.length - 1] === p.value.trim().toUpperCase()) nested.pop();
      continue;
    }
    if (nested.length) {
      if (nested[nested.length - 1] === 'VALARM' && p.name === 'TRIGGER')
        out.push({ label: 'Reminder', value: p.value.trim() });
      continue;
    }
    if (HIDDEN.has(p.name)) continue;
    const value = textValue(p).trim();
    if (!value.replace(/;/g, '')) continue;
    out.push(fieldOf(p.name, p.params, value));
  }
  // A vCard's N repeats its FN in most address books: shown only when it says something else.
  const fn = out.find((f) => f.label === 'Name')?.value;
  return out.filter((f) => !(f.label === 'Full name' && (f.value === fn || !f.value)));
}

export interface DsItemView {
  store: DsStoreName;
  id: string;
  name: string;
  type: string;
  size: number;
  fields: DsField[];
  missing?: boolean;
}

async function itemText(blobs: BlobStore, hash: string): Promise<string | undefined> {
  const bytes = await blobs.get(hash);
  return bytes ? new TextDecoder().decode(bytes) : undefined;
}

const UNNAMED: Record<DsStoreName, string> = { contacts: '(no name)', calendar: '(no title)' };

async function itemView(blobs: BlobStore, e: DsManifestEntry): Promise<DsItemView> {
  const text = await itemText(blobs, e.hash);
  return {
    store: e.store,
    id: e.id,
    name: e.summary || UNNAMED[e.store],
    type: e.type,
    size: e.size,
    fields: text === undefined ? [] : readableFields(text),
    ...(text === undefined ? { missing: true } : {}),
  };
}

const byName = (a: DsManifestEntry, b: DsManifestEntry) =>
  (a.summary || '\uffff').localeCompare(b.summary || '\uffff') || a.id.localeCompare(b.id);

/**
 * One page of a DS backup's items of one store, by name, narrowed to names containing `q`.
 * Only the page's items are read from the store. A subscriber's contacts and calendar are
 * personal data: an agent's or admin's reading (`reader`) is recorded as `ds.viewed`.
 */
export async function dsSnapshotPageData(
  db: Db,
  blobs: BlobStore,
  device: Pick<DeviceRow, 'id'>,
  snapshotId: string,
  q: { store?: string; page?: number; q?: string; reader?: Reader } = {},
) {
  const row = await dsSnapshotOf(db, device, snapshotId);
  const { entries } = await readDsManifest(db, blobs, row.id);
  const store: DsStoreName = q.store === 'calendar' ? 'calendar' : 'contacts';
  const needle = q.q?.trim().toLowerCase() ?? '';
  if (q.reader)
    await auditPersonalRead(db, q.reader, {
      action: 'ds.viewed',
      deviceId: device.id,
      details: { snapshotId: row.id, store, ...(needle ? { search: needle } : {}) },
    });
  const matching = entries
    .filter((e) => e.store === store && (!needle || e.summary.toLowerCase().includes(needle)))
    .sort(byName);
  const pages = Math.max(1, Math.ceil(matching.length / DS_PAGE_SIZE));
  const page = Math.min(Math.max(1, Math.floor(q.page ?? 1)), pages);
  const items = await Promise.all(
    matching.slice((page - 1) * DS_PAGE_SIZE, page * DS_PAGE_SIZE).map((e) => itemView(blobs, e)),
  );
  return {
    snapshot: publicDsSnapshot(row),
    store,
    q: needle,
    page,
    pages,
    total: matching.length,
    items,
    counts: {
      contacts: entries.filter((e) => e.store === 'contacts').length,
      calendar: entries.filter((e) => e.store === 'calendar').length,
    },
  };
}

// Diffs ------------------------------------------------------------------------------------

export interface DsFieldRow {
  label: string;
  before: string[];
  after: string[];
  changed: boolean;
}

/** Two versions' fields lined up by label (the newer one's order, then labels only the older had). */
export function fieldRows(before: readonly DsField[], after: readonly DsField[]): DsFieldRow[] {
  const labels = [...new Set([...after.map((f) => f.label), ...before.map((f) => f.label)])];
  return labels.map((label) => {
    const b = before.filter((f) => f.label === label).map((f) => f.value);
    const a = after.filter((f) => f.label === label).map((f) => f.value);
    return { label, before: b, after: a, changed: [...b].sort().join('\n') !== [...a].sort().join('\n') };
  });
}

export interface DsChangedView {
  store: DsStoreName;
  name: string;
  previousName?: string;
  rows: DsFieldRow[];
}

/** Every DS backup of the handset as a choice for the diff pickers, newest first. */
function pickerOptions(rows: readonly DsSnapshotRow[], time: (ms: number) => string) {
  return rows.map((s) => ({
    id: s.id,
    label: `${time(s.createdAt)} · ${s.syncType} · ${s.contacts} contacts, ${s.events} events`,
  }));
}

/**
 * The DS diff page: `from` and `to` (both this handset's), by default the newest backup and
 * the one before it. Added and removed items with their fields; changed ones with their
 * fields side by side. Personal data like a backup's page: an agent's or admin's reading
 * (`reader`) is recorded as `ds.diff-viewed` with the two backups compared.
 */
export async function dsDiffPageData(
  db: Db,
  blobs: BlobStore,
  device: Pick<DeviceRow, 'id'>,
  q: { from?: string; to?: string; reader?: Reader },
  time: (ms: number) => string,
) {
  const own = await dsSnapshotsOf(db, device.id, 500);
  const options = pickerOptions(own, time);
  if (own.length < 2 && !(q.from && q.to)) {
    return {
      ok: false as const,
      options,
      error: own.length
        ? 'This handset has one DS backup so far: there is nothing to compare it with.'
        : 'This handset has no DS backups yet.',
    };
  }
  let from: DsSnapshotRow;
  let to: DsSnapshotRow;
  try {
    to = q.to ? await dsSnapshotOf(db, device, q.to) : own[0]!;
    from = q.from
      ? await dsSnapshotOf(db, device, q.from)
      : (own.find((s) => s.createdAt < to.createdAt || (s.createdAt === to.createdAt && s.id < to.id)) ??
        own[own.length - 1]!);
  } catch (err) {
    if (err instanceof DsNotFound)
      return { ok: false as const, options, error: 'One of these DS backups is not a backup of this handset.' };
    throw err;
  }
  if (from.id === to.id) return { ok: false as const, options, error: 'Choose two different DS backups to compare.' };
  // Older first, whichever order the link gave.
  if (from.createdAt > to.createdAt) [from, to] = [to, from];
  if (q.reader)
    await auditPersonalRead(db, q.reader, {
      action: 'ds.diff-viewed',
      deviceId: device.id,
      details: { from: from.id, to: to.id },
    });
  const [a, b] = await Promise.all([readDsManifest(db, blobs, from.id), readDsManifest(db, blobs, to.id)]);
  const diff = diffDsManifests(a.entries, b.entries);
  const show = async (list: DsItemChange[], side: 'before' | 'after') =>
    Promise.all(list.slice(0, DS_DIFF_MAX).map((c) => itemView(blobs, c[side]!)));
  const changed: DsChangedView[] = await Promise.all(
    diff.changed.slice(0, DS_DIFF_MAX).map(async (c) => {
      const [old, now] = await Promise.all([itemText(blobs, c.before!.hash), itemText(blobs, c.after!.hash)]);
      return {
        store: c.store,
        name: c.after!.summary || c.before!.summary || UNNAMED[c.store],
        ...(c.before!.summary !== c.after!.summary && c.before!.summary ? { previousName: c.before!.summary } : {}),
        rows: fieldRows(old ? readableFields(old) : [], now ? readableFields(now) : []),
      };
    }),
  );
  return {
    ok: true as const,
    options,
    from: publicDsSnapshot(from),
    to: publicDsSnapshot(to),
    byStore: diff.byStore,
    unchanged: diff.unchanged,
    totals: { added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
    added: await show(diff.added, 'after'),
    removed: await show(diff.removed, 'before'),
    changed,
  };
}

/** "2 contacts changed, 1 contact added" for a summary line. */
export function diffSummary(byStore: Record<DsStoreName, { added: number; removed: number; changed: number }>): string {
  const noun = (store: DsStoreName, n: number) =>
    `${n} ${store === 'contacts' ? (n === 1 ? 'contact' : 'contacts') : n === 1 ? 'event' : 'events'}`;
  const parts: string[] = [];
  for (const store of DS_STORE_NAMES) {
    const c = byStore[store];
    if (c.added) parts.push(`${noun(store, c.added)} added`);
    if (c.removed) parts.push(`${noun(store, c.removed)} removed`);
    if (c.changed) parts.push(`${noun(store, c.changed)} changed`);
  }
  return parts.join(', ') || 'No contact or event changed.';
}

/** The handset's DS accounts as the API shows them, each store's last sync with it. */
export async function deviceDsAccounts(db: Db, device: Pick<DeviceRow, 'id'>): Promise<PublicDsAccount[]> {
  const out = [];
  for (const a of await dsAccountsOfDevice(db, device.id)) out.push(await publicDsAccount(db, a));
  return out;
}

/** The DS snapshot with this id, for callers that see every handset (API tokens); undefined when none. */
export async function findDsSnapshot(db: Db, id: string): Promise<DsSnapshotRow | undefined> {
  return getDsSnapshot(db, id);
}
