'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { AppError } from '@/lib/core/errors';
import { hasDsAccount } from '@/lib/ds/accounts';
import { requestOrJoinJob } from '@/lib/jobs/requests';
import { authedAction } from '@/lib/server/action';
import { deviceFor } from '@/lib/server/access';

/**
 * "Back up contacts now": a DS backup job through the same call as POST /api/v1/jobs (the
 * handset is ordered over DM to sync with /ds), created or joined, audited under the agent's
 * email. A handset without a DS account could not sync, so it is refused before anything is
 * queued.
 */
export const backUpContactsNow = authedAction(
  {
    roles: ['agent', 'admin'],
    schema: z.object({ deviceId: z.string().trim().min(1).max(64) }),
    audit: 'ds-backup.requested',
  },
  async (input, ctx) => {
    const device = await deviceFor(ctx.db, ctx.viewer, input.deviceId);
    if (!(await hasDsAccount(ctx.db, device.id)))
      throw AppError.invalid('This handset has no DS account yet: an administrator can set one up under DS accounts.');
    const { job, created } = await requestOrJoinJob(ctx.db, device, { kind: 'ds-backup' }, ctx.viewer.email);
    revalidatePath(`/devices/${device.id}`);
    return { jobId: job.id, created };
  },
);
