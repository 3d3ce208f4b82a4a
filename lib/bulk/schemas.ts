/**
 * What a bulk order says (the API's body, the console's form, the CLI's flags) and what its
 * dry run and progress answer. Pure (zod only).
 */
import { z } from 'zod';
import { deviceFilterSchema } from '../devices/filter';

export const BULK_ACTIONS = ['backup', 'ds-backup', 'assign-group', 'assign-policy'] as const;
export type BulkActionName = (typeof BULK_ACTIONS)[number];

/** The actions in words, as the console and the CLI name them. */
export const BULK_ACTION_WORDS: Record<BulkActionName, string> = {
  backup: 'Back up now',
  'ds-backup': 'Back up contacts and calendar now',
  'assign-group': 'Add to a group',
  'assign-policy': 'Assign a policy',
};

/** A selection is what fits on a few pages of the list; anything larger is ordered as a filter. */
export const MAX_SELECTION = 5000;

export const bulkParamsSchema = z.strictObject({
  /** assign-policy: the policy's id. */
  policyId: z.string().trim().min(1).max(64).optional(),
  /** assign-group: the static group's name. */
  group: z.string().trim().min(1).max(200).optional(),
});

/** On which handsets: a filter of the device list (`{}` is the whole fleet) or handsets named by id or DevId. */
const targetShape = {
  filter: deviceFilterSchema.optional(),
  deviceIds: z.array(z.string().trim().min(1).max(128)).min(1).max(MAX_SELECTION).optional(),
};

function targetAndParams(
  o: { filter?: unknown; deviceIds?: unknown; action: BulkActionName; params?: z.output<typeof bulkParamsSchema> },
  ctx: z.RefinementCtx,
) {
  if ((o.filter === undefined) === (o.deviceIds === undefined))
    ctx.addIssue({ code: 'custom', path: ['filter'], message: 'Give either a filter or a list of handsets.' });
  if (o.action === 'assign-policy' && !o.params?.policyId)
    ctx.addIssue({ code: 'custom', path: ['params', 'policyId'], message: 'Choose a policy.' });
  if (o.action === 'assign-group' && !o.params?.group)
    ctx.addIssue({ code: 'custom', path: ['params', 'group'], message: 'Choose a group.' });
}

export const bulkOrderSchema = z
  .strictObject({
    action: z.enum(BULK_ACTIONS),
    ...targetShape,
    params: bulkParamsSchema.optional(),
    /** Only count: nothing is ordered. */
    dryRun: z.boolean().optional(),
  })
  .superRefine(targetAndParams);
export type BulkOrder = z.output<typeof bulkOrderSchema>;

/** What is kept on the operation: the order, and the time its relative filter is read at. */
export const storedBulkRequestSchema = z.object({
  filter: deviceFilterSchema.optional(),
  deviceIds: z.array(z.string()).optional(),
  params: bulkParamsSchema.default({}),
  /** ms: "no backup for 7 days" means 7 days before the order, for every page of the walk. */
  at: z.number(),
});
export type StoredBulkRequest = z.output<typeof storedBulkRequestSchema>;

export const bulkPreviewSchema = z.object({
  action: z.enum(BULK_ACTIONS),
  /** Handsets the order covers now. */
  total: z.number().int(),
  /** Of those, the ones it would leave as they are (a backup already queued or running, the policy already theirs). */
  skipped: z.number().int(),
  /** total − skipped. */
  acting: z.number().int(),
  /** The dry run in one sentence. */
  summary: z.string(),
});
export type BulkPreview = z.output<typeof bulkPreviewSchema>;

export const bulkProgressSchema = z.object({
  id: z.string(),
  action: z.enum(BULK_ACTIONS),
  status: z.enum(['queued', 'running', 'complete', 'failed', 'cancelled']),
  actor: z.string(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  /** The dry run's count when it was ordered. */
  total: z.number().int(),
  /** Handsets worked through so far: acted on or skipped. */
  handled: z.number().int(),
  /** Acted on: a job queued or the assignment made. */
  done: z.number().int(),
  skipped: z.number().int(),
  /** Why handsets were skipped, or why the operation failed. */
  note: z.string().nullable(),
  /** Handsets counted when ordered that no longer matched when the walk reached them. */
  noLongerMatched: z.number().int(),
  /** The queued jobs' outcomes (backups); zeros for assignments. */
  jobs: z.object({
    succeeded: z.number().int(),
    failed: z.number().int(),
    cancelled: z.number().int(),
    running: z.number().int(),
    /** Queued: waiting for the handset (or for their Package #0). */
    waiting: z.number().int(),
  }),
  /** Whether nothing more will change: the walk is over and every job ended. */
  finished: z.boolean(),
  /** 0–100: handsets whose outcome is known. */
  percent: z.number().int(),
  /** One line for people. */
  summary: z.string(),
  /** Why jobs wait, when the wake budget holds them ("1,200 waiting for the wake budget (600 per minute) …"). */
  waiting: z.string().nullable(),
  wakeBudgetPerMinute: z.number().int(),
});
export type BulkProgress = z.output<typeof bulkProgressSchema>;

export const bulkListSchema = z.object({ operations: z.array(bulkProgressSchema) });
