import { apiHandler, readJson } from '@/lib/server/api';
import { provisionDevicesAs } from '@/lib/devices/devices';
import { deviceList, publicDevice } from '@/lib/devices/present';
import type { ProvisionDeviceInput } from '@/lib/devices/schemas';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], async (_req, { db }) =>
  Response.json({ devices: await deviceList(db) }),
);

/** Provisions one device, or several when the body is an array (bulk). */
export const POST = apiHandler(['admin'], async (req, { db, tokenId }) => {
  const body = await readJson(req);
  const inputs = (Array.isArray(body) ? body : [body]) as ProvisionDeviceInput[];
  const rows = await provisionDevicesAs(db, inputs, `token:${tokenId}`);
  return Response.json({ devices: rows.map(publicDevice) }, { status: 201 });
});
