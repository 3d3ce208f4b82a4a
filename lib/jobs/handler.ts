/**
 * What a kind of job does in a DM session, as the session's dispatcher (lib/gateway/dm-work.ts)
 * asks it: whether it may start now, how it starts, what it makes of the session's events for
 * it, what happens when the session ends under it, and how it stops when storage is full.
 * Each area declares its kinds' handlers beside its engine; lib/jobs/registry.ts gathers them.
 */
import type { AppContext } from '../core/context';
import type { DeviceRow } from '@/db/queries/devices';
import { updateJob, type JobRow } from '@/db/queries/jobs';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import type { JobStep } from '../backup/engine';
import type { JobKind } from './kinds';

/** The DM session a job runs in, and where handsets reach this server (package downloads). */
export interface JobSession {
  id: string;
  baseUrl: string;
  /** Answers to the work the job's `early` sent with the inventory, when they came with it. */
  early?: SessionEvent[];
}

export interface JobHandler<K extends JobKind> {
  /**
   * Why the job waits for a later session although the handset is here (a scheduled backup
   * on a network its policy refuses), or undefined when it may start.
   */
  deferral?(ctx: AppContext, device: DeviceRow, job: JobRow<K>): Promise<string | undefined>;
  /**
   * Read-only work sent with the session's inventory, before the job may start (its answers,
   * if it starts, come in `session.early`): one round trip less for a job whose first
   * question does not depend on the inventory. Its local ids must be ones `start` never uses.
   */
  early?(ctx: AppContext, device: DeviceRow, job: JobRow<K>, sessionId: string): Promise<WorkRequest[]>;
  /** Starts the job in a ready session: the work it sends first. */
  start(ctx: AppContext, device: DeviceRow, job: JobRow<K>, session: JobSession): Promise<JobStep>;
  /**
   * A full store met while starting stops the job (onStorageFull) rather than failing the
   * handset's message as a whole: set where starting writes content (a backup's snapshot).
   */
  startsWriting?: boolean;
  /** The session's events for the job's work. */
  onEvents(
    ctx: AppContext,
    device: DeviceRow,
    job: JobRow<K>,
    events: SessionEvent[],
    session: JobSession,
  ): Promise<JobStep>;
  /**
   * The session holding the job is over (`sessionEnded`) or was abandoned by the handset
   * before the job finished. Without it the job is queued again with the reason.
   */
  interrupt?(ctx: AppContext, job: JobRow<K>, reason: string, now: number, sessionEnded: boolean): Promise<void>;
  /**
   * The blob store or the database is full (`full` says which) while the job works; `err`
   * is what storage threw. Without it the job fails with that reason.
   */
  onStorageFull?(ctx: AppContext, device: DeviceRow, job: JobRow<K>, full: string, err: unknown): Promise<JobStep>;
}

/** An interrupted job without a handler of its own waits for the handset's next session. */
export async function requeueInterrupted(ctx: AppContext, job: JobRow, reason: string): Promise<void> {
  await updateJob(ctx.db, job.id, { status: 'queued', sessionRef: null, error: reason });
}

/** A job stopped by full storage, without a handler of its own: failed with the reason. */
export async function failForFullStorage(ctx: AppContext, job: JobRow, full: string): Promise<JobStep> {
  await updateJob(ctx.db, job.id, { status: 'failed', error: full, sessionRef: null });
  return { work: [], ended: { status: 'failed', error: full } };
}
