import { apiError, apiHandler } from '@/lib/server/api';
import { getJob } from '@/db/queries/jobs';
import { publicJob } from '@/lib/views';

export const dynamic = 'force-dynamic';

/** A job and where it stands; poll it to follow a backup (nodes fetched, batches open). */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], (_req, { db }, { id }) => {
  const job = getJob(db, id);
  if (!job) return apiError(404, 'not-found', 'No such job.');
  return Response.json(publicJob(job));
});
