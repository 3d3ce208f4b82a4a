/**
 * Schemas for backup work asked for through the API and the CLI: jobs, categories and
 * backup profiles.
 */
import { z } from 'zod';
import { CATEGORIES, LOCAL_TARGETS } from '@/lib/omadm/mo/backup-restore';
import { normaliseProfilePath } from '@/lib/backup/profiles';

export const categorySchema = z.enum(CATEGORIES);

/** One or more categories, each once. */
export const categoriesSchema = z.array(categorySchema).min(1).max(CATEGORIES.length)
  .refine((l) => new Set(l).size === l.length, 'each category once');

const devId = z.string().trim().min(1).max(128);

export const createJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('backup'), devId, categories: categoriesSchema.optional() }).strict(),
  z.object({ kind: z.literal('local-backup'), devId, target: z.enum(LOCAL_TARGETS), categories: categoriesSchema.optional() }).strict(),
  z.object({ kind: z.literal('local-restore'), devId, localId: z.string().trim().min(1).max(128), categories: categoriesSchema.optional() }).strict(),
  /** Contacts and calendar through Data Sync. */
  z.object({ kind: z.literal('ds-backup'), devId }).strict(),
  /** devId: the handset to restore onto (the snapshot's own, or another of its subscriber's). */
  z.object({ kind: z.literal('ds-restore'), devId, snapshotId: z.string().trim().min(1).max(64) }).strict(),
]);

export type CreateJobInput = z.input<typeof createJobSchema>;
export type CreateJob = z.output<typeof createJobSchema>;
/** A job request for a device already found: CreateJob less its devId, kind by kind. */
export type JobRequest = { [K in CreateJob['kind']]: Omit<Extract<CreateJob, { kind: K }>, 'devId'> }[CreateJob['kind']];

/** A manufacturer or model name as handsets report it in DevInfo Man/Mod. */
export const modelNameSchema = z.string().trim().min(1).max(64);
export const modelRefSchema = z.object({ manufacturer: modelNameSchema, model: modelNameSchema });
export const profileRefSchema = modelRefSchema.extend({ category: categorySchema });

/** Profiles hold a few subtrees per category, never thousands. */
export const MAX_PROFILE_PATHS = 64;

/** `{ paths }` for one category of a model: each normalised ('./'-rooted, no trailing '/'), duplicates dropped. */
export const profilePathsSchema = z.object({
  paths: z.array(z.string().max(1024)).max(MAX_PROFILE_PATHS).transform((list, ctx) => {
    const out: string[] = [];
    list.forEach((raw, i) => {
      const p = normaliseProfilePath(raw);
      if (p === undefined) ctx.issues.push({ code: 'custom', path: [i], input: raw, message: `not a DM path such as ./Settings: ${JSON.stringify(raw.slice(0, 80))}` });
      else if (!out.includes(p)) out.push(p);
    });
    return out;
  }),
}).strict();

/** Splits a comma-separated list given on the command line ("a,b" or "a, b"). */
export function splitList(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}
