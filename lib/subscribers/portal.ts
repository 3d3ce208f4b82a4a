/**
 * What the subscribers' portal shows of their own handsets: the list reads through the
 * viewer's subscriber id (db/queries/users.ts devicesOfViewer), so it never holds another's.
 */
import type { Db } from '@/db/client';
import { jobsForDevice } from '@/db/queries/jobs';
import { isSafetyBackup } from '../jobs/kinds';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { airBytes, airtime, airUsedText } from '../backup/airtime';
import { parseNetwork } from '../backup/policy';
import { getDevice } from '@/db/queries/devices';
import { DEFAULT_RATES, quote, type Rates } from '../restore/cost';
import { formatAge, formatBytes } from '../core/format';
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

export async function portalDevices(
  db: Db,
  viewer: { subscriberId: string | null },
  now = Date.now(),
  rates: Rates = DEFAULT_RATES,
) {
  const out = [];
  for (const d of await devicesOfViewer(db, viewer)) {
    const snap = await lastCompleteSnapshot(db, d.id);
    const last = snap?.completedAt ?? null;
    // The next backup costs about what the last one did over the air (an unchanged handset
    // whose model reports digests: a few KB); quoted on the network the handset is on now.
    const air = snap ? airtime(snap) : null;
    const cost = air
      ? quote(airBytes(air), parseNetwork((await getDevice(db, d.id))?.networkState ?? null), rates)
      : undefined;
    out.push({
      ...d,
      name: handsetName(d),
      lastSeen: d.lastSeenAt ? formatAge(d.lastSeenAt, now) : 'not seen yet',
      lastBackup: last ? formatAge(last, now) : 'none yet',
      lastBackupAt: last,
      backupCost: air && cost ? `about ${formatBytes(airBytes(air))}: ${cost.text}` : 'not known yet',
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
      // What the subscriber's plan paid for it (the seeds ask that charges are never a surprise).
      used: airUsedText(airtime(s)),
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
