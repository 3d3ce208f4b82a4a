import { apiHandler, parseInput } from '@/lib/server/api';
import { modelRefSchema } from '@/lib/backup/schemas';
import { modelProfile } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/**
 * The profile a handset of this model is backed up with: the generic one plus the model's
 * own paths. A model nobody described yet gets the generic profile (`known: false`).
 */
export const GET = apiHandler<{ manufacturer: string; model: string }>(
  ['admin', 'agent'],
  async (_req, { db }, params) => {
    const { manufacturer, model } = parseInput(modelRefSchema, params);
    return Response.json(await modelProfile(db, manufacturer, model));
  },
);
