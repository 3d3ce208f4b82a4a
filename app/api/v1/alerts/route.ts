import { apiHandler, parseInput } from '@/lib/server/api';
import { alertList } from '@/lib/alerts/alerts';
import { alertListQuerySchema } from '@/lib/alerts/schemas';

export const dynamic = 'force-dynamic';

/** Alerts newest first: unresolved by default, or `?status=open|acknowledged|resolved|all`. */
export const GET = apiHandler(['admin', 'agent'], async (req, ctx) => {
  const q = parseInput(alertListQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
  return Response.json(await alertList(ctx.db, q));
});
