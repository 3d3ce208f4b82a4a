import { apiHandler } from '@/lib/server/api';
import { modelList } from '@/lib/backup/views';
import { pageByKey, readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** Known models, each with the paths its profile adds to the generic one, by category. */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) => {
  const q = readPageQuery(req.url);
  const page = pageByKey(await modelList(db), (m) => [m.manufacturer, m.model, m.id], q);
  return Response.json({ models: page.items, nextCursor: page.nextCursor, limit: q.limit });
});
