import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { ensureModel, setProfile } from '@/db/queries/profiles';
import { insertAudit } from '@/db/queries/audit';
import { profilePathsSchema, profileRefSchema } from '@/lib/backup/schemas';
import { modelProfile } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** Sets the paths one category covers for a model (replacing its earlier ones; [] clears them). */
export const PUT = apiHandler<{ manufacturer: string; model: string; category: string }>(['admin'], async (req, ctx, params) => {
  const { manufacturer, model, category } = parseInput(profileRefSchema, params);
  const { paths } = parseInput(profilePathsSchema, await readJson(req));
  await setProfile(ctx.db, (await ensureModel(ctx.db, manufacturer, model)).id, category, paths);
  await insertAudit(ctx.db, { actor: `token:${ctx.tokenId}`, action: 'profile.set', details: { manufacturer, model, category, paths } });
  return Response.json({ updated: { category, paths }, ...(await modelProfile(ctx.db, manufacturer, model)) });
});
