/**
 * The admins' device list: the console's /devices page, `GET /api/v1/devices` and their CSV
 * read the same filter (lib/devices/filter.ts) through the same keyset pages
 * (db/queries/device-list.ts), so a URL, an API call and an export of it list the same handsets.
 */
import type { Db } from '@/db/client';
import {
  countDevicesUpTo,
  deviceListKey,
  deviceListPage,
  deviceWhere,
  type DeviceListRow,
} from '@/db/queries/device-list';
import { listedFirmware, listedGroupsAndPolicies, listedModels } from '@/db/queries/device-list-options';
import { getDevicesByIds } from '@/db/queries/devices';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';
import { decodeCursor, encodeCursor, pageQuerySchema } from '../core/paging';
import { csvLine } from '../core/csv';
import {
  COVERAGE_WORDS,
  coverageOf,
  deviceListKeySchema,
  deviceListQuerySchema,
  parseDeviceListQuery,
  type CoverageState,
  type DeviceListKey,
  type DeviceListQuery,
  type DeviceSort,
} from './filter';
import { publicDevice } from './present';

/** Rows on one page of the console's list. */
export const DEVICE_PAGE_SIZE = 50;
/** The page counts matches up to this many and says "more than" beyond: a count costs what it counts. */
export const DEVICE_COUNT_CAP = 10_000;
/** Rows read per query while an export walks the whole filtered list. */
const EXPORT_BATCH = 1000;

/** One handset of the list, as the page, the API and the CSV show it. */
export interface DeviceListItem {
  id: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  subscriber: { id: string; name: string } | null;
  policyId: string | null;
  lastGoodBackupAt: number | null;
  lastSeenAt: number | null;
  coverage: CoverageState;
  openAlerts: number;
}

function itemOf(r: DeviceListRow, now: number): DeviceListItem {
  return {
    id: r.id,
    devId: r.devId,
    manufacturer: r.manufacturer,
    model: r.model,
    firmware: r.firmware,
    subscriber: r.subscriberId ? { id: r.subscriberId, name: r.subscriberName ?? r.subscriberId } : null,
    policyId: r.policyId,
    lastGoodBackupAt: r.lastGoodBackupAt,
    lastSeenAt: r.lastSeenAt,
    coverage: coverageOf(r.lastGoodBackupAt, now),
    openAlerts: r.openAlerts,
  };
}

/** Sorts whose cursor value is a time (a number), the others' is text. */
const TIME_SORTS: ReadonlySet<DeviceSort> = new Set(['lastBackup', 'lastSeen']);

/** The key a cursor holds, which must be one of this sort's (a cursor of another sort is refused, not misread). */
function cursorKey(sort: DeviceSort, cursor: string | undefined): DeviceListKey | undefined {
  const key = decodeCursor(deviceListKeySchema, cursor);
  if (key && key.v !== null && typeof key.v !== (TIME_SORTS.has(sort) ? 'number' : 'string'))
    throw AppError.invalid('cursor: not a cursor of this sort', { cursor: ['not a cursor of this sort'] });
  return key;
}

/** A page of the filtered, sorted list after `cursor`, and the cursor of the next page (null on the last). */
export async function readDeviceList(
  db: Db,
  q: DeviceListQuery,
  page: { cursor?: string; limit: number },
  now = Date.now(),
): Promise<{ items: DeviceListItem[]; nextCursor: string | null }> {
  const after = cursorKey(q.sort, page.cursor);
  const where = await deviceWhere(db, q, now, { pageBy: q.sort });
  const rows = await deviceListPage(db, { where, sort: q.sort, dir: q.dir, after, limit: page.limit + 1 });
  const shown = rows.slice(0, page.limit);
  return {
    items: shown.map((r) => itemOf(r, now)),
    nextCursor: rows.length > page.limit ? encodeCursor(deviceListKey(shown.at(-1)!, q.sort)) : null,
  };
}

/** The API's query: the list query and the page (`limit` up to PAGE_MAX, `cursor`); a bad parameter is a 400. */
export function readDeviceListRequest(sp: URLSearchParams): {
  query: DeviceListQuery;
  page: { cursor?: string; limit: number };
} {
  const q = parseDeviceListQuery(sp);
  if (!q.success) throw AppError.fromZod(q.error);
  const p = pageQuerySchema.safeParse({ limit: sp.get('limit') || undefined, cursor: sp.get('cursor') || undefined });
  if (!p.success) throw AppError.fromZod(p.error);
  return { query: q.data, page: p.data };
}

/**
 * `GET /api/v1/devices`: a page of the filtered list. Each device as the API always showed it
 * (publicDevice), with what the list adds: its subscriber, policy, last good backup, coverage
 * and open alerts.
 */
export async function deviceListApi(db: Db, sp: URLSearchParams, now = Date.now()) {
  const { query, page } = readDeviceListRequest(sp);
  const { items, nextCursor } = await readDeviceList(db, query, page, now);
  const full = new Map(
    (
      await getDevicesByIds(
        db,
        items.map((i) => i.id),
      )
    ).map((d) => [d.id, d]),
  );
  const devices = items.flatMap((i) => {
    const d = full.get(i.id);
    // A handset deleted between the two reads is left out rather than shown half.
    return d
      ? [
          {
            ...publicDevice(d),
            subscriber: i.subscriber,
            policyId: i.policyId,
            lastGoodBackupAt: i.lastGoodBackupAt,
            coverage: i.coverage,
            openAlerts: i.openAlerts,
          },
        ]
      : [];
  });
  return { devices, nextCursor, limit: page.limit };
}

export const DEVICE_CSV_HEADER = [
  'devId',
  'manufacturer',
  'model',
  'firmware',
  'subscriberId',
  'subscriber',
  'policyId',
  'lastGoodBackup',
  'coverage',
  'lastSeen',
  'openAlerts',
];

const iso = (at: number | null) => (at === null ? '' : new Date(at).toISOString());

/** The whole filtered list as CSV lines, header first, in the list's order, read a keyset page at a time. */
export async function* deviceListCsv(db: Db, q: DeviceListQuery, now = Date.now()): AsyncGenerator<string> {
  yield csvLine(DEVICE_CSV_HEADER);
  const where = await deviceWhere(db, q, now, { pageBy: q.sort });
  let after: DeviceListKey | undefined;
  for (;;) {
    const rows = await deviceListPage(db, { where, sort: q.sort, dir: q.dir, after, limit: EXPORT_BATCH });
    for (const r of rows) {
      const i = itemOf(r, now);
      yield csvLine([
        i.devId,
        i.manufacturer,
        i.model,
        i.firmware,
        i.subscriber?.id,
        i.subscriber?.name,
        i.policyId,
        iso(i.lastGoodBackupAt),
        i.coverage,
        iso(i.lastSeenAt),
        i.openAlerts,
      ]);
    }
    if (rows.length < EXPORT_BATCH) return;
    after = deviceListKey(rows.at(-1)!, q.sort);
  }
}

/**
 * A CSV export of the filtered list taken by `actor`. It holds personal data (subscribers'
 * names), so who took a copy, and of which filter, is recorded before the first line is read.
 */
export async function exportDeviceList(
  db: Db,
  q: DeviceListQuery,
  actor: string,
  now = Date.now(),
): Promise<AsyncGenerator<string>> {
  await insertAudit(db, { actor, action: 'devices.exported', details: { query: q } });
  return deviceListCsv(db, q, now);
}

// The console's page ----------------------------------------------------------------------

/** The query as URL parameters (defaults left out), so links stay short and shareable. */
export function deviceListSearch(q: Partial<DeviceListQuery>, extra: Record<string, string> = {}): string {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    if ((k === 'sort' && v === 'devId') || (k === 'dir' && v === 'asc')) continue;
    sp.set(k, String(v));
  }
  for (const [k, v] of Object.entries(extra)) sp.set(k, v);
  const s = sp.toString();
  return s ? `?${s}` : '';
}

/** The list query a saved view keeps (what was parsed, without page state), checked again when read. */
export function savedQueryOf(json: string): DeviceListQuery | null {
  try {
    const r = deviceListQuerySchema.safeParse(JSON.parse(json));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export const DEVICE_SORT_LABELS: Record<DeviceSort, string> = {
  devId: 'Handset',
  model: 'Model',
  firmware: 'Firmware',
  lastBackup: 'Last good backup',
  lastSeen: 'Last seen',
};

/**
 * The /devices page's data from its URL: the form as asked, why it cannot be listed (each bad
 * field named), or the page of handsets with the match count and the link to the next page;
 * what the filter bar offers; the hrefs of the sortable headers and of the CSV export.
 */
export async function deviceListPageView(
  db: Db,
  params: Record<string, string | string[] | undefined>,
  now = Date.now(),
) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string') sp.set(k, v);
  const form = Object.fromEntries([...sp].filter(([k]) => k !== 'cursor')) as Record<string, string>;
  const models = await listedModels(db);
  const firmware = await listedFirmware(db);
  const { groups, policies } = await listedGroupsAndPolicies(db);
  const options = { models: [...new Set(models.map((m) => m.model))], firmware, groups, policies };
  const parsed = parseDeviceListQuery(sp);
  if (!parsed.success) {
    const fieldErrors = Object.fromEntries(parsed.error.issues.map((i) => [String(i.path[0] ?? ''), i.message]));
    return { form, options, error: { fieldErrors }, list: null };
  }
  const q = parsed.data;
  const cursor = sp.get('cursor') || undefined;
  let page;
  try {
    page = await readDeviceList(db, q, { cursor, limit: DEVICE_PAGE_SIZE }, now);
  } catch (err) {
    if (err instanceof AppError && err.kind === 'invalid')
      return { form, options, error: { fieldErrors: { cursor: 'That page link is out of date.' } }, list: null };
    throw err;
  }
  const counted = await countDevicesUpTo(db, await deviceWhere(db, q, now), DEVICE_COUNT_CAP);
  const sortHref = (sort: DeviceSort) =>
    `/devices${deviceListSearch({ ...q, sort, dir: q.sort === sort && q.dir === 'asc' ? 'desc' : 'asc' })}`;
  return {
    form,
    options,
    error: null,
    list: {
      query: q,
      items: page.items.map((i) => ({ ...i, coverageWords: COVERAGE_WORDS[i.coverage] })),
      /** How many match, or DEVICE_COUNT_CAP when more do (`more`). */
      total: Math.min(counted, DEVICE_COUNT_CAP),
      more: counted > DEVICE_COUNT_CAP,
      onFirstPage: cursor === undefined,
      firstHref: `/devices${deviceListSearch(q)}`,
      nextHref: page.nextCursor ? `/devices${deviceListSearch(q, { cursor: page.nextCursor })}` : null,
      sorts: Object.fromEntries(
        (Object.keys(DEVICE_SORT_LABELS) as DeviceSort[]).map((s) => [
          s,
          { label: DEVICE_SORT_LABELS[s], href: sortHref(s), active: q.sort === s ? q.dir : null },
        ]),
      ) as Record<DeviceSort, { label: string; href: string; active: 'asc' | 'desc' | null }>,
      csvHref: `/devices/export${deviceListSearch(q)}`,
    },
  };
}
