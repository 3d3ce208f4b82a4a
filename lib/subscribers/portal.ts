/**
 * What the subscribers' portal shows of their own handsets: the list reads through the
 * viewer's subscriber id (db/queries/users.ts devicesOfViewer), so it never holds another's.
 */
import type { Db } from '@/db/client';
import { jobsForDevice } from '@/db/queries/jobs';
import { isSafetyBackup } from '../jobs/kinds';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { formatAge } from '../core/format';
import { devicesOfViewer } from '@/db/queries/users';
import { listConsents } from '@/db/queries/restore';
import { handsetName } from './erasure';

/** The backup queued or running for a handset that its owner asked for (not a restore's safety backup), if any. */
export async function pendingBackupId(db: Db, deviceId: string): Promise<string | null> {
  const j = (await jobsForDevice(db, deviceId, ['queued', 'running'])).find(
    (x) => x.kind === 'backup' && !x.dependsOn && !isSafetyBackup(x),
  );
  return j?.id ?? null;
}

export async function portalDevices(db: Db, viewer: { subscriberId: string | null }, now = Date.now()) {
  const out = [];
  for (const d of await devicesOfViewer(db, viewer)) {
    const last = (await lastCompleteSnapshot(db, d.id))?.completedAt ?? null;
    out.push({
      ...d,
      name: handsetName(d),
      lastSeen: d.lastSeenAt ? formatAge(d.lastSeenAt, now) : 'not seen yet',
      lastBackup: last ? formatAge(last, now) : 'none yet',
      pendingBackupId: await pendingBackupId(db, d.id),
    });
  }
  return out;
}

/** A handset's backups (newest first) and its last jobs, each with its age, for the subscriber's device page. */
export async function portalHistory(db: Db, deviceId: string, now = Date.now()) {
  return {
    snapshots: (await listSnapshots(db, deviceId, { limit: 200 })).map((s) => ({
      ...s,
      takenAt: s.completedAt ?? s.startedAt,
      age: formatAge(s.completedAt ?? s.startedAt, now),
    })),
    jobs: (await jobsForDevice(db, deviceId, undefined, 10)).map((j) => ({
      id: j.id,
      kind: j.kind,
      status: j.status,
      age: formatAge(j.createdAt, now),
    })),
  };
}

/**
 * Every answer the subscriber gave to a restore prompt, newest first, with the handset's
 * DevId while it is still theirs. The subscriber id comes from the session, never from the request.
 */
export async function portalConsents(db: Db, viewer: { subscriberId: string | null }) {
  const rows = viewer.subscriberId ? await listConsents(db, { subscriberId: viewer.subscriberId }) : [];
  const names = new Map((await devicesOfViewer(db, viewer)).map((d) => [d.id, d.devId]));
  return rows.map((c) => ({
    id: c.id,
    at: c.at,
    devId: names.get(c.deviceId),
    prompt: c.prompt,
    answer: c.answer,
    cost: c.cost,
  }));
}
