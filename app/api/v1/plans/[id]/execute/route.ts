import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { executePlan } from '@/lib/restore/engine';
import { executeRequestSchema } from '@/lib/restore/schemas';
import { publicJob } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/**
 * Runs a stored plan: a safety backup of the target first (a running server sends
 * Package #0 within a second), then the restore, item by item. A plan runs once (409).
 * Without a safety backup (null) when the target's policy takes none before updates.
 * The body says why (`{ "reason": "ticket 4711" }`): the job, the audit log and the
 * consent ledger keep it.
 */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (req, ctx, { id }) => {
  const { reason } = parseInput(executeRequestSchema, await readJson(req));
  const { job, backup } = await executePlan(ctx, id, `token:${ctx.tokenId}`, reason);
  return Response.json({ job: publicJob(job), safetyBackup: backup && publicJob(backup) }, { status: 202 });
});
