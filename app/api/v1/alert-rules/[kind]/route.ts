import { apiHandler, readJson } from '@/lib/server/api';
import { setAlertRule } from '@/lib/alerts/rules';

export const dynamic = 'force-dynamic';

/** `{ threshold, enabled }` for one rule (admin); audited. */
export const PUT = apiHandler<{ kind: string }>(['admin'], async (req, ctx, { kind }) => {
  const body = (await readJson(req)) as Parameters<typeof setAlertRule>[2];
  return Response.json({ rule: await setAlertRule(ctx.db, kind, body, `token:${ctx.tokenId}`) });
});
