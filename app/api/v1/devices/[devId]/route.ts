import { apiError, apiHandler } from '@/lib/server/api';
import { getDeviceByDevId } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { publicDevice } from '@/lib/devices/present';
import { publicJob, publicSnapshot } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** One device: what the list shows, its latest snapshot (and latest complete one) and its queued or running jobs. */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, { db }, { devId }) => {
  const device = await getDeviceByDevId(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  const last = (await listSnapshots(db, device.id, { limit: 1 }))[0];
  const complete = last?.status === 'complete' ? last : await lastCompleteSnapshot(db, device.id);
  return Response.json({
    device: publicDevice(device),
    lastSnapshot: last ? publicSnapshot(last) : null,
    lastCompleteSnapshot: complete ? publicSnapshot(complete) : null,
    pendingJobs: (await jobsForDevice(db, device.id, ['queued', 'running'])).map(publicJob),
  });
});
