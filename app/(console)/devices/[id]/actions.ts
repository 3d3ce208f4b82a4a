'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requestOrJoinJob } from '@/lib/jobs/requests';
import { authedAction } from '@/lib/server/action';
import { deviceFor } from '@/lib/server/access';

/**
 * "Back up now" on the device page: an on-demand backup through the same call as
 * POST /api/v1/jobs, so the handset is woken the same way; creating or joining it is audited
 * under the agent's email.
 */
export const backUpNow = authedAction(
  {
    roles: ['agent', 'admin'],
    schema: z.object({ deviceId: z.string().trim().min(1).max(64) }),
    audit: 'backup.requested',
  },
  async (input, ctx) => {
    const device = await deviceFor(ctx.db, ctx.viewer, input.deviceId);
    const { job, created } = await requestOrJoinJob(ctx.db, device, { kind: 'backup' }, ctx.viewer.email);
    revalidatePath(`/devices/${device.id}`);
    return { jobId: job.id, created };
  },
);
