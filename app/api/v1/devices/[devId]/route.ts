import { apiError, apiHandler } from '@/lib/server/api';
import { deviceDetail, findDevice } from '@/lib/devices/present';

export const dynamic = 'force-dynamic';

/** One device: what the list shows, its latest snapshot (and latest complete one) and its queued or running jobs. */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json(await deviceDetail(db, device));
});
