import { apiError, apiHandler, parseInput, readJson } from '@/lib/server/api';
import { insertAudit } from '@/db/queries/audit';
import { getDeviceByDevId } from '@/db/queries/devices';
import { JobRequestError, requestJob } from '@/lib/jobs/requests';
import { createJobSchema } from '@/lib/backup/schemas';
import { publicJob } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/**
 * Queues a backup, a local backup, a local restore, a DS backup or a DS restore on a handset; a running server sends
 * Package #0 within a second. Agents may ask for all three. A backup asked for while one
 * is pending joins it (`created: false`).
 */
export const POST = apiHandler(['admin', 'agent'], async (req, ctx) => {
  const { devId, ...job } = parseInput(createJobSchema, await readJson(req));
  const device = await getDeviceByDevId(ctx.db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  try {
    const actor = `token:${ctx.tokenId}`;
    const r = await requestJob(ctx.db, device, job, actor);
    // Creating a job is audited by its domain; joining one already pending, as the console does, here.
    if (!r.created) await insertAudit(ctx.db, { actor, action: `${r.job.kind}.joined`, deviceId: device.id, details: { jobId: r.job.id } });
    return Response.json({ job: publicJob(r.job), created: r.created }, { status: 202 });
  } catch (err) {
    if (err instanceof JobRequestError) {
      const status = err.code === 'no-local-backup' || err.code === 'no-ds-snapshot' ? 404 : err.code === 'forbidden-target' ? 403 : 409;
      return apiError(status, err.code, err.message);
    }
    throw err;
  }
});
