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

/** The most devices one request may provision (the API's array body); more is refused whole, naming this. */
export const PROVISION_MAX_DEVICES = 1000;

/**
 * Provisions the devices of one request (the API's single and bulk forms, the CLI) all or none:
 * every device and its audit entry under `actor` in one transaction, so a bad one rolls back the
 * ones before it and their entries. More than PROVISION_MAX_DEVICES is refused before any work.
 */
export async function provisionDevicesAs(
  db: Db,
  inputs: readonly ProvisionDeviceInput[],
  actor: string,
): Promise<DeviceRow[]> {
  if (inputs.length > PROVISION_MAX_DEVICES) {
    throw new AppError(
      'invalid',
      `At most ${PROVISION_MAX_DEVICES} devices per request (this one has ${inputs.length}): send them in batches, or import a CSV file.`,
      { code: 'too-many-devices', status: 413, details: { max: PROVISION_MAX_DEVICES } },
    );
  }
  // provisionDevice's own transactions nest as savepoints of this one.
  return db.transaction(async (tx) => {
    const rows: DeviceRow[] = [];
    for (const [n, input] of inputs.entries()) {
      try {
        rows.push(await provisionDevice(tx, input));
      } catch (err) {
        // Which element was refused, in the field errors' paths ('3.devId'), when it came in an array.
        if (err instanceof AppError && inputs.length > 1 && err.fieldErrors) throw atIndex(err, n);
        throw err;
      }
      const d = rows[rows.length - 1]!;
      await insertAudit(tx, { actor, action: 'device.provisioned', deviceId: d.id, details: { devId: d.devId } });
    }
    return rows;
  });
}

function atIndex(err: AppError, n: number): AppError {
  const fieldErrors = Object.fromEntries(
    Object.entries(err.fieldErrors ?? {}).map(([k, v]) => [k === '_' ? String(n) : `${n}.${k}`, v]),
  );
  return AppError.invalid(`device ${n}: ${err.message}; nothing was provisioned`, fieldErrors);
}
