/**
 * Rewind's vendor Backup & Restore MO, rooted at ./Ext/Rewind/BR. OMA never standardised
 * one (the two contributions in /work/shared/seeds only asked for it), so this is ours;
 * docs/backup-restore-mo.md is the DDF-style description handset makers implement.
 *
 * Operation parameters and results are small JSON documents carried in Item Data with
 * Meta Format chr and Type application/json: SyncML has no structured leaf type that
 * every client parses, and JSON keeps the handset side trivial. Every parser here bounds
 * the size, refuses unknown enum values and builds fresh objects field by field, so a
 * hostile payload cannot smuggle extra properties (or __proto__) into the caller.
 */
import { DecodeError } from '../errors';
import type { Exec, Item, ItemData } from '../message';
import { dataText, itemPath, itemText, leafItem, nodeName, parseBool, parseUInt, valuesByPath } from './common';
import type { GenericAlertItem } from './generic-alert';

export const BR_ROOT = './Ext/Rewind/BR';
export const BR_MO_VERSION = '1.0';

/**
 * The passwordRef under which a handset keeps the DS account of `user`: the DS settings
 * the server provisions (lib/ds/jobs.ts) point at it, and the handset stores it there.
 */
export function dsAccountRef(user: string): string {
  return `./DSAcc/${user}`;
}

export const BR = {
  root: BR_ROOT,
  Version: `${BR_ROOT}/Version`,
  Policy: `${BR_ROOT}/Policy`,
  PolicyEnabled: `${BR_ROOT}/Policy/Enabled`,
  PolicyInterval: `${BR_ROOT}/Policy/Interval`,
  PolicyCategories: `${BR_ROOT}/Policy/Categories`,
  PolicyWifiOnly: `${BR_ROOT}/Policy/WifiOnly`,
  PolicyRoamingAllowed: `${BR_ROOT}/Policy/RoamingAllowed`,
  Operations: `${BR_ROOT}/Operations`,
  RequestBackup: `${BR_ROOT}/Operations/RequestBackup`,
  LocalBackup: `${BR_ROOT}/Operations/LocalBackup`,
  LocalRestore: `${BR_ROOT}/Operations/LocalRestore`,
  DataSync: `${BR_ROOT}/Operations/DataSync`,
  Local: `${BR_ROOT}/Local`,
  Status: `${BR_ROOT}/Status`,
  LastResult: `${BR_ROOT}/Status/LastResult`,
} as const;

export function localPaths(id: string) {
  const b = `${BR.Local}/${nodeName(id)}`;
  return {
    base: b,
    Target: `${b}/Target`,
    Time: `${b}/Time`,
    Categories: `${b}/Categories`,
    Entries: `${b}/Entries`,
    Size: `${b}/Size`,
    RootHash: `${b}/RootHash`,
  };
}

export const BR_ALERT = {
  backupRequest: 'com.rewind.br.backup.request',
  localBackupResult: 'com.rewind.br.local.backup.result',
  localRestoreResult: 'com.rewind.br.local.restore.result',
  dsResult: 'com.rewind.br.ds.result',
} as const;

export const JSON_TYPE = 'application/json';

export const CATEGORIES = ['settings', 'certificates', 'appdata', 'applications', 'firmware'] as const;
export type Category = (typeof CATEGORIES)[number];
export const LOCAL_TARGETS = ['device', 'smartcard'] as const;
export type LocalTarget = (typeof LOCAL_TARGETS)[number];
export const DS_STORES = ['contacts', 'calendar', 'tasks', 'notes'] as const;
export type DsStore = (typeof DS_STORES)[number];
/** DS sync types and their SyncML DS alert codes (200..205). */
export const DS_SYNC_TYPES = {
  'two-way': 200,
  slow: 201,
  'one-way-from-client': 202,
  'refresh-from-client': 203,
  'one-way-from-server': 204,
  'refresh-from-server': 205,
} as const;
export type DsSyncType = keyof typeof DS_SYNC_TYPES;
export const BACKUP_REASONS = ['server', 'user', 'policy'] as const;
export type BackupReason = (typeof BACKUP_REASONS)[number];

/** Result codes in every B&R alert, modelled on FUMO's table. */
export const BR_RESULT: Readonly<Record<number, string>> = {
  200: 'Successful',
  400: 'Client Error',
  401: 'User Cancelled',
  402: 'Not Enough Storage',
  403: 'Target Unavailable',
  404: 'Backup Not Found',
  405: 'Bad Parameters',
  406: 'Blocked by Policy',
  407: 'Integrity Check Failed',
  408: 'Not Implemented',
  409: 'Undefined Error',
  410: 'Data Sync Authentication Failed',
  411: 'Data Sync Server Unreachable',
  412: 'Data Sync Failed',
  413: 'Busy',
};

export function isBrSuccess(code: number): boolean {
  return code === 200 || (code >= 250 && code <= 299);
}

export function brResultText(code: number): string {
  return BR_RESULT[code] ?? (code >= 250 && code <= 299 ? 'Successful - Vendor Specified' : 'Unknown Result Code');
}

// ---------------------------------------------------------------------------------------
// Validation: one small reader per JSON shape, throwing DecodeError('invalid').

const MAX_PAYLOAD = 64 * 1024;
type Obj = Record<string, unknown>;

function invalid(msg: string): never {
  throw new DecodeError('invalid', msg);
}

/** Parses a JSON payload out of Item Data. */
export function decodePayload(data: ItemData | undefined): unknown {
  if (data === undefined) return undefined;
  if (Array.isArray(data)) invalid('B&R payload must be JSON text, not XML');
  const len = data.length; // UTF-16 units or bytes: either bounds the work
  if (len > MAX_PAYLOAD) throw new DecodeError('too-large', `B&R payload of ${len} exceeds ${MAX_PAYLOAD}`);
  const text = dataText(data);
  if (text === undefined) throw new DecodeError('malformed', 'B&R payload is not UTF-8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new DecodeError('malformed', 'B&R payload is not JSON');
  }
}

function obj(v: unknown, what: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(`${what} must be an object`);
  return v as Obj;
}

function str(o: Obj, k: string, max = 1024): string {
  const v = o[k];
  if (typeof v !== 'string' || v.length === 0 || v.length > max)
    invalid(`${k} must be a non-empty string of at most ${max} characters`);
  return v;
}

function optStr(o: Obj, k: string, max = 1024): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, max);
}

function uint(o: Obj, k: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) invalid(`${k} must be a non-negative integer`);
  return v;
}

function oneOf<T extends string>(o: Obj, k: string, allowed: readonly T[]): T {
  const v = o[k];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
    invalid(`${k} must be one of ${allowed.join(', ')}`);
  return v as T;
}

function listOf<T extends string>(o: Obj, k: string, allowed: readonly T[], required: boolean): T[] | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (!Array.isArray(v) || v.length === 0 || v.length > allowed.length * 4) invalid(`${k} must be a non-empty list`);
  const out: T[] = [];
  for (const x of v) {
    if (typeof x !== 'string' || !(allowed as readonly string[]).includes(x)) invalid(`${k} has an unknown value`);
    if (!out.includes(x as T)) out.push(x as T);
  }
  return out;
}

/** Policy/Categories and Local/<id>/Categories: a comma list. Unknown names are ignored (newer handsets). */
export function parseCategories(s: string | undefined): Category[] {
  if (s === undefined) return [];
  const out: Category[] = [];
  for (const part of s.split(',').slice(0, 32)) {
    const c = part.trim().toLowerCase();
    if ((CATEGORIES as readonly string[]).includes(c) && !out.includes(c as Category)) out.push(c as Category);
  }
  return out;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

// ---------------------------------------------------------------------------------------
// Policy

export interface BrPolicy {
  enabled: boolean;
  /** Minutes between automatic backups; 0 = only on request. */
  intervalMinutes: number;
  categories: Category[];
  wifiOnly: boolean;
  roamingAllowed: boolean;
}

/** Replace items setting (part of) the handset's policy. */
export function policyReplaceItems(p: Partial<BrPolicy>): Item[] {
  const items: Item[] = [];
  if (p.enabled !== undefined) items.push(leafItem(BR.PolicyEnabled, String(p.enabled), { format: 'bool' }));
  if (p.intervalMinutes !== undefined) {
    if (!Number.isSafeInteger(p.intervalMinutes) || p.intervalMinutes < 0)
      throw new RangeError('intervalMinutes must be a non-negative integer');
    items.push(leafItem(BR.PolicyInterval, String(p.intervalMinutes), { format: 'int' }));
  }
  if (p.categories !== undefined) items.push(leafItem(BR.PolicyCategories, p.categories.join(','), { format: 'chr' }));
  if (p.wifiOnly !== undefined) items.push(leafItem(BR.PolicyWifiOnly, String(p.wifiOnly), { format: 'bool' }));
  if (p.roamingAllowed !== undefined)
    items.push(leafItem(BR.PolicyRoamingAllowed, String(p.roamingAllowed), { format: 'bool' }));
  return items;
}

/** Gets for the whole policy (one Item per leaf, for clients that refuse ?list=StructData). */
export function policyGetItems(): Item[] {
  return [BR.PolicyEnabled, BR.PolicyInterval, BR.PolicyCategories, BR.PolicyWifiOnly, BR.PolicyRoamingAllowed].map(
    (p) => ({ target: { locURI: p } }),
  );
}

/** The policy as read back from Results; leaves that are missing or do not parse are left out. */
export function parsePolicy(items: readonly Item[]): Partial<BrPolicy> {
  const v = valuesByPath(items);
  const out: Partial<BrPolicy> = {};
  const enabled = parseBool(v.get(BR.PolicyEnabled));
  if (enabled !== undefined) out.enabled = enabled;
  const interval = parseUInt(v.get(BR.PolicyInterval));
  if (interval !== undefined) out.intervalMinutes = interval;
  if (v.has(BR.PolicyCategories)) out.categories = parseCategories(v.get(BR.PolicyCategories));
  const wifi = parseBool(v.get(BR.PolicyWifiOnly));
  if (wifi !== undefined) out.wifiOnly = wifi;
  const roam = parseBool(v.get(BR.PolicyRoamingAllowed));
  if (roam !== undefined) out.roamingAllowed = roam;
  return out;
}

// ---------------------------------------------------------------------------------------
// Exec requests (server -> handset)

export interface RequestBackupParams {
  categories?: Category[];
}
export interface LocalBackupParams {
  target: LocalTarget;
  categories: Category[];
}
export interface LocalRestoreParams {
  id: string;
  categories?: Category[];
}
export interface DataSyncParams {
  serverUrl: string;
  user: string;
  /** Exactly one of password / passwordRef. Prefer passwordRef: a DS account already on the handset. */
  password?: string;
  passwordRef?: string;
  stores: DsStore[];
  syncType: DsSyncType;
}

function jsonItem(target: string, payload: unknown): Item {
  return { target: { locURI: target }, meta: { format: 'chr', type: JSON_TYPE }, data: JSON.stringify(payload) };
}

function exec(cmdId: number, correlator: string, item: Item): Exec {
  return { kind: 'Exec', cmdId, correlator, items: [item] };
}

/** Exec RequestBackup: the handset answers with a backup.request Generic Alert. Params optional. */
export function requestBackupExec(cmdId: number, correlator: string, p: RequestBackupParams = {}): Exec {
  const item: Item = p.categories
    ? jsonItem(BR.RequestBackup, { categories: p.categories })
    : { target: { locURI: BR.RequestBackup } };
  return exec(cmdId, correlator, item);
}

export function localBackupExec(cmdId: number, correlator: string, p: LocalBackupParams): Exec {
  return exec(cmdId, correlator, jsonItem(BR.LocalBackup, { target: p.target, categories: p.categories }));
}

export function localRestoreExec(cmdId: number, correlator: string, p: LocalRestoreParams): Exec {
  return exec(
    cmdId,
    correlator,
    jsonItem(BR.LocalRestore, p.categories ? { id: p.id, categories: p.categories } : { id: p.id }),
  );
}

export function dataSyncExec(cmdId: number, correlator: string, p: DataSyncParams): Exec {
  if ((p.password === undefined) === (p.passwordRef === undefined))
    throw new RangeError('give exactly one of password and passwordRef');
  return exec(
    cmdId,
    correlator,
    jsonItem(BR.DataSync, {
      serverUrl: p.serverUrl,
      user: p.user,
      ...(p.password !== undefined ? { password: p.password } : { passwordRef: p.passwordRef }),
      stores: p.stores,
      syncType: p.syncType,
    }),
  );
}

export function parseRequestBackupParams(data: ItemData | undefined): RequestBackupParams {
  const v = decodePayload(data);
  if (v === undefined) return {};
  const cats = listOf(obj(v, 'RequestBackup parameters'), 'categories', CATEGORIES, false);
  return cats ? { categories: cats } : {};
}

export function parseLocalBackupParams(data: ItemData | undefined): LocalBackupParams {
  const o = obj(decodePayload(data), 'LocalBackup parameters');
  return { target: oneOf(o, 'target', LOCAL_TARGETS), categories: listOf(o, 'categories', CATEGORIES, true)! };
}

export function parseLocalRestoreParams(data: ItemData | undefined): LocalRestoreParams {
  const o = obj(decodePayload(data), 'LocalRestore parameters');
  const id = str(o, 'id', 64);
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') invalid('id must be a node name');
  const cats = listOf(o, 'categories', CATEGORIES, false);
  return cats ? { id, categories: cats } : { id };
}

export function parseDataSyncParams(data: ItemData | undefined): DataSyncParams {
  const o = obj(decodePayload(data), 'DataSync parameters');
  const serverUrl = str(o, 'serverUrl', 2048);
  if (!/^https?:\/\//i.test(serverUrl)) invalid('serverUrl must be http(s)');
  const password = optStr(o, 'password', 256);
  const passwordRef = optStr(o, 'passwordRef', 1024);
  if ((password === undefined) === (passwordRef === undefined)) invalid('exactly one of password and passwordRef');
  const out: DataSyncParams = {
    serverUrl,
    user: str(o, 'user', 256),
    stores: listOf(o, 'stores', DS_STORES, true)!,
    syncType: oneOf(o, 'syncType', Object.keys(DS_SYNC_TYPES) as DsSyncType[]),
  };
  if (password !== undefined) out.password = password;
  else out.passwordRef = passwordRef;
  return out;
}

// ---------------------------------------------------------------------------------------
// Generic Alerts (handset -> server)

export interface BackupRequestAlert {
  reason: BackupReason;
  categories: Category[];
}

export interface LocalManifest {
  /** Node name under ./Ext/Rewind/BR/Local. */
  id: string;
  target: LocalTarget;
  /** ISO-8601 UTC. */
  time: string;
  categories: Category[];
  entries: number;
  /** Bytes. */
  size: number;
  /** Hex SHA-256 Merkle root over the backup's entries. */
  rootHash: string;
}

export interface LocalBackupResultAlert {
  result: number;
  manifest?: LocalManifest;
}
export interface LocalRestoreResultAlert {
  result: number;
  id: string;
  entries?: number;
}
export interface DsStoreResult {
  store: DsStore;
  added: number;
  replaced: number;
  deleted: number;
  failed: number;
  status?: number;
}
export interface DsResultAlert {
  result: number;
  stores: DsStoreResult[];
}

function alertItem(source: string, type: string, payload: unknown): GenericAlertItem {
  return { source, type, format: 'chr', data: JSON.stringify(payload) };
}

export function backupRequestAlert(a: BackupRequestAlert): GenericAlertItem {
  return alertItem(BR.RequestBackup, BR_ALERT.backupRequest, { reason: a.reason, categories: a.categories });
}
export function localBackupResultAlert(a: LocalBackupResultAlert): GenericAlertItem {
  return alertItem(BR.LocalBackup, BR_ALERT.localBackupResult, a);
}
export function localRestoreResultAlert(a: LocalRestoreResultAlert): GenericAlertItem {
  return alertItem(BR.LocalRestore, BR_ALERT.localRestoreResult, a);
}
export function dsResultAlert(a: DsResultAlert): GenericAlertItem {
  return alertItem(BR.DataSync, BR_ALERT.dsResult, a);
}

function result(o: Obj): number {
  const r = uint(o, 'result');
  if (r < 100 || r > 999) invalid('result must be a three-digit code');
  return r;
}

function manifest(v: unknown): LocalManifest {
  const o = obj(v, 'manifest');
  const id = str(o, 'id', 64);
  if (!/^[A-Za-z0-9._-]+$/.test(id) || id === '.' || id === '..') invalid('manifest id must be a node name');
  const time = str(o, 'time', 40);
  if (Number.isNaN(Date.parse(time))) invalid('manifest time must be ISO-8601');
  const rootHash = str(o, 'rootHash', 64).toLowerCase();
  if (!SHA256_HEX.test(rootHash)) invalid('rootHash must be 64 hex digits');
  return {
    id,
    target: oneOf(o, 'target', LOCAL_TARGETS),
    time,
    categories: listOf(o, 'categories', CATEGORIES, true)!,
    entries: uint(o, 'entries'),
    size: uint(o, 'size'),
    rootHash,
  };
}

export function parseBackupRequestAlert(data: ItemData | undefined): BackupRequestAlert {
  const v = decodePayload(data);
  // A bare alert (no data) is a user or policy request for the policy's categories.
  if (v === undefined) return { reason: 'user', categories: [] };
  const o = obj(v, 'backup request');
  return { reason: oneOf(o, 'reason', BACKUP_REASONS), categories: listOf(o, 'categories', CATEGORIES, false) ?? [] };
}

export function parseLocalBackupResultAlert(data: ItemData | undefined): LocalBackupResultAlert {
  const o = obj(decodePayload(data), 'local backup result');
  const r = result(o);
  if (o.manifest === undefined) {
    if (isBrSuccess(r)) invalid('a successful local backup must carry its manifest');
    return { result: r };
  }
  return { result: r, manifest: manifest(o.manifest) };
}

export function parseLocalRestoreResultAlert(data: ItemData | undefined): LocalRestoreResultAlert {
  const o = obj(decodePayload(data), 'local restore result');
  const out: LocalRestoreResultAlert = { result: result(o), id: str(o, 'id', 64) };
  if (o.entries !== undefined) out.entries = uint(o, 'entries');
  return out;
}

export function parseDsResultAlert(data: ItemData | undefined): DsResultAlert {
  const o = obj(decodePayload(data), 'data sync result');
  const r = result(o);
  const list = o.stores === undefined ? [] : o.stores;
  if (!Array.isArray(list) || list.length > DS_STORES.length * 4) invalid('stores must be a short list');
  const stores = list.map((s): DsStoreResult => {
    const so = obj(s, 'store result');
    const e: DsStoreResult = {
      store: oneOf(so, 'store', DS_STORES),
      added: uint(so, 'added'),
      replaced: uint(so, 'replaced'),
      deleted: uint(so, 'deleted'),
      failed: uint(so, 'failed'),
    };
    if (so.status !== undefined) e.status = uint(so, 'status');
    return e;
  });
  return { result: r, stores };
}

export type BrAlert =
  | { kind: 'backupRequest'; source?: string; alert: BackupRequestAlert }
  | { kind: 'localBackupResult'; source?: string; alert: LocalBackupResultAlert }
  | { kind: 'localRestoreResult'; source?: string; alert: LocalRestoreResultAlert }
  | { kind: 'dsResult'; source?: string; alert: DsResultAlert };

/**
 * Classifies and parses a B&R Generic Alert item. null when the item is not a B&R alert;
 * DecodeError when it is one but its payload is bad (the caller answers the Alert with
 * an error status and fails the job rather than guessing).
 */
export function parseBrAlert(g: GenericAlertItem): BrAlert | null {
  const src = g.source !== undefined ? { source: g.source } : {};
  switch (g.type) {
    case BR_ALERT.backupRequest:
      return { kind: 'backupRequest', ...src, alert: parseBackupRequestAlert(g.data) };
    case BR_ALERT.localBackupResult:
      return { kind: 'localBackupResult', ...src, alert: parseLocalBackupResultAlert(g.data) };
    case BR_ALERT.localRestoreResult:
      return { kind: 'localRestoreResult', ...src, alert: parseLocalRestoreResultAlert(g.data) };
    case BR_ALERT.dsResult:
      return { kind: 'dsResult', ...src, alert: parseDsResultAlert(g.data) };
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------
// Local backups listed in the tree, and the last result

/** Results items a handset exposes for one local backup (Source side). */
export function localManifestItems(m: LocalManifest): Item[] {
  const p = localPaths(m.id);
  return [
    leafItem(p.Target, m.target, { side: 'source' }),
    leafItem(p.Time, m.time, { side: 'source' }),
    leafItem(p.Categories, m.categories.join(','), { side: 'source' }),
    leafItem(p.Entries, String(m.entries), { side: 'source', format: 'int' }),
    leafItem(p.Size, String(m.size), { side: 'source', format: 'int' }),
    leafItem(p.RootHash, m.rootHash, { side: 'source' }),
  ];
}

/**
 * Reads the local backups listed under ./Ext/Rewind/BR/Local from Results items. Entries
 * with a missing or malformed leaf are skipped; at most 256 are read.
 */
export function parseLocalManifests(items: readonly Item[]): LocalManifest[] {
  const byId = new Map<string, Map<string, string>>();
  const prefix = `${BR.Local}/`;
  for (const item of items) {
    const path = itemPath(item);
    const v = itemText(item);
    if (!path?.startsWith(prefix) || v === undefined) continue;
    const [id, leaf, ...more] = path.slice(prefix.length).split('/');
    if (!id || !leaf || more.length > 0) continue;
    let m = byId.get(id);
    if (!m) {
      if (byId.size >= 256) continue;
      m = new Map();
      byId.set(id, m);
    }
    m.set(leaf, v);
  }
  const out: LocalManifest[] = [];
  for (const [id, m] of byId) {
    try {
      out.push(
        manifest({
          id,
          target: m.get('Target'),
          time: m.get('Time'),
          categories: parseCategories(m.get('Categories')),
          entries: parseUInt(m.get('Entries')),
          size: parseUInt(m.get('Size')),
          rootHash: m.get('RootHash'),
        }),
      );
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  }
  return out;
}

export type BrOperation = 'RequestBackup' | 'LocalBackup' | 'LocalRestore' | 'DataSync';
const OPERATIONS: readonly BrOperation[] = ['RequestBackup', 'LocalBackup', 'LocalRestore', 'DataSync'];

export interface LastResult {
  op: BrOperation;
  result: number;
  time: string;
  correlator?: string;
}

export function lastResultItem(r: LastResult): Item {
  return { source: { locURI: BR.LastResult }, meta: { format: 'chr', type: JSON_TYPE }, data: JSON.stringify(r) };
}

export function parseLastResult(data: ItemData | undefined): LastResult {
  const o = obj(decodePayload(data), 'LastResult');
  const out: LastResult = { op: oneOf(o, 'op', OPERATIONS), result: result(o), time: str(o, 'time', 40) };
  const c = optStr(o, 'correlator', 256);
  if (c !== undefined) out.correlator = c;
  return out;
}
