/**
 * Package #0: asks a handset to open a DM session now. The session id in the
 * notification is the one the handset must use, so the work queued for it is found.
 */
import { insertAudit } from '@/db/queries/audit';
import type { DeviceRow } from '@/db/queries/devices';
import type { AppContext } from '../core/context';
import { nonceBytes } from '../omadm/auth';
import { buildNotification } from '../omadm/notification';
import type { PushTransport } from '../omadm/push';

export interface WakeOptions {
  /** 0 not specified, 1 background, 2 informative, 3 user interaction. */
  uiMode?: 0 | 1 | 2 | 3;
  version?: number;
}

/** Sends Package #0 and returns the session id the handset will use. */
export async function wakeDevice(push: PushTransport, device: DeviceRow, opts: WakeOptions = {}): Promise<string> {
  if (!device.pushAddress) throw new Error(`device ${device.devId} has no push address`);
  const sessionId = 1 + Math.floor(Math.random() * 0xfffe);
  const pkg = buildNotification(
    { version: opts.version, uiMode: opts.uiMode ?? 1, initiator: 'server', sessionId, serverId: device.serverId },
    { user: device.serverId, derived: device.serverDerived, password: device.serverPassword ?? undefined },
    nonceBytes(device.serverNonce),
  );
  await push.push({ devId: device.devId, address: device.pushAddress }, pkg);
  return sessionIdText(sessionId);
}

/** Wakes the handset for a person or token (POST /devices/{devId}/wake): audited under `actor` with the session id it will use. */
export async function wakeDeviceAs(
  ctx: Pick<AppContext, 'db' | 'push' | 'env'>,
  device: DeviceRow,
  actor: string,
): Promise<string> {
  const sessionId = await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
  await insertAudit(ctx.db, { actor, action: 'device.wake', deviceId: device.id, details: { sessionId } });
  return sessionId;
}

/** The DM SessionID a notification's 16-bit session-id becomes (see lib/omadm/notification.ts). */
export function sessionIdText(id: number): string {
  return id.toString(16).toUpperCase();
}
