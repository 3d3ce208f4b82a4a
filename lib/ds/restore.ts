/**
 * Restoring contacts and calendar from a DS snapshot: the snapshot's items become the
 * target account's server copy (the same handset's, or a new handset's of the same
 * subscriber), with no LUIDs and no anchors, so the refresh-from-server that follows gives
 * the handset exactly those items and maps them afresh. Content is already in the blob
 * store: only rows are written.
 */
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import {
  clearDsStoreItems,
  getDsSnapshot,
  insertDsItem,
  resetDsAnchors,
  type DsAccountRow,
  type DsSnapshotRow,
} from '@/db/queries/ds';
import { getDevice } from '@/db/queries/devices';
import type { AppContext } from '../core/context';
import { appErrorFamily, type AppErrorKind } from '../core/errors';
import { DS_STORE_NAMES, type DsStoreName } from './protocol';
import { readDsManifest, type DsManifestEntry } from './snapshot';

const DS_RESTORE_KIND = {
  'no-ds-snapshot': 'not-found',
  forbidden: 'forbidden',
  damaged: 'internal',
} as const satisfies Record<string, AppErrorKind>;

export class DsRestoreError extends appErrorFamily(DS_RESTORE_KIND) {}

/**
 * The snapshot, if `target` may receive it: its own handset, or another handset of the
 * same subscriber (a migration). Another subscriber's handset is refused, as DM restores are.
 */
export async function dsSnapshotForTarget(db: Db, snapshotId: string, target: DeviceRow): Promise<DsSnapshotRow> {
  const snapshot = await getDsSnapshot(db, snapshotId);
  const source = snapshot ? await getDevice(db, snapshot.deviceId) : undefined;
  if (!snapshot || !source) throw new DsRestoreError('no-ds-snapshot', `no DS snapshot ${snapshotId}`);
  if (source.id !== target.id && (!source.subscriberId || source.subscriberId !== target.subscriberId)) {
    throw new DsRestoreError('forbidden', `${target.devId} is not a handset of the same subscriber as ${source.devId}`);
  }
  return snapshot;
}

/** Items per store, as the snapshot has them. */
export function countByStore(entries: readonly Pick<DsManifestEntry, 'store'>[]): Record<DsStoreName, number> {
  const out = Object.fromEntries(DS_STORE_NAMES.map((s) => [s, 0])) as Record<DsStoreName, number>;
  for (const e of entries) out[e.store]++;
  return out;
}

/**
 * Replaces the account's server copy of `stores` with the snapshot's items and forgets the
 * anchors. Refuses a snapshot whose manifest or item content is missing from the blob store
 * before changing anything. Returns how many items each store now holds.
 */
export async function loadDsSnapshot(
  ctx: AppContext,
  account: DsAccountRow,
  snapshotId: string,
  stores: readonly DsStoreName[],
): Promise<Record<DsStoreName, number>> {
  let entries: DsManifestEntry[];
  try {
    ({ entries } = await readDsManifest(ctx.db, ctx.blobs, snapshotId));
  } catch (e) {
    throw new DsRestoreError('damaged', (e as Error).message);
  }
  const wanted = entries.filter((e) => stores.includes(e.store));
  for (const hash of new Set(wanted.map((e) => e.hash))) {
    if (!(await ctx.blobs.has(hash)))
      throw new DsRestoreError(
        'damaged',
        `DS snapshot ${snapshotId} refers to content the store has lost (${hash.slice(0, 12)}…)`,
      );
  }
  await ctx.db.transaction(async (tx) => {
    for (const store of stores) await clearDsStoreItems(tx, account.id, store);
    for (const e of wanted) {
      await insertDsItem(tx, {
        accountId: account.id,
        store: e.store,
        luid: null,
        contentType: e.type,
        hash: e.hash,
        size: e.size,
        summary: e.summary,
        uid: e.uid ?? null,
        pending: null,
      });
    }
    await resetDsAnchors(tx, account.id);
  });
  const counts = countByStore(wanted);
  for (const s of DS_STORE_NAMES) if (!stores.includes(s)) counts[s] = 0;
  return counts;
}

/** Content hashes per store, sorted: two copies hold the same items when these are equal. */
export function hashesByStore(
  entries: readonly DsManifestEntry[],
  stores: readonly DsStoreName[],
): Record<string, string[]> {
  return Object.fromEntries(
    stores.map((s) => [
      s,
      entries
        .filter((e) => e.store === s)
        .map((e) => e.hash)
        .sort(),
    ]),
  );
}
