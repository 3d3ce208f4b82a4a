import { apiHandler, parseInput } from '@/lib/server/api';
import { subscriberSearchSchema } from '@/lib/subscribers/schemas';
import { findSubscribers } from '@/lib/subscribers/views';

export const dynamic = 'force-dynamic';

/** Subscribers by name or email prefix, by MSISDN in any usual form, or by IMEI prefix. */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) => {
  const url = new URL(req.url);
  const q = parseInput(subscriberSearchSchema, {
    q: url.searchParams.get('q') ?? '',
    limit: url.searchParams.get('limit') ?? undefined,
  });
  return Response.json({ subscribers: await findSubscribers(db, q.q, q.limit) });
});
