import { apiHandler } from '@/lib/server/api';
import { listModels, profileRows } from '@/db/queries/profiles';

export const dynamic = 'force-dynamic';

/** Known models, each with the paths its profile adds to the generic one, by category. */
export const GET = apiHandler(['admin', 'agent'], async (_req, { db }) => {
  const models = [];
  for (const m of await listModels(db)) {
    models.push({
      id: m.id, manufacturer: m.manufacturer, model: m.model, createdAt: m.createdAt,
      profiles: Object.fromEntries((await profileRows(db, m.id)).map((r) => [r.category, JSON.parse(r.paths) as string[]])),
    });
  }
  return Response.json({ models });
});
