'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requestJob } from '@/lib/jobs/requests';
import { authedAction } from '@/lib/server/action';
import { deviceFor } from '@/lib/server/access';

/**
 * "Back up now" on the device page: an on-demand backup through the same call as
 * POST /api/v1/jobs, so the handset is woken the same way. Creating the job is audited by
 * the backup domain under the agent's email; joining one already pending is audited here.
 */
export const backUpNow = authedAction(
  { roles: ['agent', 'admin'], schema: z.object({ deviceId: z.string().trim().min(1).max(64) }), audit: 'backup.requested' },
  async (input, ctx) => {
    const device = await deviceFor(ctx.db, ctx.viewer, input.deviceId);
    const { job, created } = await requestJob(ctx.db, device, { kind: 'backup' }, ctx.viewer.email);
    if (!created) await ctx.audit('backup.joined', { deviceId: device.id, details: { jobId: job.id } });
    revalidatePath(`/devices/${device.id}`);
    return { jobId: job.id, created };
  },
);
