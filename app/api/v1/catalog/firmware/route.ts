import { apiError, apiHandler, parseInput, readBytes } from '@/lib/server/api';
import { MAX_PACKAGE_BYTES, publishFirmwareAs } from '@/lib/catalog/catalog';
import { firmwareCatalog } from '@/lib/catalog/views';
import { publicFirmwarePackage } from '@/lib/restore/views';
import { firmwareUploadSchema } from '@/lib/restore/schemas';
import { pageByKey, readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** The firmware catalog: every image by manufacturer, model and version. */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) => {
  const q = readPageQuery(req.url);
  const page = pageByKey(await firmwareCatalog(db), (f) => [f.manufacturer, f.model, f.version, f.id], q);
  return Response.json({ firmware: page.items, nextCursor: page.nextCursor, limit: q.limit });
});

/**
 * Publishes a firmware image (the body, application/octet-stream) for a model and
 * version, replacing an earlier upload of the same version. Handsets download it from
 * /packages/<id> when a restore takes them back to that version.
 */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const meta = parseInput(firmwareUploadSchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!/^application\/octet-stream\s*(;|$)/i.test(req.headers.get('content-type') ?? '')) {
    return apiError(
      415,
      'unsupported-media-type',
      'Send the package itself as the body (Content-Type: application/octet-stream).',
    );
  }
  const upload = await readBytes(req, MAX_PACKAGE_BYTES);
  const row = await publishFirmwareAs(ctx, { ...meta, bytes: upload }, `token:${ctx.tokenId}`);
  return Response.json({ package: publicFirmwarePackage(row) }, { status: 201 });
});
