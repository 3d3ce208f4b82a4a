import { apiError, apiHandler } from '@/lib/server/api';
import { getDeviceByDevId } from '@/db/queries/devices';
import { dsSnapshotsOf } from '@/db/queries/ds';
import { publicDsSnapshot } from '@/lib/ds/views';

export const dynamic = 'force-dynamic';

/** The device's DS backups (contacts and calendar through /ds), newest first (the last 500). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await getDeviceByDevId(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ dsSnapshots: (await dsSnapshotsOf(db, device.id, 500)).map(publicDsSnapshot) });
});
