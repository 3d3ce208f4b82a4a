/**
 * Schemas for backup work asked for through the API and the CLI: jobs, categories and
 * backup profiles.
 */
import { z } from 'zod';
import { CATEGORIES, LOCAL_TARGETS } from '@/lib/omadm/mo/backup-restore';
import { normaliseProfilePath } from '@/lib/backup/profiles';

export const categorySchema = z.enum(CATEGORIES);

/** One or more categories, each once. */
export const categoriesSchema = z
  .array(categorySchema)
  .min(1)
  .max(CATEGORIES.length)
  .refine((l) => new Set(l).size === l.length, 'each category once');

const devId = z.string().trim().min(1).max(128);

export const createJobSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('backup'), devId, categories: categoriesSchema.optional() }).strict(),
  z
    .object({
      kind: z.literal('local-backup'),
      devId,
      target: z.enum(LOCAL_TARGETS),
      categories: categoriesSchema.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('local-restore'),
      devId,
      localId: z.string().trim().min(1).max(128),
      categories: categoriesSchema.optional(),
    })
    .strict(),
  /** Contacts and calendar through Data Sync. */
  z.object({ kind: z.literal('ds-backup'), devId }).strict(),
  /** devId: the handset to restore onto (the snapshot's own, or another of its subscriber's). */
  z.object({ kind: z.literal('ds-restore'), devId, snapshotId: z.string().trim().min(1).max(64) }).strict(),
]);

export type CreateJobInput = z.input<typeof createJobSchema>;
export type CreateJob = z.output<typeof createJobSchema>;
/** A job request for a device already found: CreateJob less its devId, kind by kind. */
export type JobRequest = {
  [K in CreateJob['kind']]: Omit<Extract<CreateJob, { kind: K }>, 'devId'>;
}[CreateJob['kind']];

/** A manufacturer or model name as handsets report it in DevInfo Man/Mod. */
export const modelNameSchema = z.string().trim().min(1).max(64);
export const modelRefSchema = z.object({ manufacturer: modelNameSchema, model: modelNameSchema });
export const profileRefSchema = modelRefSchema.extend({ category: categorySchema });

/** Profiles hold a few subtrees per category, never thousands. */
export const MAX_PROFILE_PATHS = 64;

/** `{ paths }` for one category of a model: each normalised ('./'-rooted, no trailing '/'), duplicates dropped. */
export const profilePathsSchema = z
  .object({
    paths: z
      .array(z.string().max(1024))
      .max(MAX_PROFILE_PATHS)
      .transform((list, ctx) => {
        const out: string[] = [];
        list.forEach((raw, i) => {
          const p = normaliseProfilePath(raw);
          if (p === undefined)
            ctx.issues.push({
              code: 'custom',
              path: [i],
              input: raw,
              message: `not a DM path such as ./Settings: ${JSON.stringify(raw.slice(0, 80))}`,
            });
          else if (!out.includes(p)) out.push(p);
        });
        return out;
      }),
  })
  .strict();

/** Splits a comma-separated list given on the command line ("a,b" or "a, b"). */
export function splitList(s: string): string[] {
  return s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');
}

// What the API answers (lib/backup/views.ts) ---------------------------------------------

export const snapshotSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  jobId: z.string().nullable(),
  trigger: z.enum(['on-demand', 'scheduled', 'safety', 'device', 'connect']),
  status: z.enum(['incomplete', 'complete', 'failed']),
  categories: z.array(categorySchema),
  rootHash: z.string().nullable().describe('SHA-256 (hex) of the manifest, set when complete'),
  entries: z.int(),
  bytes: z.int().describe("logical size: every value's bytes"),
  newBytes: z.int().describe('content this snapshot added to the store'),
  legalHold: z.boolean(),
  error: z.string().nullable(),
  startedAt: z.int(),
  completedAt: z.int().nullable(),
  changeDetection: z
    .enum(['full', 'digest', 'verify'])
    .nullable()
    .describe(
      "how it found what changed: full (fetched everything), digest (the B&R MO's digests: only what changed travelled), verify (a full walk checking the digests)",
    ),
  air: z
    .object({
      bytesUp: z.int().describe('bytes the handset sent in the session'),
      bytesDown: z.int().describe('bytes the server sent'),
      roundTrips: z.int().describe('DM messages the handset sent, each answered'),
    })
    .nullable()
    .describe('what its DM session cost over the air; null for a local backup'),
  digestDefect: z
    .string()
    .nullable()
    .describe("a verification walk found the handset's digests wrong (the full result was kept)"),
});

export const manifestEntrySchema = z.object({
  path: z.string().meta({ example: './DevDetail/FwV' }),
  category: categorySchema,
  format: z.string().describe('DM format (chr, int, bool, bin, xml, …; node for interior nodes)'),
  type: z.string().optional().describe('MIME type, when the handset gave one'),
  size: z.int(),
  hash: z.string().optional().describe('SHA-256 (hex) of the value; absent for interior nodes'),
});

export const backupProgressSchema = z
  .object({
    snapshotId: z.string(),
    nodes: z.int().describe('nodes fetched'),
    openBatches: z.int().describe('Get batches sent and not yet answered'),
    newBytes: z.int(),
    missing: z.int(),
    unreadable: z.int(),
    errors: z.int(),
  })
  .describe('A backup\'s progress (other kinds show their phase, e.g. {"phase":"awaiting-result"})');

const anyObject = z.object({}).loose();

export const jobSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  kind: z.enum(['backup', 'local-backup', 'local-restore', 'restore', 'ds-backup', 'ds-restore', 'dm-commands']),
  status: z
    .enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'rejected'])
    .describe("rejected: the handset's user said no to a restore"),
  request: anyObject.describe('what was asked for: trigger, categories, target, localId, planId, actor'),
  error: z.string().nullable().describe('why it failed, or why the last attempt did (a queued job retries)'),
  attempts: z.int(),
  progress: z.union([backupProgressSchema, anyObject, z.null()]),
  result: anyObject
    .nullable()
    .describe(
      'for a backup: snapshotId, rootHash, entries, bytes, newBytes; for a restore: items, verified, failed, mismatched',
    ),
  dependsOn: z.string().nullable().describe("a job that must succeed first (a restore's safety backup)"),
  notBefore: z.int().nullable().describe('retry not before (ms since the epoch)'),
  wakes: z
    .object({
      attempts: z
        .array(
          z.object({
            at: z.int().describe('when it was sent (ms since the epoch)'),
            delivered: z.boolean().describe('whether the push gateway took it'),
            error: z.string().optional().describe('why it was not delivered'),
          }),
        )
        .describe('each Package #0 sent for the job, oldest first'),
      deadline: z.int().nullable().describe('until when a Package #0 whose session did not come is sent again'),
      next: z.int().nullable().describe('when the next one is due, if one is'),
    })
    .describe('the Package #0 that woke (or tried to wake) the handset for this job'),
  createdAt: z.int(),
  updatedAt: z.int(),
});

/** Paths by category (a category a model does not name is absent). */
const profileMapSchema = z.object(
  Object.fromEntries(CATEGORIES.map((c) => [c, z.array(z.string()).optional()])) as Record<
    (typeof CATEGORIES)[number],
    z.ZodOptional<z.ZodArray<z.ZodString>>
  >,
);

export const modelSchema = z.object({
  id: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  createdAt: z.int(),
  profiles: profileMapSchema.describe('the paths the model adds to the generic profile, by category'),
});

export const modelProfileSchema = z.object({
  manufacturer: z.string(),
  model: z.string(),
  known: z.boolean().describe('false: nobody described this model; its handsets get the generic profile'),
  profile: profileMapSchema.describe("effective: generic plus the model's paths"),
  own: profileMapSchema.describe("the model's paths alone"),
  generic: profileMapSchema,
});

const countsSchema = z.object({ added: z.int(), removed: z.int(), changed: z.int() });

export const diffSchema = z.object({
  a: snapshotSchema,
  b: snapshotSchema,
  summary: z
    .string()
    .meta({ example: '3 added, 1 removed, 2 changed; firmware 1.0.3 → 1.1.0; ShieldAV 3.2.1 → 4.0.2' }),
  byCategory: z.object(
    Object.fromEntries(CATEGORIES.map((c) => [c, countsSchema])) as Record<
      (typeof CATEGORIES)[number],
      typeof countsSchema
    >,
  ),
  firmware: z.array(
    z.object({ field: z.enum(['FwV', 'SwV', 'HwV']), before: z.string().optional(), after: z.string().optional() }),
  ),
  apps: z.array(
    z.object({
      id: z.string(),
      name: z.string().optional(),
      change: z.enum(['installed', 'removed', 'upgraded', 'downgraded', 'changed']),
      before: z.string().optional(),
      after: z.string().optional(),
    }),
  ),
  added: z.array(manifestEntrySchema),
  removed: z.array(manifestEntrySchema),
  changed: z.array(
    z.object({ path: z.string(), category: categorySchema, before: manifestEntrySchema, after: manifestEntrySchema }),
  ),
  unchanged: z.int(),
});
