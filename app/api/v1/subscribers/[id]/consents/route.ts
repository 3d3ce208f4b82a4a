import { apiError, apiHandler, parseInput } from '@/lib/server/api';
import { devicesOfSubscriber, getSubscriber } from '@/db/queries/subscribers';
import { getDevice } from '@/db/queries/devices';
import { listConsents } from '@/db/queries/restore';
import { publicConsent } from '@/lib/restore/views';
import { consentsQuerySchema } from '@/lib/restore/schemas';

export const dynamic = 'force-dynamic';

/** The consent ledger of a subscriber's handsets, newest first: each prompt, its version, the answer, network and cost quoted. */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (req, { db }, { id }) => {
  const { limit } = parseInput(consentsQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!(await getSubscriber(db, id))) return apiError(404, 'not-found', 'No such subscriber.');
  const devIds = new Map<string, string | undefined>((await devicesOfSubscriber(db, id)).map((d) => [d.id, d.devId]));
  const entries = await listConsents(db, { subscriberId: id }, limit);
  // A handset since moved to another subscriber keeps its entries here: they were answered for this one.
  for (const c of entries) if (!devIds.has(c.deviceId)) devIds.set(c.deviceId, (await getDevice(db, c.deviceId))?.devId);
  return Response.json({ consents: entries.map((c) => publicConsent(c, devIds.get(c.deviceId))) });
});
