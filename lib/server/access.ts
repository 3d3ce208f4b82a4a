import 'server-only';
/**
 * Who may see what: the one place the tenant rule lives. Staff (agents, admins) see every
 * subscriber; a subscriber sees only their own handsets and what hangs off them. Pages call
 * the `…ForPage` forms (a 404, never a hint that the thing exists); actions and route
 * handlers call the plain forms, which throw AccessDenied (answered as "not found").
 */
import { notFound } from 'next/navigation';
import type { Db } from '@/db/client';
import { AppError } from '@/lib/core/errors';
import { getDevice, type DeviceRow } from '@/db/queries/devices';
import { getSnapshot, type SnapshotRow } from '@/db/queries/snapshots';
import { getJob, type JobRow } from '@/db/queries/jobs';
import { getSubscriber, type SubscriberSummary } from '@/db/queries/subscribers';
import type { Viewer } from './session';

/** Answered as "not found": a tampered id learns nothing about what exists. */
export class AccessDenied extends AppError {
  constructor(what: string) {
    super('not-found', `No such ${what}, or it is not yours to see.`);
    this.name = 'AccessDenied';
  }
}

export function isStaff(viewer: Viewer): boolean {
  return viewer.role === 'admin' || viewer.role === 'agent';
}

export function canSeeDevice(viewer: Viewer, device: Pick<DeviceRow, 'subscriberId'>): boolean {
  return isStaff(viewer) || (viewer.subscriberId !== null && device.subscriberId === viewer.subscriberId);
}

export async function deviceFor(db: Db, viewer: Viewer, deviceId: string): Promise<DeviceRow> {
  const d = await getDevice(db, deviceId);
  if (!d || !canSeeDevice(viewer, d)) throw new AccessDenied('handset');
  return d;
}

export async function snapshotFor(
  db: Db,
  viewer: Viewer,
  snapshotId: string,
): Promise<{ snapshot: SnapshotRow; device: DeviceRow }> {
  const s = await getSnapshot(db, snapshotId);
  const d = s ? await getDevice(db, s.deviceId) : undefined;
  if (!s || !d || !canSeeDevice(viewer, d)) throw new AccessDenied('backup');
  return { snapshot: s, device: d };
}

export async function jobFor(db: Db, viewer: Viewer, jobId: string): Promise<{ job: JobRow; device: DeviceRow }> {
  const j = await getJob(db, jobId);
  const d = j ? await getDevice(db, j.deviceId) : undefined;
  if (!j || !d || !canSeeDevice(viewer, d)) throw new AccessDenied('job');
  return { job: j, device: d };
}

export async function subscriberFor(db: Db, viewer: Viewer, subscriberId: string): Promise<SubscriberSummary> {
  const s = await getSubscriber(db, subscriberId);
  if (!s || !(isStaff(viewer) || viewer.subscriberId === subscriberId)) throw new AccessDenied('subscriber');
  return s;
}

/** For server components: the same checks, as a 404 page. */
export async function forPage<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AccessDenied) notFound();
    throw err;
  }
}
