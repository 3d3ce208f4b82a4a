/**
 * Snapshots for tests without a DM session: values go into the blob store, their manifest
 * too, and the snapshot row is completed as the backup engine would complete it.
 */
import type { Db } from '@/db/client';
import { insertSnapshot, recordBlob, updateSnapshot, type SnapshotRow } from '@/db/queries/snapshots';
import type { BlobStore } from '@/lib/backup/blob-store';
import { deviceKeyOwner } from '@/lib/backup/sealed-store';
import { encodeManifest, logicalSize, type ManifestEntry } from '@/lib/backup/manifest';
import type { Category } from '@/lib/omadm/mo/backup-restore';

export interface FixtureNode {
  category: Category;
  /** Omitted for an interior node. */
  value?: string | Uint8Array;
  type?: string;
  format?: string;
}

export async function seedSnapshot(
  db: Db,
  blobs: BlobStore,
  deviceId: string,
  nodes: Record<string, FixtureNode>,
  opts: { trigger?: string; at?: number } = {},
): Promise<SnapshotRow> {
  const entries: ManifestEntry[] = [];
  let newBytes = 0;
  for (const [path, n] of Object.entries(nodes)) {
    if (n.value === undefined) {
      entries.push({ path, category: n.category, format: 'node', size: 0 });
      continue;
    }
    const bytes = typeof n.value === 'string' ? new TextEncoder().encode(n.value) : n.value;
    const { hash, created } = await blobs.put(bytes, await deviceKeyOwner(db, deviceId));
    if ((await recordBlob(db, hash, bytes.length)) && created) newBytes += bytes.length;
    entries.push({
      path,
      category: n.category,
      format: n.format ?? (typeof n.value === 'string' ? 'chr' : 'bin'),
      ...(n.type ? { type: n.type } : {}),
      size: bytes.length,
      hash,
    });
  }
  const categories = [...new Set(entries.map((e) => e.category))];
  const snap = await insertSnapshot(db, { deviceId, trigger: opts.trigger ?? 'on-demand', categories });
  const manifest = encodeManifest(entries);
  const { hash } = await blobs.put(manifest, await deviceKeyOwner(db, deviceId));
  await recordBlob(db, hash, manifest.length);
  const at = opts.at ?? Date.now();
  await updateSnapshot(db, snap.id, {
    status: 'complete',
    rootHash: hash,
    entries: entries.length,
    bytes: logicalSize(entries),
    newBytes,
    startedAt: at - 1000,
    completedAt: at,
  });
  return {
    ...snap,
    status: 'complete',
    rootHash: hash,
    entries: entries.length,
    startedAt: at - 1000,
    completedAt: at,
  };
}

const AV = './SCOMO/Inventory/Deployed/av';
/** 0x00..0xff, twice: bytes that are not text. */
export const RINGTONE = Uint8Array.from({ length: 512 }, (_, i) => i % 256);

/** A handset before and after a firmware update, an app upgrade, a language change and a new wallpaper. */
export const BEFORE: Record<string, FixtureNode> = {
  './DevInfo': { category: 'settings' },
  './DevInfo/Man': { category: 'settings', value: 'Nimbus' },
  './DevInfo/Lang': { category: 'settings', value: 'en-GB' },
  './DevDetail': { category: 'firmware' },
  './DevDetail/FwV': { category: 'firmware', value: '1.0.3' },
  './DevDetail/SwV': { category: 'firmware', value: '2.0' },
  [AV]: { category: 'applications' },
  [`${AV}/ID`]: { category: 'applications', value: 'com.shield.av' },
  [`${AV}/Name`]: { category: 'applications', value: 'ShieldAV' },
  [`${AV}/Version`]: { category: 'applications', value: '3.2.1' },
  './Settings/Ringtone': { category: 'settings', value: RINGTONE, type: 'audio/mpeg' },
};

export const AFTER: Record<string, FixtureNode> = {
  ...Object.fromEntries(Object.entries(BEFORE).filter(([p]) => p !== './Settings/Ringtone')),
  './DevInfo/Lang': { category: 'settings', value: 'fr-FR' },
  './DevDetail/FwV': { category: 'firmware', value: '1.1.0' },
  [`${AV}/Version`]: { category: 'applications', value: '4.0.2' },
  './Settings/Wallpaper': { category: 'settings', value: new Uint8Array([0x89, 0x50, 0x4e, 0x47]), type: 'image/png' },
};
