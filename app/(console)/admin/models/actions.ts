'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { AppError } from '@/lib/core/errors';
import { CATEGORIES } from '@/lib/omadm/mo/backup-restore';
import { authedAction } from '@/lib/server/action';
import { modelNameSchema, profilePathsSchema } from '@/lib/backup/schemas';
import { addModel, saveModelProfile, type Profile } from '@/lib/backup/profiles';

const PAGE = '/admin/models';
const name = (what: string) =>
  z
    .string()
    .trim()
    .min(1, `Enter the ${what} as the handset reports it.`)
    .max(64, `A ${what} has at most 64 characters.`)
    .pipe(modelNameSchema);

export const addModelAction = authedAction(
  {
    roles: ['admin'],
    schema: z.object({ manufacturer: name('manufacturer'), model: name('model') }),
    audit: 'model.added',
  },
  async (input, ctx) => {
    const m = await addModel(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { manufacturer: m.manufacturer, model: m.model };
  },
);

/** One path per line; blank lines are ignored. */
const lines = z
  .string()
  .max(64 * 1024)
  .default('')
  .transform((s) =>
    s
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
  );

const profileSchema = z.object({
  manufacturer: modelNameSchema,
  model: modelNameSchema,
  ...(Object.fromEntries(CATEGORIES.map((c) => [c, lines])) as Record<(typeof CATEGORIES)[number], typeof lines>),
});

/** Saves a model's own paths, category by category (the same call as PUT …/profiles/{category}); only changed ones are written and audited. */
export const saveProfileAction = authedAction(
  { roles: ['admin'], schema: profileSchema, audit: 'profile.set' },
  async (input, ctx) => {
    const fieldErrors: Record<string, string[]> = {};
    const parsed = {} as Profile;
    for (const c of CATEGORIES) {
      const r = profilePathsSchema.safeParse({ paths: input[c] });
      if (r.success) parsed[c] = r.data.paths;
      else fieldErrors[c] = r.error.issues.map((i) => `Line ${Number(i.path[1] ?? 0) + 1}: ${i.message}`);
    }
    if (Object.keys(fieldErrors).length)
      throw AppError.invalid('Some paths are not DM paths such as ./Settings.', fieldErrors);
    const changed = await saveModelProfile(
      ctx.db,
      { manufacturer: input.manufacturer, model: input.model },
      parsed,
      ctx.viewer.email,
    );
    revalidatePath(PAGE);
    return { changed };
  },
);
