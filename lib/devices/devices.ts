/**
 * Device provisioning: validation, derived secrets, owner. Shared by the CLI, the REST
 * API and the virtual-handset fleet.
 */
import type { Db } from '@/db/client';
import { upsertDevice, type DeviceRow } from '@/db/queries/devices';
import { insertAudit } from '@/db/queries/audit';
import { md5Derived } from '../omadm/auth';
import { AppError } from '../core/errors';
import { provisionDeviceSchema, type ProvisionDeviceInput } from './schemas';

export async function provisionDevice(db: Db, input: ProvisionDeviceInput): Promise<DeviceRow> {
  const parsed = provisionDeviceSchema.safeParse(input);
  if (!parsed.success) throw AppError.fromZod(parsed.error);
  const d = parsed.data;
  const serverAuth = d.serverAuth ?? d.clientAuth;
  return upsertDevice(
    db,
    {
      devId: d.devId,
      manufacturer: d.manufacturer,
      model: d.model,
      firmware: d.firmware ?? null,
      serverId: d.serverId,
      clientAuth: d.clientAuth,
      clientUser: d.clientUser,
      clientDerived: md5Derived(d.clientUser, d.clientPass),
      // Basic auth compares the password itself; the other schemes need only the derived value.
      clientPassword: d.clientAuth === 'basic' ? d.clientPass : null,
      serverAuth,
      serverDerived: md5Derived(d.serverId, d.serverPass),
      serverPassword: serverAuth === 'basic' ? d.serverPass : null,
      pushAddress: d.pushAddress ?? null,
      ...(d.clientNonce !== undefined ? { clientNonce: d.clientNonce } : {}),
      ...(d.serverNonce !== undefined ? { serverNonce: d.serverNonce } : {}),
    },
    { subscriberName: d.subscriber, msisdn: d.msisdn, email: d.email },
  );
}

/** Provisions each device in turn (the API's single and bulk forms), then audits every one under `actor`. */
export async function provisionDevicesAs(
  db: Db,
  inputs: readonly ProvisionDeviceInput[],
  actor: string,
): Promise<DeviceRow[]> {
  const rows = [];
  for (const i of inputs) rows.push(await provisionDevice(db, i));
  for (const d of rows)
    await insertAudit(db, { actor, action: 'device.provisioned', deviceId: d.id, details: { devId: d.devId } });
  return rows;
}
