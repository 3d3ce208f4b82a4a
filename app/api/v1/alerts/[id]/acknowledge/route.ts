import { apiHandler } from '@/lib/server/api';
import { acknowledgeAlert } from '@/lib/alerts/alerts';

export const dynamic = 'force-dynamic';

/** Someone is on it; audited under the token. */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, ctx, { id }) =>
  Response.json({ alert: await acknowledgeAlert(ctx.db, id, `token:${ctx.tokenId}`) }),
);
