import { apiHandler, parseInput, readJson } from '@/lib/server/api';
import { setModelProfile } from '@/lib/backup/profiles';
import { profilePathsSchema, profileRefSchema } from '@/lib/backup/schemas';
import { modelProfile } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** Sets the paths one category covers for a model (replacing its earlier ones; [] clears them). */
export const PUT = apiHandler<{ manufacturer: string; model: string; category: string }>(
  ['admin'],
  async (req, ctx, params) => {
    const { manufacturer, model, category } = parseInput(profileRefSchema, params);
    const { paths } = parseInput(profilePathsSchema, await readJson(req));
    await setModelProfile(ctx.db, { manufacturer, model, category, paths }, `token:${ctx.tokenId}`);
    return Response.json({ updated: { category, paths }, ...(await modelProfile(ctx.db, manufacturer, model)) });
  },
);
