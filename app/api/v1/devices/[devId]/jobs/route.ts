import { apiError, apiHandler } from '@/lib/server/api';
import { getDeviceByDevId } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { publicJob } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** The device's jobs, newest first (the last 200). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await getDeviceByDevId(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json({ jobs: (await jobsForDevice(db, device.id)).map(publicJob) });
});
