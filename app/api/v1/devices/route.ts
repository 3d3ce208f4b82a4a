import { apiHandler, readJson } from '@/lib/server/api';
import { provisionDevicesAs } from '@/lib/devices/devices';
import { deviceList, publicDevice } from '@/lib/devices/present';
import type { ProvisionDeviceInput } from '@/lib/devices/schemas';
import { readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** A page of the devices, in id order: `limit` and `cursor` (the previous page's nextCursor). */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) =>
  Response.json(await deviceList(db, readPageQuery(req.url))),
);

/** Provisions one device, or several when the body is an array (bulk): all or none, at most PROVISION_MAX_DEVICES. */
export const POST = apiHandler(['admin'], async (req, { db, tokenId }) => {
  const body = await readJson(req);
  const inputs = (Array.isArray(body) ? body : [body]) as ProvisionDeviceInput[];
  const rows = await provisionDevicesAs(db, inputs, `token:${tokenId}`);
  return Response.json({ devices: rows.map(publicDevice) }, { status: 201 });
});
