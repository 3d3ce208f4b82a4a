import { apiHandler } from '@/lib/server/api';
import { planUndo } from '@/lib/restore/engine';

export const dynamic = 'force-dynamic';

/**
 * "Put it back as it was before this restore": plans (and stores) a restore of a finished
 * restore's safety backup onto the same handset, over the same selection, removing what
 * the restore added. Execute it like any plan (POST /plans/{id}/execute).
 */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, ctx, { id }) => {
  const { row, plan } = await planUndo(ctx, id, `token:${ctx.tokenId}`);
  return Response.json({ planId: row.id, planHash: row.planHash, plan }, { status: 201 });
});
