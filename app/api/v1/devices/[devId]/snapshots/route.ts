import { apiError, apiHandler } from '@/lib/server/api';
import { getDeviceByDevId } from '@/db/queries/devices';
import { listSnapshots } from '@/db/queries/snapshots';
import { publicSnapshot } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** The device's snapshots, newest first (every status: incomplete and failed ones too). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await getDeviceByDevId(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ snapshots: (await listSnapshots(db, device.id)).map(publicSnapshot) });
});
