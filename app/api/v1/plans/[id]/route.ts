import { apiError, apiHandler } from '@/lib/server/api';
import { planView } from '@/lib/restore/views';

export const dynamic = 'force-dynamic';

/** A stored restore plan, as it was shown, and the job that ran it (if it was executed). */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db }, { id }) => {
  const plan = await planView(db, id);
  if (!plan) return apiError(404, 'not-found', 'No such plan.');
  return Response.json(plan);
});
