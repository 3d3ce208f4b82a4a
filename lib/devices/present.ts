import type { DeviceRow } from '@/db/queries/devices';

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
