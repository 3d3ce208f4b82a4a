/**
 * "Delete my backups": a subscriber's erasure of one handset's backups. The snapshot rows
 * go (their staging rows and restore plans cascade) and so do the records of the local
 * backups the handset reported; the content then goes through garbage collection, which
 * removes only what no other snapshot, backup in progress or catalog package references
 * (content is shared by hash across handsets) and keeps its grace period for content a
 * backup has just written. Snapshots under legal hold stay: the hold outranks the request.
 * While a backup or restore of the handset is queued or running nothing is erased: the
 * backup would leave a new snapshot behind, the restore would lose the content it writes.
 */
import type { AppContext } from '../core/context';
import { keyOwner } from '../backup/blob-store';
import { AppError } from '../core/errors';
import { sqliteClient } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { deleteLocalBackups } from '@/db/queries/local-backups';
import { allDeviceSnapshots, deleteUnheldSnapshots } from '@/db/queries/retention';
import { collectGarbage, type GcResult } from '../backup/gc';
import { SealedBlobStore } from '../backup/sealed-store';
import { deleteSubscriberData, devicesOfSubscriber, getSubscriber } from '@/db/queries/subscribers';
import { insertAudit } from '@/db/queries/audit';

export interface ErasureResult {
  snapshots: number;
  /** Kept because of a legal hold. */
  held: number;
  localBackups: number;
  gc: GcResult | null;
}

/** What the portal calls the handset, and what a subscriber types to confirm an erasure. */
export function handsetName(device: Pick<DeviceRow, 'manufacturer' | 'model' | 'devId'>): string {
  return [device.manufacturer, device.model].filter(Boolean).join(' ') || device.devId;
}

const BUSY = ['backup', 'restore', 'local-backup', 'local-restore'];

export async function eraseBackups(
  ctx: AppContext,
  device: DeviceRow,
  opts: { graceMs?: number } = {},
): Promise<ErasureResult> {
  const counted = await ctx.db.transaction(async (tx) => {
    if ((await jobsForDevice(tx, device.id, ['queued', 'running'])).some((j) => BUSY.includes(j.kind))) {
      throw AppError.invalid('A backup or restore of this handset is under way. Try again once it has finished.');
    }
    const all = await allDeviceSnapshots(tx, device.id);
    const snapshots = await deleteUnheldSnapshots(
      tx,
      all.map((s) => s.id),
    );
    return {
      snapshots,
      held: all.filter((s) => s.legalHold).length,
      localBackups: await deleteLocalBackups(tx, device.id),
    };
  });
  // The rows are gone whatever the sweep does; a sweep that stops (a damaged manifest
  // elsewhere) leaves content for the next scheduled collection, never the request undone.
  let gc: GcResult | null = null;
  if (counted.snapshots) {
    gc = await collectGarbage(ctx.db, ctx.blobs, {
      dryRun: false,
      ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
    }).catch(() => null);
  }
  return { ...counted, gc };
}

export interface SubscriberErasureResult {
  devices: number;
  snapshots: number;
  /** Data keys destroyed: the subscriber's, and each of their handsets' from before they had one. */
  keys: number;
  gc: GcResult | null;
}

/**
 * Erasing a subscriber (they left, and asked): their handsets' records and every backup go,
 * and their data keys are destroyed, so content only they had cannot be read by anyone with
 * this database and blob store, master key included; garbage collection then removes
 * those files (with its usual grace period, which protects other handsets' backups in
 * flight; what it leaves for the next collection is already unreadable). Refused,
 * with nothing changed, while a backup or restore of one of their handsets is under way, or
 * while one of their snapshots is under legal hold.
 */
export async function eraseSubscriber(
  ctx: AppContext,
  subscriberId: string,
  opts: { graceMs?: number } = {},
): Promise<SubscriberErasureResult> {
  const counted = await ctx.db.transaction(async (tx) => {
    if (!(await getSubscriber(tx, subscriberId))) throw AppError.invalid('No such subscriber.');
    const handsets = await devicesOfSubscriber(tx, subscriberId);
    for (const d of handsets) {
      if ((await jobsForDevice(tx, d.id, ['queued', 'running'])).some((j) => BUSY.includes(j.kind))) {
        throw AppError.invalid(
          "A backup or restore of one of this subscriber's handsets is under way. Try again once it has finished.",
        );
      }
    }
    const snaps: Awaited<ReturnType<typeof allDeviceSnapshots>> = [];
    for (const d of handsets) snaps.push(...(await allDeviceSnapshots(tx, d.id)));
    const held = snaps.filter((s) => s.legalHold).length;
    if (held)
      throw AppError.invalid(
        `${held} of this subscriber's backups are under legal hold. Release the hold before erasing.`,
      );
    const owners = [subscriberId, ...handsets.map((d) => keyOwner(d)), ...handsets.map((d) => `device:${d.id}`)];
    // Through this transaction: the store's own handle is another connection on PostgreSQL.
    const keys = ctx.blobs instanceof SealedBlobStore ? await ctx.blobs.destroyOwners([...new Set(owners)], tx) : 0;
    return { ...(await deleteSubscriberData(tx, subscriberId)), snapshots: snaps.length, keys };
  });
  const gc = await collectGarbage(ctx.db, ctx.blobs, {
    dryRun: false,
    ...(opts.graceMs !== undefined ? { graceMs: opts.graceMs } : {}),
  }).catch(() => null);
  // Deleted pages are zeroed (secure_delete); the write-ahead log still holds the old ones until a checkpoint.
  // SQLite only: PostgreSQL's write-ahead log is the server's, not a file of ours to truncate.
  sqliteClient(ctx.db)?.pragma('wal_checkpoint(TRUNCATE)');
  return { ...counted, gc };
}

/** The subscriber's own "delete my backups" (the portal): erased, and audited under `actor` with the counts. */
export async function eraseBackupsAs(ctx: AppContext, device: DeviceRow, actor: string): Promise<ErasureResult> {
  const r = await eraseBackups(ctx, device);
  await insertAudit(ctx.db, {
    actor,
    action: 'backups.erased',
    deviceId: device.id,
    details: {
      snapshots: r.snapshots,
      held: r.held,
      localBackups: r.localBackups,
      blobs: r.gc?.removed ?? 0,
      bytes: r.gc?.bytes ?? 0,
    },
  });
  return r;
}

/** Erases the subscriber for an admin, a token or the CLI, audited under `actor`: ids and counts only, since the log outlives the subscriber. */
export async function eraseSubscriberAs(
  ctx: AppContext,
  subscriberId: string,
  actor: string,
): Promise<SubscriberErasureResult> {
  const r = await eraseSubscriber(ctx, subscriberId);
  await insertAudit(ctx.db, {
    actor,
    action: 'subscriber.erased',
    details: { subscriberId, devices: r.devices, snapshots: r.snapshots, keys: r.keys, blobs: r.gc?.removed ?? 0 },
  });
  return r;
}
