import { apiHandler, readJson } from '@/lib/server/api';
import { provisionDevice } from '@/lib/devices';
import { listDevices } from '@/db/queries/devices';
import { publicDevice } from '@/lib/server/present';
import type { ProvisionDeviceInput } from '@/lib/validations/device';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], (_req, { db }) =>
  Response.json({ devices: listDevices(db).map(publicDevice) }));

/** Provisions one device, or several when the body is an array (bulk). */
export const POST = apiHandler(['admin'], async (req, { db }) => {
  const body = await readJson(req);
  const inputs = (Array.isArray(body) ? body : [body]) as ProvisionDeviceInput[];
  const rows = inputs.map((i) => provisionDevice(db, i));
  return Response.json({ devices: rows.map(publicDevice) }, { status: 201 });
});
