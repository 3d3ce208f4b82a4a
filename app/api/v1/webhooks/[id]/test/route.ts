import { apiHandler } from '@/lib/server/api';
import { testWebhook } from '@/lib/alerts/webhooks';

export const dynamic = 'force-dynamic';

/** A webhook.test event, sent at once; the delivery after that attempt. */
export const POST = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) =>
  Response.json({ delivery: await testWebhook(ctx.db, id, `token:${ctx.tokenId}`) }),
);
