import { apiError, apiHandler } from '@/lib/server/api';
import { devicesOfSubscriber, getSubscriber } from '@/db/queries/subscribers';
import { publicDevice } from '@/lib/server/present';

export const dynamic = 'force-dynamic';

export const GET = apiHandler<{ id: string }>(['admin', 'agent'], (_req, { db }, { id }) => {
  const subscriber = getSubscriber(db, id);
  if (!subscriber) return apiError(404, 'not-found', 'No such subscriber.');
  return Response.json({ subscriber, devices: devicesOfSubscriber(db, id).map(publicDevice) });
});
