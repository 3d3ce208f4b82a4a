/**
 * Schemas for restores and the package catalogs, shared by the API and the CLI: what a
 * restore plan may be asked for, and the fields a firmware or app upload names.
 */
import { z } from 'zod';
import { normaliseProfilePath } from '@/lib/backup/profiles';
import { categoriesSchema, modelNameSchema, splitList } from '../backup/schemas';

const devId = z.string().trim().min(1).max(128);

/** The node paths a plan is limited to: each normalised like a profile path ('./Settings/'), duplicates dropped. */
export const planPathsSchema = z.array(z.string().max(1024)).min(1).max(256).transform((list, ctx) => {
  const out: string[] = [];
  list.forEach((raw, i) => {
    const p = normaliseProfilePath(raw);
    if (p === undefined || p === '.') ctx.issues.push({ code: 'custom', path: [i], input: raw, message: `not a DM path such as ./Settings/Email: ${JSON.stringify(raw.slice(0, 80))}` });
    else if (!out.includes(p)) out.push(p);
  });
  return out;
});

/** An application id as SCOMO reports it (./SCOMO/Inventory/Deployed/x/ID), or the Deployed node's name. */
export const appIdSchema = z.string().trim().regex(/^[A-Za-z0-9._-]{1,256}$/, 'letters, digits, . _ - (up to 256)');

/**
 * A restore plan asked for: a complete snapshot, optionally another handset of the same
 * subscriber, and a selection (categories, node paths, apps). `allowFirmwareDowngrade`
 * is for admins only; the API refuses it from anyone else.
 */
export const planRequestSchema = z.object({
  snapshotId: z.string().trim().min(1).max(128),
  targetDevId: devId.optional(),
  categories: categoriesSchema.optional(),
  paths: planPathsSchema.optional(),
  apps: z.array(appIdSchema).min(1).max(256).optional(),
  allowFirmwareDowngrade: z.boolean().optional(),
}).strict();

export type PlanRequestInput = z.input<typeof planRequestSchema>;

/** A package version as the catalogs take it (lib/catalog/catalog.ts checks the exact form). */
const version = z.string().trim().min(1).max(32);

/** `Man/Mod,Man/Mod`: the models an app package installs on (the first slash splits). */
export const modelListSchema = z.string().max(8192).transform(splitList)
  .pipe(z.array(z.string().regex(/^[^/]{1,64}\/.{1,64}$/, 'a model is "MANUFACTURER/MODEL"')).min(1, 'name at least one model').max(256));

/** The query of POST /catalog/firmware (and `rewind firmware add`). */
export const firmwareUploadSchema = z.object({
  manufacturer: modelNameSchema,
  model: modelNameSchema,
  version,
  name: z.string().trim().min(1).max(128).optional(),
}).strict();

/** The query of POST /catalog/apps (and `rewind app add`). */
export const appUploadSchema = z.object({
  appId: appIdSchema,
  name: z.string().trim().min(1).max(128),
  version,
  models: modelListSchema.optional(),
}).strict();

/** `?limit=` of the consent ledger. */
export const consentsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(200),
}).strict();
