/**
 * Schemas for restores and the package catalogs, shared by the API and the CLI: what a
 * restore plan may be asked for, and the fields a firmware or app upload names.
 */
import { z } from 'zod';
import { normaliseProfilePath } from '@/lib/backup/profiles';
import { categoriesSchema, categorySchema, jobSchema, modelNameSchema, splitList } from '../backup/schemas';

const devId = z.string().trim().min(1).max(128);

/** The node paths a plan is limited to: each normalised like a profile path ('./Settings/'), duplicates dropped. */
export const planPathsSchema = z
  .array(z.string().max(1024))
  .min(1)
  .max(256)
  .transform((list, ctx) => {
    const out: string[] = [];
    list.forEach((raw, i) => {
      const p = normaliseProfilePath(raw);
      if (p === undefined || p === '.')
        ctx.issues.push({
          code: 'custom',
          path: [i],
          input: raw,
          message: `not a DM path such as ./Settings/Email: ${JSON.stringify(raw.slice(0, 80))}`,
        });
      else if (!out.includes(p)) out.push(p);
    });
    return out;
  });

/** An application id as SCOMO reports it (./SCOMO/Inventory/Deployed/x/ID), or the Deployed node's name. */
export const appIdSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9._-]{1,256}$/, 'letters, digits, . _ - (up to 256)');

/**
 * A restore plan asked for: a complete snapshot, optionally another handset of the same
 * subscriber, and a selection (categories, node paths, apps). `allowFirmwareDowngrade`
 * is for admins only; the API refuses it from anyone else.
 */
export const planRequestSchema = z
  .object({
    snapshotId: z.string().trim().min(1).max(128),
    targetDevId: devId.optional(),
    categories: categoriesSchema.optional(),
    paths: planPathsSchema.optional(),
    apps: z.array(appIdSchema).min(1).max(256).optional(),
    allowFirmwareDowngrade: z.boolean().optional(),
    keepNewer: z
      .boolean()
      .optional()
      .describe(
        'keep every value the handset changed after the backup was taken (they are flagged `newer` in the plan)',
      ),
    keep: planPathsSchema
      .optional()
      .describe("the handset's values to keep, by path (a record's path keeps its leaves)"),
    removeExtra: z
      .boolean()
      .optional()
      .describe('also Delete values under the selection that the backup did not have (default false)'),
  })
  .strict();

/** Executing a plan: why it is started, a reason or a ticket reference (the job, the audit log and the consent ledger keep it). */
export const executeRequestSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'give a reason or a ticket reference')
      .max(500)
      .meta({ example: 'ticket 4711: settings lost after reset' }),
  })
  .strict();

export type PlanRequestInput = z.input<typeof planRequestSchema>;

/** A package version as the catalogs take it (lib/catalog/catalog.ts checks the exact form). */
const version = z.string().trim().min(1).max(32);

/** `Man/Mod,Man/Mod`: the models an app package installs on (the first slash splits). */
export const modelListSchema = z
  .string()
  .max(8192)
  .transform(splitList)
  .pipe(
    z
      .array(z.string().regex(/^[^/]{1,64}\/.{1,64}$/, 'a model is "MANUFACTURER/MODEL"'))
      .min(1, 'name at least one model')
      .max(256),
  );

/** The query of POST /catalog/firmware (and `rewind firmware add`). */
export const firmwareUploadSchema = z
  .object({
    manufacturer: modelNameSchema.describe('DevInfo/Man').meta({ example: 'Nimbus' }),
    model: modelNameSchema.describe('DevInfo/Mod').meta({ example: 'N1' }),
    version: version.describe('as in DevDetail/FwV: letters, digits, . _ + - (up to 32)').meta({ example: '1.1.0' }),
    name: z.string().trim().min(1).max(128).optional().describe('for people'),
  })
  .strict();

/** The query of POST /catalog/apps (and `rewind app add`). */
export const appUploadSchema = z
  .object({
    appId: appIdSchema.describe('the SCOMO id (./SCOMO/Inventory/Deployed/x/ID)').meta({ example: 'com.shield.av' }),
    name: z.string().trim().min(1).max(128).describe('for people').meta({ example: 'ShieldAV' }),
    version: version.describe('letters, digits, . _ + - (up to 32)').meta({ example: '3.2.1' }),
    models: modelListSchema
      .optional()
      .describe('comma-separated "Manufacturer/Model" it installs on; default any')
      .meta({ example: 'Nimbus/N1,Nimbus/N2' }),
    systemOf: modelNameSchema
      .optional()
      .describe(
        "the maker whose preinstalled system app this is: a migration never installs it on another maker's handset",
      )
      .meta({ example: 'Nimbus Mobile' }),
  })
  .strict();

/** `?limit=` of the consent ledger. */
export const consentsQuerySchema = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

// What the API answers (lib/restore/views.ts) --------------------------------------------

const dmPath = z.string().meta({ example: './Settings/Email' });

const hash = z.string().meta({ example: '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08' });
const valueSide = z
  .object({ size: z.int(), text: z.string().optional().describe('short text values only') })
  .describe('a value as a person reads it: its text when it is short text, else its size');

export const planStepSchema = z.union([
  z
    .object({
      seq: z.int(),
      kind: z.literal('firmware'),
      op: z.literal('update').optional(),
      path: dmPath,
      from: z.string().nullable(),
      to: z.string(),
      before: z.string().nullable().optional().describe('the version on the handset'),
      after: z.string().optional().describe('the version restored'),
      packageId: z.string(),
      bytes: z.int(),
    })
    .describe('FUMO to `to` from `from`'),
  z
    .object({
      seq: z.int(),
      kind: z.literal('app'),
      op: z.literal('install').optional(),
      path: dmPath,
      appId: z.string(),
      name: z.string(),
      version: z.string(),
      before: z.string().nullable().optional().describe('the version the handset has, null when it has none'),
      after: z.string().optional().describe('the version installed'),
      packageId: z.string(),
      bytes: z.int(),
    })
    .describe('a SCOMO install of appId at version (an app the handset has at that version is not a step)'),
  z
    .object({
      seq: z.int(),
      kind: z.literal('node'),
      op: z.enum(['ensure', 'exists']),
      path: dmPath,
      category: categorySchema,
      bytes: z.literal(0),
    })
    .describe('an interior node: Added when the handset lacks it (ensure), left alone when it has it (exists)'),
  z
    .object({
      seq: z.int(),
      kind: z.literal('node'),
      op: z.enum(['replace', 'add', 'unchanged', 'keep', 'write']),
      path: dmPath,
      category: categorySchema,
      format: z.string(),
      type: z.string().optional(),
      size: z.int(),
      hash: hash.describe('SHA-256 of the value written (the same as `after`)'),
      before: hash.nullable().optional().describe("SHA-256 of the handset's value as last known; null: it has none"),
      after: hash.optional().describe("SHA-256 of the backup's value"),
      was: valueSide.optional(),
      will: valueSide.optional(),
      newer: z
        .object({ at: z.int().describe('the date of the first backup that saw the handset’s value (ms)') })
        .optional()
        .describe('the handset changed this value after the backup was taken'),
      group: z.string().optional(),
      bytes: z.int().describe('bytes sent: 0 for unchanged and kept values'),
    })
    .describe(
      "a value: replace (differs), add (missing), unchanged (equal: not sent), keep (the handset's newer value kept: not sent); `group` ties a record's leaves into one Atomic; write is how plans made before diffing said replace",
    ),
  z
    .object({
      seq: z.int(),
      kind: z.literal('node'),
      op: z.literal('delete'),
      path: dmPath,
      category: categorySchema,
      before: hash,
      after: z.null(),
      was: valueSide,
      bytes: z.literal(0),
    })
    .describe('a value the backup did not have, Deleted (only when the plan asks to remove extras)'),
]);

export const planSummarySchema = z
  .object({
    unchanged: z.int().describe('values (and apps) already as in the backup: not sent'),
    change: z.int().describe('values replaced (and apps or firmware at another version)'),
    add: z.int().describe('values (and apps) the handset lacks'),
    remove: z.int().describe('values deleted (removeExtra)'),
    keep: z.int().describe("the handset's newer values kept"),
    notCarried: z.int(),
  })
  .describe('what the restore will do, in numbers');

export const restorePlanSchema = z.object({
  v: z.union([z.literal(1), z.literal(2)]),
  snapshotId: z.string(),
  snapshotTakenAt: z.int(),
  sourceDevId: z.string(),
  targetDevId: z.string(),
  migration: z.boolean().describe("the target is another handset than the snapshot's"),
  selection: z.object({
    categories: z.array(categorySchema),
    paths: z.array(z.string()).optional(),
    apps: z.array(z.string()).optional(),
  }),
  comparedWith: z
    .object({ snapshotId: z.string(), takenAt: z.int() })
    .nullable()
    .optional()
    .describe(
      "the handset's tree the plan was compared with: its newest complete backup (and later restores' writes); checked again against the safety backup when the writes begin",
    ),
  keepNewer: z.boolean().optional(),
  keep: z.array(z.string()).optional(),
  removeExtra: z.boolean().optional(),
  undoOf: z.string().optional().describe('the restore job this plan undoes'),
  summary: planSummarySchema.optional(),
  steps: z
    .array(planStepSchema)
    .describe('firmware first, then apps, then interior nodes (parents first), then values, then deletes'),
  notCarried: z
    .array(
      z.object({ path: z.string(), reason: z.string().meta({ example: 'ShieldAV 3.2.1 is not in the app catalog' }) }),
    )
    .describe('what will not be carried, and why'),
  reissue: z.array(z.string()).describe('certificates bound to the old handset: to be issued anew, not copied'),
  bytes: z.int(),
  cost: z
    .object({
      network: z.enum(['wifi', 'home', 'roaming', 'unknown']),
      megabytes: z.number(),
      perMb: z.number(),
      amount: z.number(),
      currency: z.string(),
      text: z.string().meta({ example: 'about EUR 0.04 on your home network' }),
    })
    .describe("on the target's network as last read"),
  prompt: z
    .object({
      code: z.literal('1103'),
      text: z.string(),
      choices: z.array(z.string()).meta({ example: ['Now', 'Later on Wi-Fi', 'Reject'] }),
      fallback: z.object({ code: z.literal('1101'), text: z.string() }),
      version: z.string().meta({ example: 'restore-consent/1' }),
    })
    .describe("exactly what the handset's user is asked (UI alert 1103; 1101 where single choice is refused)"),
  firmwareDowngradeAllowed: z.boolean(),
});

export const storedPlanSchema = z.object({
  planId: z.string(),
  planHash: z.string().describe('SHA-256 (hex) of the plan as stored: what was shown'),
  snapshotId: z.string(),
  createdBy: z.string().describe('token:<id>, cli, …'),
  createdAt: z.int(),
  jobId: z.string().nullable().describe('the restore job, once executed'),
  plan: restorePlanSchema,
});

export const restoreItemSchema = z.object({
  seq: z.int().describe('the plan step'),
  kind: z.enum(['firmware', 'app', 'node']),
  path: z.string(),
  op: z.enum(['add', 'replace', 'delete', 'install', 'update']),
  status: z
    .enum(['pending', 'sent', 'written', 'failed', 'verified', 'mismatch', 'skipped', 'unchanged'])
    .describe(
      'verified: read back as written; mismatch: read back different; unchanged: the safety backup found it already as in the backup, not sent',
    ),
  code: z.int().nullable().describe('the DM status or FUMO/SCOMO result code the handset answered'),
  detail: z.string().nullable(),
  updatedAt: z.int(),
});

export const consentSchema = z.object({
  id: z.string(),
  deviceId: z.string(),
  devId: z.string().optional(),
  subscriberId: z.string().nullable(),
  jobId: z.string().nullable(),
  code: z.enum(['1101', '1103']).describe('the UI alert: 1101 confirm, 1103 single choice'),
  prompt: z.string().describe('the exact text shown'),
  promptVersion: z.string().meta({ example: 'restore-consent/1' }),
  answer: z
    .enum(['accepted', 'deferred', 'rejected', 'timeout', 'unsupported', 'unanswered'])
    .describe('unsupported: the handset refused the single-choice prompt and was asked with 1101'),
  network: z.object({}).loose().nullable().describe('the network state the prompt was shown on'),
  cost: z.string().nullable().describe('the cost quoted'),
  reason: z.string().nullable().optional().describe('why the restore was started: a reason or a ticket reference'),
  at: z.int().describe('ms since the epoch'),
});

const itemCountsSchema = z
  .object(
    Object.fromEntries(
      ['total', 'pending', 'sent', 'written', 'verified', 'failed', 'mismatch', 'skipped', 'unchanged'].map((k) => [
        k,
        z.int(),
      ]),
    ),
  )
  .describe('items by status');

/** A job; for a restore job also its plan, every item's outcome and the consent entries. */
export const jobDetailSchema = jobSchema.extend({
  planId: z.string().optional(),
  planHash: z.string().nullable().optional(),
  reason: z.string().nullable().optional().describe('why the restore was started'),
  counts: itemCountsSchema.optional(),
  items: z.array(restoreItemSchema).optional().describe('in plan order'),
  consents: z.array(consentSchema).optional().describe('oldest first'),
});

export const firmwarePackageSchema = z.object({
  id: z.string().describe('handsets download it from /packages/{id}'),
  manufacturer: z.string(),
  model: z.string(),
  version: z.string(),
  name: z.string().nullable(),
  size: z.int(),
  sha256: z.string(),
  createdAt: z.int(),
});

export const appPackageSchema = z.object({
  id: z.string().describe('handsets download it from /packages/{id}'),
  appId: z.string().meta({ example: 'com.shield.av' }),
  name: z.string(),
  version: z.string(),
  models: z
    .array(z.string().meta({ example: 'Nimbus/N1' }))
    .nullable()
    .describe('null: installs on any model'),
  systemOf: z.string().nullable().optional().describe('the maker whose preinstalled system app this is'),
  size: z.int(),
  sha256: z.string(),
  createdAt: z.int(),
});
