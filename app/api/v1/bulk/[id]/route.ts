import { apiHandler } from '@/lib/server/api';
import { bulkProgressById } from '@/lib/bulk/views';

export const dynamic = 'force-dynamic';

/** A bulk operation's progress (admin). */
export const GET = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) =>
  Response.json({ bulk: await bulkProgressById(ctx, id) }),
);
