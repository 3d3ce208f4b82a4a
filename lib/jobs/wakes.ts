/**
 * A job's Package #0 attempts: what was sent when, whether the push gateway took it, and
 * when the next one is due. A wake whose session does not come (the SMS was lost, the
 * handset was off or out of coverage) is sent again with a growing wait, until the job's
 * deadline; after that, and once a session came, the job waits for the handset's next
 * check-in as before. Stored on the job (jobs.wake_attempts, wake_at, deadline), shown on
 * the job page and in the API's job body.
 */
import type { JobPatch, JobRow } from '@/db/queries/jobs';

export interface WakeAttempt {
  /** When it was sent (ms since the epoch). */
  at: number;
  /** Whether the push gateway took it (a handset may still not act on it). */
  delivered: boolean;
  /** Why it was not delivered. */
  error?: string;
}

/** The longest wait between two Package #0 for a job. */
export const MAX_WAKE_INTERVAL_MS = 3_600_000;
/** Attempts kept on a job (the newest): a deadline of days at the longest interval stays under this. */
export const KEPT_WAKE_ATTEMPTS = 200;

export function wakeAttemptsOf(job: Pick<JobRow, 'wakeAttempts'>): WakeAttempt[] {
  if (!job.wakeAttempts) return [];
  try {
    const parsed = JSON.parse(job.wakeAttempts) as unknown;
    return Array.isArray(parsed) ? (parsed as WakeAttempt[]) : [];
  } catch {
    return [];
  }
}

/** The wait after the `n`th Package #0 (1-based): `firstMs`, then twice as long each time, at most an hour. */
export function wakeBackoffMs(n: number, firstMs: number): number {
  return Math.min(MAX_WAKE_INTERVAL_MS, firstMs * 2 ** Math.min(Math.max(n - 1, 0), 20));
}

/**
 * Whether the job still needs a Package #0: it never had one, or no session of the handset
 * came after its last one (the handset is seen only once it proves who it is).
 */
export function needsWake(job: Pick<JobRow, 'wakeAttempts'>, lastSeenAt: number | null): boolean {
  const last = wakeAttemptsOf(job).at(-1);
  return last === undefined || lastSeenAt === null || lastSeenAt < last.at;
}

/**
 * What a Package #0 changes on a job: the attempt kept, the deadline fixed on the first one
 * (`deadlineMs` after the job was created), and the next attempt due after its backoff while
 * that is before the deadline.
 */
export function afterWake(
  job: Pick<JobRow, 'wakeAttempts' | 'deadline' | 'createdAt'>,
  attempt: WakeAttempt,
  opts: { firstRetryMs: number; deadlineMs: number },
): JobPatch {
  const attempts = [...wakeAttemptsOf(job), attempt].slice(-KEPT_WAKE_ATTEMPTS);
  const deadline = job.deadline ?? job.createdAt + opts.deadlineMs;
  const next = attempt.at + wakeBackoffMs(attempts.length, opts.firstRetryMs);
  const again = next <= deadline;
  const notDelivered = attempt.delivered
    ? {}
    : {
        error: `Package #0 not delivered: ${attempt.error ?? 'unknown error'}; ${again ? 'it is sent again' : 'the job runs when the handset next connects'}`,
      };
  return {
    wakeAttempts: JSON.stringify(attempts),
    deadline,
    ...(again ? { wakePending: true, wakeAt: next } : { wakeAt: null }),
    ...notDelivered,
  };
}

export interface WakeView {
  /** Every Package #0 sent for the job, oldest first. */
  attempts: WakeAttempt[];
  /** Until when a Package #0 whose session did not come is sent again (null: none sent yet). */
  deadline: number | null;
  /** When the next one is due, if one is. */
  next: number | null;
}

/** The wakes of a job as people and the API see them. */
export function wakeView(
  job: Pick<JobRow, 'wakeAttempts' | 'deadline' | 'wakeAt' | 'wakePending' | 'status'>,
): WakeView {
  const pending = job.wakePending && job.status === 'queued';
  return { attempts: wakeAttemptsOf(job), deadline: job.deadline, next: pending ? (job.wakeAt ?? null) : null };
}
