/**
 * One deployment, one configuration. Every server process and command shares the database,
 * the blob store and the master key; a process that names another store or holds another key
 * would write content nobody else can find or keys nobody else can open, and a command would
 * report sound backups as damaged. So the first process to start records the deployment's
 * identity in the database (the blob store, and a fingerprint of the master key, never the
 * key), and every later one compares its own configuration with it before it writes anything:
 * no key file made, no folder made. `rewind config check` prints the comparison and
 * `/api/health` reports not ready with the same reason.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isPg, type Db } from '@/db/client';
import {
  anyDataKey,
  getDeployment,
  newestManifest,
  recordDeployment,
  type DeploymentIdentity,
} from '@/db/queries/deployment';
import type { RawBlobStore } from '../backup/blob-store';
import { KeyError, keyFingerprint, loadMasterKey, opensDataKey, readMasterKey } from '../backup/keyring';
import { PackStore } from '../backup/packs';
import { parseS3Url } from '../backup/s3-store';
import { packedCopies } from '@/db/queries/packs';
import type { Env } from './env';

/** This process's configuration is not the deployment's: it must not start. */
export class DeploymentMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeploymentMismatchError';
  }
}

type Settings = Pick<Env, 'BLOB_STORE' | 'REWIND_MASTER_KEY' | 'REWIND_MASTER_KEY_FILE' | 'dataDir'>;
export type StoreIdentity = Pick<DeploymentIdentity, 'blobStore' | 'blobBucket' | 'blobPrefix' | 'blobDir'>;

/** The blob store this configuration names. */
export function storeOf(e: Pick<Env, 'BLOB_STORE' | 'dataDir'>): StoreIdentity {
  const s3 = e.BLOB_STORE ? parseS3Url(e.BLOB_STORE) : undefined;
  return s3
    ? { blobStore: 's3', blobBucket: s3.bucket, blobPrefix: s3.prefix, blobDir: null }
    : { blobStore: 'file', blobBucket: null, blobPrefix: null, blobDir: path.join(e.dataDir, 'blobs') };
}

export function describeStore(s: StoreIdentity): string {
  if (s.blobStore === 's3') return `s3://${s.blobBucket}${s.blobPrefix ? `/${s.blobPrefix.replace(/\/$/, '')}` : ''}`;
  return `files under ${s.blobDir}`;
}

/**
 * On SQLite the files sit beside the database in DATA_DIR, so a moved DATA_DIR is the same
 * deployment; on PostgreSQL processes on several machines must name the same directory.
 */
function sameStore(here: StoreIdentity, there: StoreIdentity, onPg: boolean): boolean {
  if (here.blobStore !== there.blobStore) return false;
  if (here.blobStore === 's3') return here.blobBucket === there.blobBucket && here.blobPrefix === there.blobPrefix;
  return !onPg || here.blobDir === there.blobDir;
}

function storeDiffers(here: StoreIdentity, there: StoreIdentity): string {
  const theirs = `this deployment keeps content in ${describeStore(there)}`;
  if (here.blobStore === 'file' && there.blobStore === 's3') return `BLOB_STORE is not set here; ${theirs}`;
  if (here.blobStore === 's3')
    return `BLOB_STORE is ${describeStore(here)} here; ${theirs}${there.blobStore === 'file' ? ' (BLOB_STORE not set)' : ''}`;
  return `DATA_DIR here keeps content in ${describeStore(here)}; ${theirs}`;
}

function keyDiffers(setting: string, key: Uint8Array, theirs: string): string {
  return `${setting} is not this deployment's master key: its fingerprint is ${keyFingerprint(key)}, the deployment's is ${theirs}`;
}

export interface SettingCheck {
  setting: 'blob store' | 'master key';
  here: string;
  deployment: string;
  same: boolean;
}

export interface DeploymentCheck {
  /** The deployment's identity is recorded (else the checks compare with nothing). */
  recorded: boolean;
  checks: SettingCheck[];
  /** The first difference, in the words a refusal uses; undefined when this process may run. */
  reason?: string;
  /** This process's master key when it has one (read, never made here). */
  key?: Uint8Array;
}

/** Compares this configuration with the recorded identity. Reads only: nothing is made or written. */
export async function checkDeployment(db: Db, e: Settings): Promise<DeploymentCheck> {
  const row = await getDeployment(db);
  const store = storeOf(e);
  let keyHere: string;
  let key: Uint8Array | undefined;
  let keyReason: string | undefined;
  try {
    const src = readMasterKey(e, e.dataDir);
    key = src.key;
    keyHere = key ? `${src.setting}, fingerprint ${keyFingerprint(key)}` : `none (${src.file} does not exist)`;
    if (row && !key)
      keyReason = `no master key here: REWIND_MASTER_KEY and REWIND_MASTER_KEY_FILE are not set and ${src.file} does not exist; this deployment's master key has fingerprint ${row.keyFingerprint}`;
    else if (row && key && keyFingerprint(key) !== row.keyFingerprint)
      keyReason = keyDiffers(src.setting, key, row.keyFingerprint);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    keyHere = `unreadable: ${err.message}`;
    keyReason = err.message;
  }
  const storeSame = !row || sameStore(store, row, isPg(db));
  const checks: SettingCheck[] = [
    {
      setting: 'blob store',
      here: describeStore(store),
      deployment: row ? describeStore(row) : 'not recorded yet',
      same: storeSame,
    },
    {
      setting: 'master key',
      here: keyHere,
      deployment: row ? `fingerprint ${row.keyFingerprint}` : 'not recorded yet',
      same: !keyReason,
    },
  ];
  const reason = !storeSame ? storeDiffers(store, row!) : keyReason;
  return {
    recorded: !!row,
    checks,
    ...(reason ? { reason } : {}),
    ...(key ? { key } : {}),
  };
}

/**
 * Checks this process's configuration against the deployment before anything is written,
 * and records the identity when there is none yet (a new deployment, or one from before it
 * was kept). Returns the master key, made only for a new deployment. A deployment without
 * an identity that already holds data is recorded only if this configuration is its own:
 * the master key opens its data keys, and its newest backup's manifest is in this store.
 * `openStore` opens the raw blob store this configuration names (asked only then).
 */
export async function establishDeployment(db: Db, e: Settings, openStore: () => RawBlobStore): Promise<Uint8Array> {
  const check = await checkDeployment(db, e);
  if (check.reason) throw new DeploymentMismatchError(check.reason);
  if (check.recorded) return check.key!;

  const store = storeOf(e);
  const src = readMasterKey(e, e.dataDir);
  const stored = await anyDataKey(db);
  if (stored && !src.key)
    throw new DeploymentMismatchError(
      `no master key here: REWIND_MASTER_KEY and REWIND_MASTER_KEY_FILE are not set and ${src.file} does not exist, but this database already holds data keys: set REWIND_MASTER_KEY to this deployment's master key`,
    );
  if (stored && src.key && !opensDataKey(src.key, stored.owner, stored.wrapped))
    throw new DeploymentMismatchError(
      `${src.setting} does not open this deployment's data keys: it is not the master key its backups were written with`,
    );
  const manifest = await newestManifest(db);
  // A file store that does not exist holds nothing: say so without making its folder.
  const present =
    manifest !== undefined &&
    (store.blobStore === 'file' && !fs.existsSync(store.blobDir!)
      ? false
      : await lookFor(db, openStore(), manifest, store));
  if (manifest !== undefined && !present)
    throw new DeploymentMismatchError(
      `this deployment's newest backup is not in ${describeStore(store)}${store.blobStore === 'file' ? ' (BLOB_STORE is not set here)' : ''}: set BLOB_STORE (and DATA_DIR) to where its content is kept`,
    );

  const key = src.key ?? loadMasterKey(e, e.dataDir);
  const row = await recordDeployment(db, { ...store, keyFingerprint: keyFingerprint(key) });
  // Another process recorded it first, configured otherwise.
  if (!sameStore(store, row, isPg(db))) throw new DeploymentMismatchError(storeDiffers(store, row));
  if (row.keyFingerprint !== keyFingerprint(key))
    throw new DeploymentMismatchError(keyDiffers(src.setting, key, row.keyFingerprint));
  return key;
}

async function lookFor(db: Db, raw: RawBlobStore, hash: string, store: StoreIdentity): Promise<boolean> {
  try {
    if (await raw.has(hash)) return true;
    // Packed (packs.ts): the manifest is where the index says, in a pack beside the loose values.
    const packs = PackStore.beside(raw);
    for (const c of packs ? await packedCopies(db, hash) : [])
      if (await packs!.read(c.packId, c.offset, c.length)) return true;
    return false;
  } catch (err) {
    throw new DeploymentMismatchError(
      `this deployment's newest backup could not be looked for in ${describeStore(store)}: ${(err as Error).message}`,
    );
  }
}

/** Whether this process may take traffic (`/api/health`): its configuration is the deployment's. */
export async function deploymentReadiness(db: Db, e: Settings): Promise<{ ready: boolean; reason?: string }> {
  const check = await checkDeployment(db, e);
  if (check.reason) return { ready: false, reason: check.reason };
  if (!check.recorded)
    return {
      ready: false,
      reason: "the deployment's identity is not recorded: a server process records it when it starts (npm start)",
    };
  return { ready: true };
}
