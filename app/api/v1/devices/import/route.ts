import { apiError, apiHandler, readText } from '@/lib/server/api';
import { DeviceImportError, IMPORT_MAX_BYTES, importDevices } from '@/lib/devices/import';
import { insertAudit } from '@/db/queries/audit';

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
  try {
    const result = await importDevices(ctx.db, csv);
    await insertAudit(ctx.db, { actor: `token:${ctx.tokenId}`, action: 'devices.imported', details: result });
    return Response.json(result, { status: 201 });
  } catch (err) {
    if (err instanceof DeviceImportError) {
      return Response.json({ error: { code: 'invalid-rows', message: err.message, fieldErrors: err.fieldErrors, rows: err.rows } }, { status: 400 });
    }
    throw err;
  }
});
