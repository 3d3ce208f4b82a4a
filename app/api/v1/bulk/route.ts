import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { orderBulk, previewBulk } from '@/lib/bulk/bulk';
import { bulkOrderSchema } from '@/lib/bulk/schemas';
import { bulkProgress } from '@/lib/bulk/views';

export const dynamic = 'force-dynamic';

/**
 * A bulk action on a filter of the device list or on named handsets (admin): with
 * `dryRun: true` only the count; otherwise ordered, and worked through by the server.
 */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const { dryRun, ...order } = parseInput(bulkOrderSchema, await readJson(req));
  if (dryRun) return Response.json({ preview: await previewBulk(ctx.db, order) });
  const op = await orderBulk(ctx, `token:${ctx.tokenId}`, order);
  return Response.json({ bulk: await bulkProgress(ctx, op) }, { status: 202 });
});
