import { apiHandler } from '@/lib/server/api';
import { cancelBulk } from '@/lib/bulk/bulk';
import { bulkProgress } from '@/lib/bulk/views';

export const dynamic = 'force-dynamic';

/** Stops a bulk operation; its jobs not yet started are cancelled (admin). */
export const POST = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) =>
  Response.json({ bulk: await bulkProgress(ctx, await cancelBulk(ctx.db, id, `token:${ctx.tokenId}`)) }),
);
