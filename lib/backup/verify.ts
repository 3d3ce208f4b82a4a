/**
 * Verification: re-reads a snapshot's manifest and every value it names from the blob
 * store and checks each against its hash (and each value against its size), so a restore
 * is known to work before it is needed.
 */
import type { Db } from '@/db/client';
import { completeSnapshots } from '@/db/queries/retention';
import { getSnapshot, type SnapshotRow } from '@/db/queries/snapshots';
import { BlobStoreError, sha256Hex, type BlobStore } from './blob-store';
import { decodeManifest, type Manifest } from './manifest';

export interface VerifyResult {
  ok: boolean;
  /** Entries with a value that were checked. */
  checked: number;
  /** Paths whose value is not in the store. */
  missing: string[];
  /** Paths whose stored value does not hash to its name or has the wrong size. */
  damaged: string[];
  manifest: 'ok' | 'missing' | 'damaged';
}

/** What one blob turned out to be; shared between snapshots so common content is read once. */
type BlobState = { state: 'ok'; size: number } | { state: 'missing' } | { state: 'damaged' };

export type BlobCache = Map<string, BlobState>;

async function blobState(store: BlobStore, hash: string, cache: BlobCache): Promise<BlobState> {
  const known = cache.get(hash);
  if (known) return known;
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(hash);
  } catch (err) {
    if (!(err instanceof BlobStoreError && err.code === 'damaged')) throw err;
    cache.set(hash, { state: 'damaged' });
    return { state: 'damaged' };
  }
  const state: BlobState = !bytes
    ? { state: 'missing' }
    : sha256Hex(bytes) === hash
      ? { state: 'ok', size: bytes.length }
      : { state: 'damaged' };
  cache.set(hash, state);
  return state;
}

const failed = (manifest: 'missing' | 'damaged'): VerifyResult => ({
  ok: false,
  checked: 0,
  missing: [],
  damaged: [],
  manifest,
});

/**
 * Verifies one snapshot. A snapshot without a root hash (not complete) reports its
 * manifest missing. Throws when there is no such snapshot.
 */
export async function verifySnapshot(
  db: Db,
  store: BlobStore,
  snapshotId: string,
  cache: BlobCache = new Map(),
): Promise<VerifyResult> {
  const snap = await getSnapshot(db, snapshotId);
  if (!snap) throw new Error(`no such snapshot: ${snapshotId}`);
  return verifyRow(store, snap, cache);
}

async function verifyRow(store: BlobStore, snap: SnapshotRow, cache: BlobCache): Promise<VerifyResult> {
  if (!snap.rootHash) return failed('missing');

  const bytes = await store.get(snap.rootHash);
  if (!bytes) return failed('missing');
  if (sha256Hex(bytes) !== snap.rootHash) return failed('damaged');
  let manifest: Manifest;
  try {
    manifest = decodeManifest(bytes);
  } catch {
    return failed('damaged');
  }

  const result: VerifyResult = { ok: true, checked: 0, missing: [], damaged: [], manifest: 'ok' };
  for (const e of manifest.entries) {
    if (!e.hash) continue;
    result.checked++;
    const s = await blobState(store, e.hash, cache);
    if (s.state === 'missing') result.missing.push(e.path);
    else if (s.state === 'damaged' || s.size !== e.size) result.damaged.push(e.path);
  }
  result.ok = result.missing.length === 0 && result.damaged.length === 0;
  return result;
}

export interface SnapshotVerification extends VerifyResult {
  snapshotId: string;
  deviceId: string;
}

export interface VerifyAllResult {
  ok: boolean;
  /** Snapshots verified. */
  snapshots: number;
  /** Those that failed. */
  failed: number;
  /** One per snapshot, newest first. */
  results: SnapshotVerification[];
}

/** Verifies every complete snapshot of one device, or of all devices; shared content is read once. */
export async function verifyAll(db: Db, store: BlobStore, opts: { deviceId?: string } = {}): Promise<VerifyAllResult> {
  const cache: BlobCache = new Map();
  const results: SnapshotVerification[] = [];
  for (const snap of await completeSnapshots(db, opts.deviceId)) {
    const r = await verifyRow(store, snap, cache);
    results.push({ snapshotId: snap.id, deviceId: snap.deviceId, ...r });
  }
  const failedCount = results.filter((r) => !r.ok).length;
  return { ok: failedCount === 0, snapshots: results.length, failed: failedCount, results };
}
