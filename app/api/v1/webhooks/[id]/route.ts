import { apiHandler } from '@/lib/server/api';
import { removeWebhook } from '@/lib/alerts/webhooks';

export const dynamic = 'force-dynamic';

export const DELETE = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) =>
  Response.json({ webhook: await removeWebhook(ctx.db, id, `token:${ctx.tokenId}`) }),
);
