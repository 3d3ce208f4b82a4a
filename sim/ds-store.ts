/**
 * A virtual handset's Data Sync side: its contacts and calendar as the phone keeps them
 * (items by the handset's own LUIDs, in the formats its model speaks), what changed in
 * each since the last sync that completed, that sync's anchor, and the DS accounts and
 * nonces its DS client signs in with. Plain JSON, persisted with the handset's state.
 *
 * Generated deterministically from the handset's seed: the same handset always starts
 * with the same phonebook and calendar, so tests can compare what the server backed up
 * with what the phone holds.
 */
import { generateContacts, generateEvents } from './ds-generate';
import type { DsStoreName } from '../lib/ds/protocol';
import { Rng, subSeed } from './random';

export type DsChange = 'add' | 'replace' | 'delete';

export interface DsClientItem {
  /** MIME type the handset stores it as (text/vcard, text/x-vcard, text/calendar, text/x-vcalendar). */
  type: string;
  text: string;
}

export interface DsClientStore {
  /** By LUID, the handset's own item id. */
  items: Record<string, DsClientItem>;
  /** Changes since the last sync that completed, by LUID (what a two-way sync sends). */
  changes: Record<string, DsChange>;
  /** Our Next anchor of the last sync that completed: the Last we send next time. */
  anchor?: string;
  /** For new LUIDs. */
  nextLuid: number;
}

/** A DS account the handset was given (by an Exec DataSync with a password): `passwordRef` names it. */
export interface DsAccountRecord {
  user: string;
  password: string;
  serverUrl: string;
}

export interface HandsetDs {
  stores: Record<DsStoreName, DsClientStore>;
  /** By passwordRef. */
  accounts: Record<string, DsAccountRecord>;
  /** The server's NextNonce for each user's next MD5 credentials. */
  nonces: Record<string, string>;
  /** The vCard and iCalendar versions this handset writes. */
  formats: DsFormats;
}

export interface DsFormats {
  contacts: { type: string; version: '3.0' | '2.1' };
  calendar: { type: string; version: '2.0' | '1.0' };
}

const MODERN: DsFormats = {
  contacts: { type: 'text/vcard', version: '3.0' },
  calendar: { type: 'text/calendar', version: '2.0' },
};
const LEGACY: DsFormats = {
  contacts: { type: 'text/x-vcard', version: '2.1' },
  calendar: { type: 'text/x-vcalendar', version: '1.0' },
};

/** Older models speak vCard 2.1 and vCalendar 1.0, as the feature phones of their day did. */
const LEGACY_MODELS = new Set(['korra-k7']);

export function dsFormatsOf(model: string): DsFormats {
  return LEGACY_MODELS.has(model) ? LEGACY : MODERN;
}

export { dsAccountRef } from '../lib/omadm/mo/backup-restore';

function emptyStore(): DsClientStore {
  return { items: {}, changes: {}, nextLuid: 1 };
}

/** A handset with nothing in its phonebook or calendar (a new phone). */
export function emptyHandsetDs(model: string): HandsetDs {
  return {
    stores: { contacts: emptyStore(), calendar: emptyStore() },
    accounts: {},
    nonces: {},
    formats: dsFormatsOf(model),
  };
}

/** The handset's phonebook (50-300 contacts) and calendar (20-80 events), from its seed. */
export function generatedHandsetDs(seed: number, model: string): HandsetDs {
  const ds = emptyHandsetDs(model);
  const r = new Rng(subSeed(seed, 'ds-stores'));
  const itemSeed = subSeed(seed, 'ds-items');
  for (const c of generateContacts(itemSeed, r.int(50, 300), ds.formats.contacts.version)) {
    ds.stores.contacts.items[c.id] = { type: ds.formats.contacts.type, text: c.text };
  }
  for (const e of generateEvents(itemSeed, r.int(20, 80), ds.formats.calendar.version)) {
    ds.stores.calendar.items[e.id] = { type: ds.formats.calendar.type, text: e.text };
  }
  return ds;
}

export function newLuid(store: DsClientStore, name: DsStoreName): string {
  for (;;) {
    const luid = `${name === 'contacts' ? 'c' : 'e'}${store.nextLuid++}`;
    if (!Object.hasOwn(store.items, luid)) return luid;
  }
}

function note(store: DsClientStore, luid: string, change: DsChange): void {
  const prev = store.changes[luid];
  if (change === 'replace' && prev === 'add') return; // still new to the server
  if (change === 'delete' && prev === 'add') {
    delete store.changes[luid];
    return;
  } // the server never saw it
  store.changes[luid] = change;
}

/** The user adds an item (no LUID) or edits one: recorded as a change for the next sync. */
export function userPut(ds: HandsetDs, name: DsStoreName, text: string, luid?: string): string {
  const store = ds.stores[name];
  const id = luid ?? newLuid(store, name);
  const existed = Object.hasOwn(store.items, id);
  store.items[id] = { type: ds.formats[name].type, text };
  note(store, id, existed ? 'replace' : 'add');
  return id;
}

export function userDelete(ds: HandsetDs, name: DsStoreName, luid: string): boolean {
  const store = ds.stores[name];
  if (!Object.hasOwn(store.items, luid)) return false;
  delete store.items[luid];
  note(store, luid, 'delete');
  return true;
}

/** Everything gone, anchors too (a factory reset): the next sync is slow. */
export function wipeDsStores(ds: HandsetDs): void {
  ds.stores = { contacts: emptyStore(), calendar: emptyStore() };
}
