import { apiHandler } from '@/lib/server/api';
import { retryFailed } from '@/lib/restore/engine';
import { jobDetail } from '@/lib/restore/views';

export const dynamic = 'force-dynamic';

/**
 * Sends a finished restore's failed and mismatched items again, and only those: the job
 * is queued, the handset woken and its user asked again. 409 while the restore runs or
 * when nothing failed.
 */
export const POST = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, ctx, { id }) => {
  const job = await retryFailed(ctx, id, `token:${ctx.tokenId}`);
  return Response.json(await jobDetail(ctx.db, job), { status: 202 });
});
