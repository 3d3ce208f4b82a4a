import { apiHandler } from '@/lib/server/api';
import { resolveAlert } from '@/lib/alerts/alerts';

export const dynamic = 'force-dynamic';

/** Dealt with; audited under the token. */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, ctx, { id }) =>
  Response.json({ alert: await resolveAlert(ctx.db, id, `token:${ctx.tokenId}`) }),
);
