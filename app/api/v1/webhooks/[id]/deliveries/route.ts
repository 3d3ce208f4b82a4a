import { apiHandler, parseInput } from '@/lib/server/api';
import { webhookDetail } from '@/lib/alerts/webhooks';
import { deliveryListQuerySchema } from '@/lib/alerts/schemas';

export const dynamic = 'force-dynamic';

export const GET = apiHandler<{ id: string }>(['admin'], async (req, ctx, { id }) => {
  const { limit } = parseInput(deliveryListQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
  return Response.json({ deliveries: (await webhookDetail(ctx.db, id, limit)).deliveries });
});
