/**
 * DS snapshots: an account's stores as a session left them. The manifest lists every item
 * (store, id, UID, type, size, content hash, the name a person reads), sorted, as canonical
 * JSON; it is a blob, and its hash is the snapshot's root, so an unchanged phonebook adds
 * nothing to the store. Diffs match items by UID when they have one, else by the server's id.
 */
import { z } from 'zod';
import type { AppContext } from '../core/context';
import type { Db } from '@/db/client';
import { dsItemsOf, getDsSnapshot, insertDsSnapshot, type DsAccountRow, type DsSnapshotRow } from '@/db/queries/ds';
import { recordBlob } from '@/db/queries/snapshots';
import type { BlobStore } from '../backup/blob-store';
import { sha256Hex } from '../backup/blob-store';
import { deviceKeyOwner } from '../backup/sealed-store';
import { DS_STORE_NAMES, type DsStoreName } from './protocol';

export interface DsManifestEntry {
  store: DsStoreName;
  id: string;
  uid?: string;
  type: string;
  size: number;
  hash: string;
  summary: string;
}

const entrySchema = z
  .object({
    store: z.enum(DS_STORE_NAMES as [DsStoreName, ...DsStoreName[]]),
    id: z.string().min(1).max(64),
    uid: z.string().max(256).optional(),
    type: z.string().max(100),
    size: z.number().int().min(0),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
    summary: z.string().max(200),
  })
  .strict();
const manifestSchema = z.object({ v: z.literal(1), kind: z.literal('ds'), entries: z.array(entrySchema) }).strict();

function order(a: DsManifestEntry, b: DsManifestEntry): number {
  const ka = `${a.store}\u0000${a.uid ?? ''}\u0000${a.id}`;
  const kb = `${b.store}\u0000${b.uid ?? ''}\u0000${b.id}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

export function encodeDsManifest(entries: readonly DsManifestEntry[]): Uint8Array {
  const canonical = [...entries].sort(order).map((e) => ({
    store: e.store,
    id: e.id,
    ...(e.uid !== undefined ? { uid: e.uid } : {}),
    type: e.type,
    size: e.size,
    hash: e.hash,
    summary: e.summary,
  }));
  return new TextEncoder().encode(JSON.stringify({ v: 1, kind: 'ds', entries: canonical }));
}

export function decodeDsManifest(bytes: Uint8Array): DsManifestEntry[] {
  return manifestSchema.parse(JSON.parse(new TextDecoder().decode(bytes))).entries as DsManifestEntry[];
}

export async function takeDsSnapshot(
  ctx: AppContext,
  account: DsAccountRow,
  s: { syncType: string; changes: unknown; newBytes: number; jobId: string | null },
): Promise<DsSnapshotRow> {
  const entries: DsManifestEntry[] = (await dsItemsOf(ctx.db, account.id)).map((i) => ({
    store: i.store,
    id: i.id,
    ...(i.uid ? { uid: i.uid } : {}),
    type: i.contentType,
    size: i.size,
    hash: i.hash,
    summary: i.summary,
  }));
  const bytes = encodeDsManifest(entries);
  const { hash, created } = await ctx.blobs.put(bytes, await deviceKeyOwner(ctx.db, account.deviceId));
  const fresh = (await recordBlob(ctx.db, hash, bytes.length)) && created;
  return insertDsSnapshot(ctx.db, {
    deviceId: account.deviceId,
    accountId: account.id,
    jobId: s.jobId,
    syncType: s.syncType,
    rootHash: hash,
    contacts: entries.filter((e) => e.store === 'contacts').length,
    events: entries.filter((e) => e.store === 'calendar').length,
    bytes: entries.reduce((n, e) => n + e.size, 0),
    newBytes: s.newBytes + (fresh ? bytes.length : 0),
    changes: JSON.stringify(s.changes),
    createdAt: Date.now(),
  });
}

export async function readDsManifest(
  db: Db,
  blobs: BlobStore,
  snapshotId: string,
): Promise<{ snapshot: DsSnapshotRow; entries: DsManifestEntry[] }> {
  const snapshot = await getDsSnapshot(db, snapshotId);
  if (!snapshot) throw new Error(`no DS snapshot ${snapshotId}`);
  const bytes = await blobs.get(snapshot.rootHash);
  if (!bytes || sha256Hex(bytes) !== snapshot.rootHash)
    throw new Error(`the manifest of DS snapshot ${snapshotId} is missing or damaged`);
  return { snapshot, entries: decodeDsManifest(bytes) };
}

export interface DsItemChange {
  store: DsStoreName;
  key: string;
  summary: string;
  before?: DsManifestEntry;
  after?: DsManifestEntry;
}

export interface DsDiff {
  added: DsItemChange[];
  removed: DsItemChange[];
  changed: DsItemChange[];
  unchanged: number;
  byStore: Record<DsStoreName, { added: number; removed: number; changed: number }>;
}

/** Contacts and events added, removed and changed between two DS manifests. */
export function diffDsManifests(a: readonly DsManifestEntry[], b: readonly DsManifestEntry[]): DsDiff {
  const key = (e: DsManifestEntry) => `${e.store}:${e.uid ?? `id:${e.id}`}`;
  const before = new Map(a.map((e) => [key(e), e]));
  const after = new Map(b.map((e) => [key(e), e]));
  const out: DsDiff = {
    added: [],
    removed: [],
    changed: [],
    unchanged: 0,
    byStore: { contacts: { added: 0, removed: 0, changed: 0 }, calendar: { added: 0, removed: 0, changed: 0 } },
  };
  for (const [k, e] of after) {
    const old = before.get(k);
    if (!old) {
      out.added.push({ store: e.store, key: k, summary: e.summary, after: e });
      out.byStore[e.store].added++;
    } else if (old.hash !== e.hash) {
      out.changed.push({ store: e.store, key: k, summary: e.summary || old.summary, before: old, after: e });
      out.byStore[e.store].changed++;
    } else out.unchanged++;
  }
  for (const [k, e] of before) {
    if (!after.has(k)) {
      out.removed.push({ store: e.store, key: k, summary: e.summary, before: e });
      out.byStore[e.store].removed++;
    }
  }
  const bySummary = (x: DsItemChange, y: DsItemChange) => x.summary.localeCompare(y.summary);
  out.added.sort(bySummary);
  out.removed.sort(bySummary);
  out.changed.sort(bySummary);
  return out;
}
