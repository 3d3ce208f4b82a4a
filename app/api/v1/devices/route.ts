import { apiHandler, readJson } from '@/lib/server/api';
import { provisionDevice } from '@/lib/devices/devices';
import { listDevices } from '@/db/queries/devices';
import { publicDevice } from '@/lib/devices/present';
import { insertAudit } from '@/db/queries/audit';
import type { ProvisionDeviceInput } from '@/lib/devices/schemas';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], async (_req, { db }) =>
  Response.json({ devices: (await listDevices(db)).map(publicDevice) }));

/** Provisions one device, or several when the body is an array (bulk). */
export const POST = apiHandler(['admin'], async (req, { db, tokenId }) => {
  const body = await readJson(req);
  const inputs = (Array.isArray(body) ? body : [body]) as ProvisionDeviceInput[];
  const rows = [];
  for (const i of inputs) rows.push(await provisionDevice(db, i));
  for (const d of rows) await insertAudit(db, { actor: `token:${tokenId}`, action: 'device.provisioned', deviceId: d.id, details: { devId: d.devId } });
  return Response.json({ devices: rows.map(publicDevice) }, { status: 201 });
});
