import { apiHandler } from '@/lib/server/api';
import { modelList } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** Known models, each with the paths its profile adds to the generic one, by category. */
export const GET = apiHandler(['admin', 'agent'], async (_req, { db }) => {
  return Response.json({ models: await modelList(db) });
});
