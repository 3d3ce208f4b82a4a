'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { ensureModel, findModel, setProfile } from '@/db/queries/profiles';
import { AppError } from '@/lib/core/errors';
import { CATEGORIES } from '@/lib/omadm/mo/backup-restore';
import { authedAction } from '@/lib/server/action';
import { modelNameSchema, profilePathsSchema } from '@/lib/backup/schemas';
import { modelProfile } from '@/lib/backup/views';

const PAGE = '/admin/models';
const name = (what: string) => z.string().trim().min(1, `Enter the ${what} as the handset reports it.`).max(64, `A ${what} has at most 64 characters.`).pipe(modelNameSchema);

export const addModelAction = authedAction({ roles: ['admin'], schema: z.object({ manufacturer: name('manufacturer'), model: name('model') }), audit: 'model.added' }, async (input, ctx) => {
  if (await findModel(ctx.db, input.manufacturer, input.model)) {
    throw AppError.invalid(`${input.manufacturer} ${input.model} is already known.`, { model: ['This model is already known.'] });
  }
  const m = await ensureModel(ctx.db, input.manufacturer, input.model);
  await ctx.audit('model.added', { details: { id: m.id, manufacturer: m.manufacturer, model: m.model } });
  revalidatePath(PAGE);
  return { manufacturer: m.manufacturer, model: m.model };
});

/** One path per line; blank lines are ignored. */
const lines = z.string().max(64 * 1024).default('').transform((s) => s.split(/\r?\n/).map((l) => l.trim()).filter(Boolean));

const profileSchema = z.object({
  manufacturer: modelNameSchema,
  model: modelNameSchema,
  ...Object.fromEntries(CATEGORIES.map((c) => [c, lines])) as Record<(typeof CATEGORIES)[number], typeof lines>,
});

/** Saves a model's own paths, category by category (the same call as PUT …/profiles/{category}); only changed ones are written and audited. */
export const saveProfileAction = authedAction({ roles: ['admin'], schema: profileSchema, audit: 'profile.set' }, async (input, ctx) => {
  const fieldErrors: Record<string, string[]> = {};
  const parsed = new Map<string, string[]>();
  for (const c of CATEGORIES) {
    const r = profilePathsSchema.safeParse({ paths: input[c] });
    if (r.success) parsed.set(c, r.data.paths);
    else fieldErrors[c] = r.error.issues.map((i) => `Line ${Number(i.path[1] ?? 0) + 1}: ${i.message}`);
  }
  if (Object.keys(fieldErrors).length) throw AppError.invalid('Some paths are not DM paths such as ./Settings.', fieldErrors);
  const before = (await modelProfile(ctx.db, input.manufacturer, input.model)).own;
  const m = await ensureModel(ctx.db, input.manufacturer, input.model);
  const changed: string[] = [];
  for (const c of CATEGORIES) {
    const paths = parsed.get(c)!;
    if (JSON.stringify(paths) === JSON.stringify(before[c])) continue;
    await setProfile(ctx.db, m.id, c, paths);
    await ctx.audit('profile.set', { details: { manufacturer: m.manufacturer, model: m.model, category: c, paths } });
    changed.push(c);
  }
  revalidatePath(PAGE);
  return { changed };
});
