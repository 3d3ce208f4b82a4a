import { apiError, apiHandler } from '@/lib/server/api';
import { deviceJobs, findDevice } from '@/lib/devices/present';

export const dynamic = 'force-dynamic';

/** The device's jobs, newest first (the last 200). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ jobs: await deviceJobs(db, device) });
});
