import { apiHandler } from '@/lib/server/api';
import { deletePolicyAs, policyNamed } from '@/lib/policies/policies';

export const dynamic = 'force-dynamic';

/** Its assignments are removed; handsets that had it as their own fall back. Never the default (409). */
export const DELETE = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) => {
  const p = await policyNamed(ctx.db, id);
  return Response.json({ deleted: await deletePolicyAs(ctx.db, p.id, `token:${ctx.tokenId}`) });
});
