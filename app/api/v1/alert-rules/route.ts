import { apiHandler } from '@/lib/server/api';
import { alertRules } from '@/lib/alerts/rules';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], async (_req, ctx) =>
  Response.json({ rules: await alertRules(ctx.db) }),
);
