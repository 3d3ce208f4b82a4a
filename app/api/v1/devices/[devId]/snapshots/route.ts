import { apiError, apiHandler } from '@/lib/server/api';
import { deviceSnapshots, findDevice } from '@/lib/devices/present';

export const dynamic = 'force-dynamic';

/** The device's snapshots, newest first (every status: incomplete and failed ones too). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ snapshots: await deviceSnapshots(db, device) });
});
