'use server';
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { jobFor } from '@/lib/server/access';
import { AppError } from '@/lib/core/errors';
import { retryFailed, RestoreError } from '@/lib/restore/engine';

/** "Retry failed items": only the failed and mismatched items go again, after a new consent (retryFailed audits it). */
export const retryFailedAction = authedAction(
  {
    roles: ['agent', 'admin'],
    schema: z.object({ jobId: z.string().trim().min(1).max(128) }),
    audit: 'restore.retry-failed',
  },
  async ({ jobId }, ctx) => {
    const { job } = await jobFor(ctx.db, ctx.viewer, jobId);
    try {
      return { jobId: (await retryFailed(ctx, job.id, ctx.viewer.email)).id };
    } catch (err) {
      if (err instanceof RestoreError)
        throw AppError.invalid(
          err.code === 'invalid' ? `Cannot retry: ${err.message}.` : 'That restore no longer exists.',
        );
      throw err;
    }
  },
);
