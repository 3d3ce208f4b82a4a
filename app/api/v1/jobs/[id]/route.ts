import { apiError, apiHandler } from '@/lib/server/api';
import { jobView } from '@/lib/restore/views';

export const dynamic = 'force-dynamic';

/**
 * A job and where it stands; poll it to follow a backup (nodes fetched, batches open) or
 * a restore (each item's outcome and the consent entries).
 */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db }, { id }) => {
  const job = await jobView(db, id);
  if (!job) return apiError(404, 'not-found', 'No such job.');
  return Response.json(job);
});
