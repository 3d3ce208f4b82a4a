import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { createGroup, groupView, listGroupViews } from '@/lib/groups/groups';
import { createGroupSchema } from '@/lib/groups/schemas';
import { IMPORT_MAX_BYTES } from '@/lib/devices/import';

export const dynamic = 'force-dynamic';

export const GET = apiHandler(['admin', 'agent'], async (_req, ctx) =>
  Response.json({ groups: await listGroupViews(ctx.db) }),
);

/** A rule group (`{ kind: 'rule', name, rule }`) or a static one (`{ kind: 'static', name, members? }`, CSV). */
export const POST = apiHandler(['admin'], async (req, ctx) => {
  const input = parseInput(createGroupSchema, await readJson(req, IMPORT_MAX_BYTES));
  const made = await createGroup(ctx.db, input, `token:${ctx.tokenId}`);
  return Response.json(
    { group: await groupView(ctx.db, made.group.name), ...(made.import ? { import: made.import } : {}) },
    { status: 201 },
  );
});
