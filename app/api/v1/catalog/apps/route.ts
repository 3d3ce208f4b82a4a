import { apiError, apiHandler, parseInput, readBytes } from '@/lib/server/api';
import { listAppPackages } from '@/db/queries/catalog';
import { insertAudit } from '@/db/queries/audit';
import { MAX_PACKAGE_BYTES, publishApp } from '@/lib/catalog/catalog';
import { publicAppPackage } from '@/lib/restore/views';
import { appUploadSchema } from '@/lib/restore/schemas';

export const dynamic = 'force-dynamic';

/** The app catalog: every package by application id and version. */
export const GET = apiHandler(['admin', 'agent'], async (_req, { db }) =>
  Response.json({ apps: (await listAppPackages(db)).map(publicAppPackage) }));

/**
 * Publishes an app package (the body, application/octet-stream) for one version,
 * replacing an earlier upload of it; `models` limits it to "Man/Mod,…" (default: any).
 * A restore reinstalls exactly the version a snapshot recorded, from here.
 */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const meta = parseInput(appUploadSchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!/^application\/octet-stream\s*(;|$)/i.test(req.headers.get('content-type') ?? '')) {
    return apiError(415, 'unsupported-media-type', 'Send the package itself as the body (Content-Type: application/octet-stream).');
  }
  const upload = await readBytes(req, MAX_PACKAGE_BYTES);
  const row = await publishApp(ctx, { ...meta, bytes: upload });
  await insertAudit(ctx.db, { actor: `token:${ctx.tokenId}`, action: 'catalog.app.published', details: { id: row.id, appId: row.appId, version: row.version, models: meta.models ?? null, size: row.size } });
  return Response.json({ package: publicAppPackage(row) }, { status: 201 });
});
