import { apiError, apiHandler, parseInput, readBytes } from '@/lib/server/api';
import { MAX_PACKAGE_BYTES, publishAppAs } from '@/lib/catalog/catalog';
import { appCatalog } from '@/lib/catalog/views';
import { publicAppPackage } from '@/lib/restore/views';
import { appUploadSchema } from '@/lib/restore/schemas';
import { pageByKey, readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** The app catalog: every package by application id and version. */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) => {
  const q = readPageQuery(req.url);
  const page = pageByKey(await appCatalog(db), (a) => [a.appId, a.version, a.id], q);
  return Response.json({ apps: page.items, nextCursor: page.nextCursor, limit: q.limit });
});

/**
 * Publishes an app package (the body, application/octet-stream) for one version,
 * replacing an earlier upload of it; `models` limits it to "Man/Mod,…" (default: any).
 * A restore reinstalls exactly the version a snapshot recorded, from here.
 */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const meta = parseInput(appUploadSchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!/^application\/octet-stream\s*(;|$)/i.test(req.headers.get('content-type') ?? '')) {
    return apiError(
      415,
      'unsupported-media-type',
      'Send the package itself as the body (Content-Type: application/octet-stream).',
    );
  }
  const upload = await readBytes(req, MAX_PACKAGE_BYTES);
  const row = await publishAppAs(ctx, { ...meta, bytes: upload }, `token:${ctx.tokenId}`);
  return Response.json({ package: publicAppPackage(row) }, { status: 201 });
});
