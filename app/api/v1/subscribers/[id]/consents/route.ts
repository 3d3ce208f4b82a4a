import { apiError, apiHandler, parseInput } from '@/lib/server/api';
import { devicesOfSubscriber, getSubscriber } from '@/db/queries/subscribers';
import { getDevice } from '@/db/queries/devices';
import { listConsents } from '@/db/queries/restore';
import { publicConsent } from '@/lib/restore-views';
import { consentsQuerySchema } from '@/lib/validations/restore';

export const dynamic = 'force-dynamic';

/** The consent ledger of a subscriber's handsets, newest first: each prompt, its version, the answer, network and cost quoted. */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], (req, { db }, { id }) => {
  const { limit } = parseInput(consentsQuerySchema, Object.fromEntries(new URL(req.url).searchParams));
  if (!getSubscriber(db, id)) return apiError(404, 'not-found', 'No such subscriber.');
  const devIds = new Map(devicesOfSubscriber(db, id).map((d) => [d.id, d.devId]));
  // A handset since moved to another subscriber keeps its entries here: they were answered for this one.
  const devIdOf = (deviceId: string) => devIds.get(deviceId) ?? getDevice(db, deviceId)?.devId;
  return Response.json({ consents: listConsents(db, { subscriberId: id }, limit).map((c) => publicConsent(c, devIdOf(c.deviceId))) });
});
