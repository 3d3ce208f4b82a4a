'use server';
/**
 * The agents' restore wizard: a snapshot's choices, the dry run (a stored plan) and its
 * confirmation. Every id is checked against the viewer in lib/restore/wizard.ts.
 */
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { snapshotFor } from '@/lib/server/access';
import {
  confirmRestore,
  confirmSchema,
  previewRestore,
  previewUndo,
  restoreChoices,
  restoreSelectionSchema,
} from '@/lib/restore/wizard';

const STAFF = ['agent', 'admin'] as const;

export const restoreChoicesAction = authedAction(
  { roles: STAFF, schema: z.object({ snapshotId: z.string().trim().min(1).max(128) }), audit: false },
  async ({ snapshotId }, ctx) => {
    await snapshotFor(ctx.db, ctx.viewer, snapshotId);
    return restoreChoices(ctx, snapshotId);
  },
);

export const previewRestoreAction = authedAction(
  { roles: STAFF, schema: restoreSelectionSchema, audit: 'restore.planned' },
  (sel, ctx) => previewRestore(ctx, sel, ctx.viewer.email), // audited there ('restore.planned')
);

/** executePlan audits the start itself ('restore.started', under the viewer's email). */
export const confirmRestoreAction = authedAction(
  { roles: STAFF, schema: confirmSchema, audit: 'restore.started' },
  ({ planId, reason }, ctx) => confirmRestore(ctx, planId, ctx.viewer.email, reason),
);

/** "Put it back as it was before this restore": the preview of a restore from its safety backup. */
export const undoPreviewAction = authedAction(
  { roles: STAFF, schema: z.object({ jobId: z.string().trim().min(1).max(128) }), audit: 'restore.undo-planned' },
  ({ jobId }, ctx) => previewUndo(ctx, jobId, ctx.viewer.email),
);
