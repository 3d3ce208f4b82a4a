/**
 * Everything the device page and its diff view read, gathered in one call each, so the
 * pages only lay it out. `now` is the request's moment, one for the whole page.
 */
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import { getJob, jobsForDevice } from '@/db/queries/jobs';
import { listLocalBackups } from '@/db/queries/local-backups';
import { getSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { getSubscriber } from '@/db/queries/subscribers';
import type { BlobStore } from '../backup/blob-store';
import { policyFor } from '../backup/policy';
import { diffSnapshots, SnapshotError } from '../backup/read';
import {
  choosePair,
  coverage,
  localBackupView,
  networkView,
  pendingJobView,
  policySummary,
  previousComplete,
  timelinePoints,
} from './views';
import { formatBytes, formatTime } from '../core/format';
import { dsSectionData } from '../ds/views';
import { diffEntries, diffGroups, readTexts } from '../backup/snapshot-views';
import { publicSnapshot } from '../backup/views';

/** Attempts the chart shows (the newest); older ones stay reachable through the API and the CLI. */
const TIMELINE_MAX = 200;
/** Attempts the list under the chart shows. */
export const LIST_MAX = 50;
const DAY = 86_400_000;

/** YYYY-MM-DD, `days` before `now` (UTC): what "what changed since" offers first. */
export function dayBefore(days: number, now = Date.now()): string {
  return new Date(now - days * DAY).toISOString().slice(0, 10);
}

export async function devicePageData(db: Db, device: DeviceRow, now = Date.now()) {
  const snapshots = await listSnapshots(db, device.id, { limit: TIMELINE_MAX });
  const policy = await policyFor(db, device);
  // Oldest first: the order they run in.
  const pending = [];
  for (const j of (await jobsForDevice(db, device.id, ['queued', 'running'])).reverse()) {
    pending.push(pendingJobView(j, j.dependsOn ? await getJob(db, j.dependsOn) : undefined, now));
  }
  return {
    now,
    subscriber: device.subscriberId ? ((await getSubscriber(db, device.subscriberId)) ?? null) : null,
    network: networkView(device.networkState),
    policy: policySummary(policy),
    coverage: coverage(snapshots, policy, now),
    pending,
    points: timelinePoints(snapshots, { bytes: formatBytes, time: formatTime }),
    snapshots: snapshots.slice(0, LIST_MAX).map(publicSnapshot),
    attempts: snapshots.length,
    previous: Object.fromEntries(previousComplete(snapshots)),
    localBackups: (await listLocalBackups(db, device.id)).map(localBackupView),
    sinceDefault: dayBefore(7, now),
    // Contacts and calendar, backed up through Data Sync.
    ds: await dsSectionData(db, device, LIST_MAX, now),
  };
}

export async function diffPageData(
  db: Db,
  blobs: BlobStore,
  device: DeviceRow,
  q: { from?: string; to?: string; since?: string },
  now = Date.now(),
) {
  const own = await listSnapshots(db, device.id);
  const options = own
    .filter((s) => s.status === 'complete')
    .map((s) => ({ id: s.id, label: `${formatTime(s.completedAt)} · ${s.trigger} · ${formatBytes(s.bytes)}` }));
  const base = { options, sinceDefault: q.since ?? dayBefore(7, now) };
  // choosePair asks synchronously about ids not among this handset's: look them up first.
  const foreign = new Set<string>();
  for (const id of [q.from, q.to]) {
    if (id && !own.some((s) => s.id === id) && (await getSnapshot(db, id))) foreign.add(id);
  }
  const choice = choosePair(own, q, (other) => (foreign.has(other) ? 'other-device' : 'missing'));
  if (!choice.ok) return { ...base, ok: false, error: choice.error } as const;
  try {
    const diff = await diffSnapshots(db, blobs, choice.from, choice.to);
    const texts = await readTexts(blobs, diffEntries(diff));
    return {
      ...base,
      ok: true,
      from: choice.from,
      to: choice.to,
      note: choice.note ?? null,
      fromAt: diff.a.completedAt,
      toAt: diff.b.completedAt,
      summary: diff.summary,
      unchanged: diff.unchanged,
      firmware: diff.firmware,
      apps: diff.apps,
      groups: diffGroups(diff, texts),
    } as const;
  } catch (err) {
    if (!(err instanceof SnapshotError)) throw err;
    return {
      ...base,
      ok: false,
      error: 'The contents of one of these backups are missing from the store, so they cannot be compared.',
    } as const;
  }
}
