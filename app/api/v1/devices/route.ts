import { apiHandler, readJson } from '@/lib/server/api';
import { AppError } from '@/lib/core/errors';
import { provisionDevicesAs } from '@/lib/devices/devices';
import { publicDevice } from '@/lib/devices/present';
import { csvDownload } from '@/lib/core/csv';
import { deviceListApi, exportDeviceList, readDeviceListRequest } from '@/lib/devices/list';
import type { ProvisionDeviceInput } from '@/lib/devices/schemas';

export const dynamic = 'force-dynamic';

/**
 * The device list, with the console's filters and sort: a page (`limit`, `cursor`), or with
 * `Accept: text/csv` or `format=csv` every matching device as CSV (audited: it holds names).
 */
export const GET = apiHandler(['admin', 'agent'], async (req, { db, tokenId }) => {
  const sp = new URL(req.url).searchParams;
  const format = sp.get('format');
  sp.delete('format');
  if (format !== null && format !== 'csv' && format !== 'json')
    throw AppError.invalid('format: csv or json', { format: ['csv or json'] });
  const csv = format === 'csv' || (format === null && /\btext\/csv\b/.test(req.headers.get('accept') ?? ''));
  if (!csv) return Response.json(await deviceListApi(db, sp));
  const { query } = readDeviceListRequest(sp);
  return csvDownload(await exportDeviceList(db, query, `token:${tokenId}`), 'rewind-devices');
});

/** Provisions one device, or several when the body is an array (bulk): all or none, at most PROVISION_MAX_DEVICES. */
export const POST = apiHandler(['admin'], async (req, { db, tokenId }) => {
  const body = await readJson(req);
  const inputs = (Array.isArray(body) ? body : [body]) as ProvisionDeviceInput[];
  const rows = await provisionDevicesAs(db, inputs, `token:${tokenId}`);
  return Response.json({ devices: rows.map(publicDevice) }, { status: 201 });
});
