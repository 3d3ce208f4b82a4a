import { apiError, apiHandler, parseInput, readJson } from '@/lib/server/api';
import { planRestoreAs } from '@/lib/restore/plan';
import { planRequestSchema } from '@/lib/restore/schemas';

export const dynamic = 'force-dynamic';

/**
 * Plans a restore (the dry run): every step, the bytes, the cost on the target's network,
 * the exact prompt its user will see and what will not be carried. The plan is stored;
 * POST /plans/{id}/execute runs exactly it. Only admins may allow a firmware downgrade.
 */
export const POST = apiHandler(['admin', 'agent'], async (req, ctx) => {
  const input = parseInput(planRequestSchema, await readJson(req));
  if (input.allowFirmwareDowngrade && ctx.role !== 'admin') {
    return apiError(403, 'forbidden', 'Only an admin may allow a firmware downgrade.');
  }
  const { row, plan } = await planRestoreAs(ctx, input, `token:${ctx.tokenId}`);
  return Response.json({ planId: row.id, planHash: row.planHash, plan }, { status: 201 });
});
