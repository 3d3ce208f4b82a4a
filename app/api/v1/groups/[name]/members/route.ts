import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { importMembers } from '@/lib/groups/groups';
import { importMembersSchema } from '@/lib/groups/schemas';
import { IMPORT_MAX_BYTES } from '@/lib/devices/import';

export const dynamic = 'force-dynamic';

/** A static group's members from CSV (`{ csv, replace? }`): added, or replacing those there. */
export const POST = apiHandler<{ name: string }>(['admin'], async (req, ctx, { name }) => {
  const { csv, replace } = parseInput(importMembersSchema, await readJson(req, IMPORT_MAX_BYTES));
  return Response.json(await importMembers(ctx.db, name, csv, { replace: !!replace }, `token:${ctx.tokenId}`));
});
