import { apiError, apiHandler } from '@/lib/server/api';
import { findSubscriber, subscriberConsents } from '@/lib/subscribers/views';
import { readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** The consent ledger of a subscriber's handsets, newest first: each prompt, its version, the answer, network and cost quoted. */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (req, { db }, { id }) => {
  const q = readPageQuery(req.url);
  if (!(await findSubscriber(db, id))) return apiError(404, 'not-found', 'No such subscriber.');
  return Response.json(await subscriberConsents(db, id, q));
});
