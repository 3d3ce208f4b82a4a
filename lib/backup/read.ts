/**
 * Reading snapshots back: the manifest, one node's content, and a diff of two snapshots
 * with firmware and app versions resolved from the stored values. Shared by the REST API,
 * the CLI and the console.
 */
import type { Db } from '@/db/client';
import { appErrorFamily, type AppErrorKind } from '../core/errors';
import { getSnapshot, type SnapshotRow } from '@/db/queries/snapshots';
import type { BlobStore } from './blob-store';
import { decodeManifest, type ManifestEntry } from './manifest';
import { diffManifests, type SnapshotDiff } from './diff';

const SNAPSHOT_KIND = {
  'not-found': 'not-found',
  'no-such-node': 'not-found',
  'not-complete': 'conflict',
  'content-missing': 'internal',
} as const satisfies Record<string, AppErrorKind>;

export class SnapshotError extends appErrorFamily(SNAPSHOT_KIND, {
  // A blob gone from the store is our fault, and said plainly.
  'content-missing': (message) =>
    `The backup store has lost data this snapshot needs (${message}); an operator should run a store verification.`,
}) {}

/** Leaves small enough to show as text in a diff (firmware and app versions, settings). */
const TEXT_MAX = 256;

export async function readManifest(
  db: Db,
  store: BlobStore,
  snapshotId: string,
): Promise<{ snapshot: SnapshotRow; entries: ManifestEntry[] }> {
  const snapshot = await getSnapshot(db, snapshotId);
  if (!snapshot) throw new SnapshotError('not-found', `no snapshot ${snapshotId}`);
  if (snapshot.status !== 'complete' || !snapshot.rootHash) {
    throw new SnapshotError(
      'not-complete',
      `snapshot ${snapshotId} is ${snapshot.status}: only complete snapshots have a manifest`,
    );
  }
  const bytes = await store.get(snapshot.rootHash);
  if (!bytes)
    throw new SnapshotError('content-missing', `the manifest of snapshot ${snapshotId} is missing from the store`);
  return { snapshot, entries: decodeManifest(bytes).entries };
}

export async function readNode(
  db: Db,
  store: BlobStore,
  snapshotId: string,
  path: string,
): Promise<{ entry: ManifestEntry; bytes: Uint8Array }> {
  const { entries } = await readManifest(db, store, snapshotId);
  const entry = entries.find((e) => e.path === path);
  if (!entry) throw new SnapshotError('no-such-node', `snapshot ${snapshotId} has no node ${path}`);
  if (!entry.hash) return { entry, bytes: new Uint8Array(0) };
  const bytes = await store.get(entry.hash);
  if (!bytes) throw new SnapshotError('content-missing', `the content of ${path} is missing from the store`);
  return { entry, bytes };
}

/** Diff of two complete snapshots (of one device or two), versions read from the store. */
export async function diffSnapshots(
  db: Db,
  store: BlobStore,
  aId: string,
  bId: string,
): Promise<SnapshotDiff & { a: SnapshotRow; b: SnapshotRow }> {
  const [a, b] = await Promise.all([readManifest(db, store, aId), readManifest(db, store, bId)]);
  const texts = new Map<string, string>();
  const wanted = (e: ManifestEntry) =>
    e.hash !== undefined && e.size <= TEXT_MAX && (e.category === 'firmware' || e.category === 'applications');
  for (const e of [...a.entries, ...b.entries]) {
    if (!wanted(e) || texts.has(e.hash!)) continue;
    const bytes = await store.get(e.hash!);
    if (bytes) texts.set(e.hash!, new TextDecoder().decode(bytes));
  }
  const diff = diffManifests(a.entries, b.entries, {
    leafValue: (_side, e) => (e.hash ? texts.get(e.hash) : undefined),
  });
  return { ...diff, a: a.snapshot, b: b.snapshot };
}
