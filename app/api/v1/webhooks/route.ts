import { apiHandler, readJson } from '@/lib/server/api';
import { addWebhook, webhookList } from '@/lib/alerts/webhooks';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin'], async (_req, ctx) => Response.json({ webhooks: await webhookList(ctx.db) }));

/** `{ url, events }`; answers the signing secret, once. */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const body = (await readJson(req)) as Parameters<typeof addWebhook>[1];
  return Response.json(await addWebhook(ctx.db, body, `token:${ctx.tokenId}`), { status: 201 });
});
