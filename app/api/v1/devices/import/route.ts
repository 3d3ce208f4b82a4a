import { apiError, apiHandler, readText } from '@/lib/server/api';
import { IMPORT_MAX_BYTES, importDevicesAs } from '@/lib/devices/import';

export const dynamic = 'force-dynamic';

/**
 * Provisions every device of a CSV file (text/csv, header row first), or none: a file
 * with any bad row is refused whole, with every error and its row number.
 */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const type = req.headers.get('content-type') ?? '';
  if (/^(multipart\/|application\/json)/i.test(type)) {
    return apiError(415, 'unsupported-media-type', 'Send the CSV file itself as the body (Content-Type: text/csv).');
  }
  const csv = await readText(req, IMPORT_MAX_BYTES);
  const result = await importDevicesAs(ctx.db, csv, `token:${ctx.tokenId}`);
  return Response.json(result, { status: 201 });
});
