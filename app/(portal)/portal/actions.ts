'use server';
/**
 * The subscribers' own actions: back up now, restore (the same wizard as the agents'),
 * delete my backups. Subscriber accounts only, and every id is checked against the
 * viewer's handsets (lib/server/access.ts): another subscriber's id is "not found".
 */
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { deviceFor, snapshotFor } from '@/lib/server/access';
import { AppError } from '@/lib/core/errors';
import { requestOrJoinJob } from '@/lib/jobs/requests';
import { eraseBackupsAs, handsetName } from '@/lib/subscribers/erasure';
import {
  confirmRestore,
  confirmSchema,
  previewRestore,
  previewUndo,
  restoreChoices,
  restoreSelectionSchema,
} from '@/lib/restore/wizard';

const SUBSCRIBER = ['subscriber'] as const;
const id = z.string().trim().min(1).max(128);

/** The same domain call as POST /api/v1/jobs: a backup already queued or running is joined, not doubled. */
export const backUpNowAction = authedAction(
  { roles: SUBSCRIBER, schema: z.object({ deviceId: id }), audit: 'backup.requested' },
  async ({ deviceId }, ctx) => {
    const device = await deviceFor(ctx.db, ctx.viewer, deviceId);
    const { job, created } = await requestOrJoinJob(ctx.db, device, { kind: 'backup' }, ctx.viewer.email);
    return { jobId: job.id, created };
  },
);

export const portalRestoreChoicesAction = authedAction(
  { roles: SUBSCRIBER, schema: z.object({ snapshotId: id }), audit: false },
  async ({ snapshotId }, ctx) => {
    await snapshotFor(ctx.db, ctx.viewer, snapshotId);
    return restoreChoices(ctx, snapshotId);
  },
);

export const portalPreviewRestoreAction = authedAction(
  { roles: SUBSCRIBER, schema: restoreSelectionSchema, audit: 'restore.planned' },
  (sel, ctx) => previewRestore(ctx, sel, ctx.viewer.email), // audited there ('restore.planned')
);

/** Confirming asks why (a reason); it goes on the job, in the audit log and in the consent ledger. */
export const portalConfirmRestoreAction = authedAction(
  { roles: SUBSCRIBER, schema: confirmSchema, audit: 'restore.started' },
  ({ planId, reason }, ctx) => confirmRestore(ctx, planId, ctx.viewer.email, reason),
);

/** "Put it back as it was before this restore": the preview of a restore from its safety backup. */
export const portalUndoPreviewAction = authedAction(
  { roles: SUBSCRIBER, schema: z.object({ jobId: id }), audit: 'restore.undo-planned' },
  ({ jobId }, ctx) => previewUndo(ctx, jobId, ctx.viewer.email),
);

/**
 * Erasure, confirmed by typing the handset's name as the portal shows it: the snapshots
 * and local-backup records go, garbage collection removes content nothing else shares.
 */
export const eraseBackupsAction = authedAction(
  {
    roles: SUBSCRIBER,
    schema: z.object({ deviceId: id, confirm: z.string().max(256).default('') }),
    audit: 'backups.erased',
  },
  async ({ deviceId, confirm }, ctx) => {
    const device = await deviceFor(ctx.db, ctx.viewer, deviceId);
    const name = handsetName(device);
    if (confirm.trim().replace(/\s+/g, ' ').toLowerCase() !== name.toLowerCase()) {
      throw AppError.invalid('Nothing was deleted: type the handset’s name to confirm.', {
        confirm: [`Type “${name}” to confirm.`],
      });
    }
    const r = await eraseBackupsAs(ctx, device, ctx.viewer.email);
    return { snapshots: r.snapshots, held: r.held, localBackups: r.localBackups };
  },
);
