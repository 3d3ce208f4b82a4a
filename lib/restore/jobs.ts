/**
 * What runs a restore job in a DM session (gathered in lib/jobs/registry.ts): the engine's
 * steps, each batch of writes filled with its values from the blob store just before it
 * goes. Interrupted, it resumes with what is not yet written; a full store queues it again.
 */
import type { JobHandler } from '../jobs/handler';
import { interruptRestore, onRestoreEvents, startRestore, withValues } from './engine';

export const restoreJob: JobHandler<'restore'> = {
  async start(ctx, device, job, session) {
    const step = await startRestore(ctx, device, job, session.id, session.baseUrl);
    return { ...step, work: await withValues(ctx, job, step.work) };
  },
  async onEvents(ctx, device, job, events, session) {
    const step = await onRestoreEvents(ctx, device, job, events, session.baseUrl);
    return { ...step, work: await withValues(ctx, job, step.work) };
  },
  interrupt: (ctx, job, reason, now) => interruptRestore(ctx, job, reason, now),
  async onStorageFull(ctx, _device, job, full) {
    await interruptRestore(
      ctx,
      job,
      `${full}: the restore stopped and resumes when the handset next connects`,
      Date.now(),
    );
    return { work: [] };
  },
};
