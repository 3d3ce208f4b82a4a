import { apiError, apiHandler } from '@/lib/server/api';
import { getPlan } from '@/db/queries/restore';
import { publicPlan } from '@/lib/restore/views';

export const dynamic = 'force-dynamic';

/** A stored restore plan, as it was shown, and the job that ran it (if it was executed). */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db }, { id }) => {
  const row = await getPlan(db, id);
  if (!row) return apiError(404, 'not-found', 'No such plan.');
  return Response.json(publicPlan(row));
});
