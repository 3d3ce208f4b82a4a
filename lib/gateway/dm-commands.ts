/**
 * Jobs of kind 'dm-commands': engine work requests sent as they are (tests and operators'
 * scripts). What the handset answers is kept on the job, values as size and SHA-256; the
 * job succeeded when every command was answered with a 2xx.
 */
import { createHash } from 'node:crypto';
import type { AppContext } from '../core/context';
import { getJob, updateJob, type JobRow } from '@/db/queries/jobs';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import { base64Decode } from '../omadm/util/bytes';
import { requeueInterrupted, type JobHandler } from '../jobs/handler';

type Ev = SessionEvent & { type: string; [k: string]: unknown };

export const dmCommandsJob: JobHandler<'dm-commands'> = {
  async start(ctx, _device, job, session) {
    await updateJob(ctx.db, job.id, {
      status: 'running',
      attempts: job.attempts + 1,
      sessionRef: session.id,
      wakePending: false,
    });
    return { work: job.payload.work.map((w) => ({ ...w, id: `${job.id}:${w.id}` }) as WorkRequest) };
  },
  async onEvents(ctx, _device, job, events) {
    await recordCommandEvents(ctx, job, events);
    return { work: [] };
  },
  async interrupt(ctx, job, reason, _now, sessionEnded) {
    if (sessionEnded) await finishCommands(ctx, job);
    else await requeueInterrupted(ctx, job, reason);
  },
};

/** Results and statuses of 'dm-commands' jobs are kept on the job; values as size and SHA-256. */
async function recordCommandEvents(
  ctx: AppContext,
  job: JobRow<'dm-commands'>,
  events: readonly SessionEvent[],
): Promise<void> {
  const list = events.map((raw) => {
    const e = raw as Ev;
    const value = e.value === undefined ? undefined : base64Decode(String(e.value));
    return {
      ...e,
      value: undefined,
      ...(value ? { size: value.length, sha256: createHash('sha256').update(value).digest('hex') } : {}),
    };
  });
  const prev = job.result ? (JSON.parse(job.result) as { events: unknown[] }).events : [];
  await updateJob(ctx.db, job.id, { result: JSON.stringify({ events: prev.concat(list) }) });
}

/** A 'dm-commands' job succeeded when every command it sent was answered with a 2xx. */
async function finishCommands(ctx: AppContext, jobIn: JobRow<'dm-commands'>): Promise<void> {
  const job = (await getJob(ctx.db, jobIn.id)) ?? jobIn;
  const events = job.result
    ? (JSON.parse(job.result) as { events: Array<{ type: string; status?: number }> }).events
    : [];
  const answered = events.filter((e) => e.type === 'status' || e.type === 'result' || e.type === 'ui');
  const bad = answered.filter((e) => e.status === undefined || e.status < 200 || e.status > 299);
  await updateJob(
    ctx.db,
    job.id,
    bad.length || answered.length === 0
      ? {
          status: 'failed',
          error: answered.length
            ? `${bad.length} of ${answered.length} commands failed`
            : 'the session ended before any command was answered',
        }
      : { status: 'succeeded' },
  );
}
