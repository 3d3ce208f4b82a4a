/**
 * What the subscribers' portal shows of their own handsets: the list reads through the
 * viewer's subscriber id (db/queries/users.ts devicesOfViewer), so it never holds another's.
 */
import type { Db } from '@/db/client';
import { jobsForDevice } from '@/db/queries/jobs';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { formatAge } from './format';
import { devicesOfViewer } from '@/db/queries/users';
import { handsetName } from './erasure';

/** The backup queued or running for a handset that its owner asked for (not a restore's safety backup), if any. */
export function pendingBackupId(db: Db, deviceId: string): string | null {
  const j = jobsForDevice(db, deviceId, ['queued', 'running']).find((x) => x.kind === 'backup' && !x.dependsOn && !x.payload.includes('"trigger":"safety"'));
  return j?.id ?? null;
}

export function portalDevices(db: Db, viewer: { subscriberId: string | null }, now = Date.now()) {
  return devicesOfViewer(db, viewer).map((d) => {
    const last = lastCompleteSnapshot(db, d.id)?.completedAt ?? null;
    return {
      ...d,
      name: handsetName(d),
      lastSeen: d.lastSeenAt ? formatAge(d.lastSeenAt, now) : 'not seen yet',
      lastBackup: last ? formatAge(last, now) : 'none yet',
      pendingBackupId: pendingBackupId(db, d.id),
    };
  });
}

/** A handset's backups (newest first) and its last jobs, each with its age, for the subscriber's device page. */
export function portalHistory(db: Db, deviceId: string, now = Date.now()) {
  return {
    snapshots: listSnapshots(db, deviceId, { limit: 200 }).map((s) => ({ ...s, takenAt: s.completedAt ?? s.startedAt, age: formatAge(s.completedAt ?? s.startedAt, now) })),
    jobs: jobsForDevice(db, deviceId, undefined, 10).map((j) => ({ id: j.id, kind: j.kind, status: j.status, age: formatAge(j.createdAt, now) })),
  };
}
