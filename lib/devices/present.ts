import type { Db } from '@/db/client';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { dsSnapshotsOf } from '@/db/queries/ds';
import { publicJob, publicSnapshot } from '../backup/views';
import { publicDsSnapshot } from '../ds/views';
import { decodeCursor, pageOf, timeKeySchema, type PageQuery } from '../core/paging';

/** What the API shows of a device: never secrets, nonces or derived credentials. */
export function publicDevice(d: DeviceRow) {
  return {
    id: d.id,
    devId: d.devId,
    manufacturer: d.manufacturer,
    model: d.model,
    firmware: d.firmware,
    subscriberId: d.subscriberId,
    serverId: d.serverId,
    clientAuth: d.clientAuth,
    serverAuth: d.serverAuth,
    pushAddress: d.pushAddress,
    lastSeenAt: d.lastSeenAt,
    networkState: d.networkState ? (JSON.parse(d.networkState) as unknown) : null,
  };
}

/** The device a DevId names, for callers that see every device (API tokens, the CLI); undefined when none. */
export async function findDevice(db: Db, devId: string): Promise<DeviceRow | undefined> {
  return getDeviceByDevId(db, devId);
}

/** One device: what the list shows, its latest snapshot (and latest complete one) and its queued or running jobs. */
export async function deviceDetail(db: Db, device: DeviceRow) {
  const last = (await listSnapshots(db, device.id, { limit: 1 }))[0];
  const complete = last?.status === 'complete' ? last : await lastCompleteSnapshot(db, device.id);
  return {
    device: publicDevice(device),
    lastSnapshot: last ? publicSnapshot(last) : null,
    lastCompleteSnapshot: complete ? publicSnapshot(complete) : null,
    pendingJobs: (await jobsForDevice(db, device.id, ['queued', 'running'])).map(publicJob),
  };
}

/** A page of the device's jobs, newest first. */
export async function deviceJobs(db: Db, device: Pick<DeviceRow, 'id'>, q: PageQuery) {
  const after = decodeCursor(timeKeySchema, q.cursor);
  const rows = await jobsForDevice(db, device.id, undefined, q.limit + 1, after);
  const page = pageOf(rows, q.limit, (j) => ({ at: j.createdAt, id: j.id }));
  return { jobs: page.items.map(publicJob), nextCursor: page.nextCursor, limit: q.limit };
}

/** A page of the device's snapshots, newest first (every status). */
export async function deviceSnapshots(db: Db, device: Pick<DeviceRow, 'id'>, q: PageQuery) {
  const after = decodeCursor(timeKeySchema, q.cursor);
  const rows = await listSnapshots(db, device.id, { limit: q.limit + 1, after });
  const page = pageOf(rows, q.limit, (s) => ({ at: s.startedAt, id: s.id }));
  return { snapshots: page.items.map(publicSnapshot), nextCursor: page.nextCursor, limit: q.limit };
}

/** A page of the device's DS backups, newest first. */
export async function deviceDsSnapshots(db: Db, device: Pick<DeviceRow, 'id'>, q: PageQuery) {
  const after = decodeCursor(timeKeySchema, q.cursor);
  const rows = await dsSnapshotsOf(db, device.id, q.limit + 1, after);
  const page = pageOf(rows, q.limit, (s) => ({ at: s.createdAt, id: s.id }));
  return { dsSnapshots: page.items.map(publicDsSnapshot), nextCursor: page.nextCursor, limit: q.limit };
}
