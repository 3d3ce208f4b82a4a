import { apiError, apiHandler } from '@/lib/server/api';
import { deviceDsSnapshots, findDevice } from '@/lib/devices/present';

export const dynamic = 'force-dynamic';

/** The device's DS backups (contacts and calendar through /ds), newest first (the last 500). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ dsSnapshots: await deviceDsSnapshots(db, device) });
});
