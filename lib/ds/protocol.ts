/**
 * SyncML DS 1.2 vocabulary Rewind's DS server and the virtual handsets' DS client share:
 * sync types and their alert codes, status codes, datastore URIs, content types and DevInf.
 * Framework-free, like the engine it builds on.
 */
import type { XmlElement } from '../omadm/codec/element';
import { NS_DEVINF } from '../omadm/codec/wbxml-tokens';
import { DS_SYNC_TYPES, type DsSyncType } from '../omadm/mo/backup-restore';

export type DsStoreName = 'contacts' | 'calendar';
export const DS_STORE_NAMES: readonly DsStoreName[] = ['contacts', 'calendar'];

/** OMA DS 1.2 sync types (SyncML Sync Protocol §5), by the names SyncEvolution and our B&R MO use. */
export const SYNC_TYPES = DS_SYNC_TYPES;
export type SyncType = DsSyncType;
export const SYNC_TYPE_OF_CODE: Record<number, SyncType> = Object.fromEntries(
  Object.entries(SYNC_TYPES).map(([k, v]) => [v, k as SyncType]),
);

/** DS 1.2 alert codes beyond the sync types: 223 says a chunked item's end never came (DS has no session abort; DM's is 1223); 224 suspends a sync. */
export const DS_ALERT = { NextMessage: '222', NoEndOfData: '223', Suspend: '224' } as const;

export const DS_STATUS = {
  Ok: 200,
  ItemAdded: 201,
  AuthAccepted: 212,
  ChunkAccepted: 213,
  ItemNotDeleted: 211,
  Unauthorized: 401,
  NotFound: 404,
  NotAllowed: 405,
  OptionalNotSupported: 406,
  MissingCredentials: 407,
  IncompleteCommand: 412,
  TooLarge: 413,
  UriTooLong: 414,
  UnsupportedMediaType: 415,
  SizeMismatch: 424,
  CommandFailed: 500,
  RefreshRequired: 508,
} as const;

export const DEVINF_URI_12 = './devinf12';
export const DEVINF_URI_11 = './devinf11';
export const DEVINF_TYPE_XML = 'application/vnd.syncml-devinf+xml';
export const DEVINF_TYPE_WBXML = 'application/vnd.syncml-devinf+wbxml';

/** The server's datastore names clients may use, per store (SyncEvolution's defaults are card and cal). */
const STORE_URIS: Record<string, DsStoreName> = {
  card: 'contacts',
  contacts: 'contacts',
  addressbook: 'contacts',
  contact: 'contacts',
  vcard: 'contacts',
  cal: 'calendar',
  calendar: 'calendar',
  events: 'calendar',
  event: 'calendar',
};

/** Which store a datastore URI names: `card`, `./contacts`, `/ds/cal` …; undefined when none. */
export function storeOfUri(uri: string | undefined): DsStoreName | undefined {
  if (!uri) return undefined;
  const last = uri
    .replace(/[?#].*$/, '')
    .split('/')
    .filter((s) => s && s !== '.')
    .pop()
    ?.toLowerCase();
  // Own keys only: `constructor` or `__proto__` must not find Object's members.
  return last && Object.hasOwn(STORE_URIS, last) ? STORE_URIS[last] : undefined;
}

/** Content types per store: what we accept and send. The first is what we prefer to receive. */
export const CONTENT_TYPES: Record<DsStoreName, ReadonlyArray<{ type: string; version: string }>> = {
  contacts: [
    { type: 'text/vcard', version: '3.0' },
    { type: 'text/x-vcard', version: '2.1' },
  ],
  calendar: [
    { type: 'text/calendar', version: '2.0' },
    { type: 'text/x-vcalendar', version: '1.0' },
  ],
};

export function acceptsType(store: DsStoreName, type: string | undefined): boolean {
  if (!type) return true; // a client that names no type sends its default, which the DevInf said is one of these
  const t = type.split(';')[0]!.trim().toLowerCase();
  return CONTENT_TYPES[store].some((c) => c.type === t);
}

function el(name: string, children: Array<XmlElement | string> = [], ns?: string): XmlElement {
  return { name, children, ...(ns ? { ns } : {}) };
}

/** A DevInf 1.2 document for `stores` with the given identity (the server's, or a virtual handset's). */
export function buildDevInf(
  who: { man: string; mod: string; devId: string; devTyp: 'server' | 'phone'; swV: string },
  stores: ReadonlyArray<{ store: DsStoreName; uri: string }>,
): XmlElement {
  const ct = (tag: string, c: { type: string; version: string }) =>
    el(tag, [el('CTType', [c.type]), el('VerCT', [c.version])]);
  return el(
    'DevInf',
    [
      el('VerDTD', ['1.2']),
      el('Man', [who.man]),
      el('Mod', [who.mod]),
      el('OEM', [who.man]),
      el('FwV', [who.swV]),
      el('SwV', [who.swV]),
      el('HwV', [who.swV]),
      el('DevID', [who.devId]),
      el('DevTyp', [who.devTyp]),
      el('UTC'),
      el('SupportLargeObjs'),
      el('SupportNumberOfChanges'),
      ...stores.map(({ store, uri }) => {
        const [pref, ...rest] = CONTENT_TYPES[store];
        return el('DataStore', [
          el('SourceRef', [uri]),
          el('DisplayName', [store === 'contacts' ? 'Contacts' : 'Calendar']),
          el('MaxGUIDSize', ['64']),
          ct('Rx-Pref', pref!),
          ...rest.map((c) => ct('Rx', c)),
          ct('Tx-Pref', pref!),
          ...rest.map((c) => ct('Tx', c)),
          el(
            'SyncCap',
            ['1', '2', '3', '4', '5', '6', '7'].map((n) => el('SyncType', [n])),
          ),
        ]);
      }),
    ],
    NS_DEVINF,
  );
}

/** What we keep of a peer's DevInf: who it is and which datastores it has. */
export interface DevInfSummary {
  man?: string;
  mod?: string;
  devId?: string;
  devTyp?: string;
  swV?: string;
  stores: Array<{ uri: string; rxPref?: string }>;
}

function text(e: XmlElement | undefined): string | undefined {
  if (!e) return undefined;
  const s = e.children
    .filter((c): c is string => typeof c === 'string')
    .join('')
    .trim();
  return s ? s.slice(0, 200) : undefined;
}

function kid(e: XmlElement, name: string): XmlElement | undefined {
  return e.children.find(
    (c): c is XmlElement => typeof c === 'object' && !(c instanceof Uint8Array) && c.name === name,
  );
}

export function readDevInf(data: unknown): DevInfSummary | undefined {
  if (!Array.isArray(data)) return undefined;
  const d = (data as XmlElement[]).find((c) => typeof c === 'object' && c.name === 'DevInf');
  if (!d) return undefined;
  const stores = d.children
    .filter((c): c is XmlElement => typeof c === 'object' && !(c instanceof Uint8Array) && c.name === 'DataStore')
    .slice(0, 16)
    .map((s) => {
      const rx = kid(s, 'Rx-Pref');
      return {
        uri: text(kid(s, 'SourceRef')) ?? '',
        ...(rx && text(kid(rx, 'CTType')) ? { rxPref: text(kid(rx, 'CTType'))! } : {}),
      };
    });
  const out: DevInfSummary = { stores };
  for (const [k, tag] of [
    ['man', 'Man'],
    ['mod', 'Mod'],
    ['devId', 'DevID'],
    ['devTyp', 'DevTyp'],
    ['swV', 'SwV'],
  ] as const) {
    const v = text(kid(d, tag));
    if (v) out[k] = v;
  }
  return out;
}
