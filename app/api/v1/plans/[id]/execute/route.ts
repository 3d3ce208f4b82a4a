import { apiHandler } from '@/lib/server/api';
import { executePlan } from '@/lib/restore/engine';
import { publicJob } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/**
 * Runs a stored plan: a safety backup of the target first (a running server sends
 * Package #0 within a second), then the restore, item by item. A plan runs once (409).
 */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, ctx, { id }) => {
  const { job, backup } = await executePlan(ctx, id, `token:${ctx.tokenId}`);
  return Response.json({ job: publicJob(job), safetyBackup: publicJob(backup) }, { status: 202 });
});
