import { apiError, apiHandler, parseInput, readJson } from '@/lib/server/api';
import { findDevice } from '@/lib/devices/present';
import { requestOrJoinJob } from '@/lib/jobs/requests';
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
  const device = await findDevice(ctx.db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  const r = await requestOrJoinJob(ctx.db, device, job, `token:${ctx.tokenId}`);
  return Response.json({ job: publicJob(r.job), created: r.created }, { status: 202 });
});
