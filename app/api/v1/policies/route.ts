import { apiHandler } from '@/lib/server/api';
import { policyList } from '@/lib/policies/policies';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], async (_req, ctx) =>
  Response.json({ policies: await policyList(ctx.db) }),
);
