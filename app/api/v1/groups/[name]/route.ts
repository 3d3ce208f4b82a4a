import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { deleteGroup, editGroup, groupView } from '@/lib/groups/groups';
import { updateGroupSchema } from '@/lib/groups/schemas';

export const dynamic = 'force-dynamic';

export const GET = apiHandler<{ name: string }>(['admin', 'agent'], async (_req, ctx, { name }) =>
  Response.json({ group: await groupView(ctx.db, name) }),
);

/** A new name (the policy assignment follows), a rule group's new rule, a new priority. */
export const PUT = apiHandler<{ name: string }>(['admin'], async (req, ctx, { name }) => {
  const patch = parseInput(updateGroupSchema, await readJson(req));
  const g = await editGroup(ctx.db, name, patch, `token:${ctx.tokenId}`);
  return Response.json({ group: await groupView(ctx.db, g.name) });
});

export const DELETE = apiHandler<{ name: string }>(['admin'], async (_req, ctx, { name }) =>
  Response.json(await deleteGroup(ctx.db, name, `token:${ctx.tokenId}`)),
);
