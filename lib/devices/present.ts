import type { Db } from '@/db/client';
import { getDeviceByDevId, listDevices, type DeviceRow } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { dsSnapshotsOf } from '@/db/queries/ds';
import { publicJob, publicSnapshot } from '../backup/views';
import { publicDsSnapshot } from '../ds/views';

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

export async function deviceList(db: Db) {
  return (await listDevices(db)).map(publicDevice);
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

/** The device's jobs, newest first (the last 200). */
export async function deviceJobs(db: Db, device: Pick<DeviceRow, 'id'>) {
  return (await jobsForDevice(db, device.id)).map(publicJob);
}

/** The device's snapshots, newest first (every status). */
export async function deviceSnapshots(db: Db, device: Pick<DeviceRow, 'id'>) {
  return (await listSnapshots(db, device.id)).map(publicSnapshot);
}

/** The device's DS backups, newest first (the last 500). */
export async function deviceDsSnapshots(db: Db, device: Pick<DeviceRow, 'id'>) {
  return (await dsSnapshotsOf(db, device.id, 500)).map(publicDsSnapshot);
}
