import { apiError, apiHandler, parseInput } from '@/lib/server/api';
import { findSubscriber, subscriberConsents } from '@/lib/subscribers/views';
import { consentsQuerySchema } from '@/lib/restore/schemas';

export const dynamic = 'force-dynamic';

/** The consent ledger of a subscriber's handsets, newest first: each prompt, its version, the answer, network and cost quoted. */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (req, { db }, { id }) => {
  const { limit } = parseInput(consentsQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!(await findSubscriber(db, id))) return apiError(404, 'not-found', 'No such subscriber.');
  return Response.json({ consents: await subscriberConsents(db, id, limit) });
});
