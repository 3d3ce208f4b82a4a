/**
 * Sends the Package #0 that queued jobs asked for. Whoever creates a job (the CLI, the API,
 * the scheduler, another server process) only marks it; a server process sends the push,
 * so a job created anywhere wakes a handset this process can reach. A wake whose session
 * does not come (no authenticated message from the handset after it) is sent again with a
 * growing wait until the job's deadline (WAKE_RETRY_AFTER, WAKE_DEADLINE: lib/jobs/wakes.ts);
 * each attempt is kept on the job. Once a session came, or after the deadline, the job runs
 * when the handset next connects.
 *
 * Every Package #0 comes out of the wake budget (wake-budget.ts): before claiming, a pass
 * takes its share of the current minute from the ledger every process shares, claims no more
 * jobs than that, and gives back what it did not send. Jobs beyond the budget stay pending,
 * oldest first, for the next minute.
 */
import type { AppContext } from '../core/context';
import { getDevice } from '@/db/queries/devices';
import { claimWakes, updateJob, type JobRow } from '@/db/queries/jobs';
import { wakeDevice } from '../gateway/wake';
import { log } from '../core/log';
import { minuteOf, pruneWakeMinutes, returnWakeBudget, takeWakeBudget } from '@/db/queries/wake-minutes';
import { afterWake, needsWake, type WakeAttempt } from './wakes';
import { wakeBudgetPerMinute } from './wake-budget';

export async function dispatchWakes(ctx: AppContext, now = Date.now(), limit = 200): Promise<number> {
  const budget = await wakeBudgetPerMinute(ctx.db, ctx.env);
  const minute = minuteOf(now);
  // Each job claimed may need a push: take that many from this minute's budget first.
  const allowance = budget === 0 ? limit : await takeWakeBudget(ctx.db, minute, limit, budget);
  if (allowance === 0) return 0;
  const pushes = { tried: 0, delivered: 0 };
  try {
    await sendClaimed(ctx, now, allowance, pushes);
  } finally {
    // Jobs sharing a handset share its push, and some need none: what was not sent goes back.
    if (budget !== 0) await returnWakeBudget(ctx.db, minute, allowance - pushes.tried);
  }
  return pushes.delivered;
}

/** Claims up to `limit` due wakes and sends them, counting the pushes tried and delivered. */
async function sendClaimed(
  ctx: AppContext,
  now: number,
  limit: number,
  pushes: { tried: number; delivered: number },
): Promise<void> {
  // Claimed before sending: a job another server process claimed is not in this batch.
  const byDevice = new Map<string, JobRow[]>();
  for (const job of await claimWakes(ctx.db, now, limit))
    byDevice.set(job.deviceId, [...(byDevice.get(job.deviceId) ?? []), job]);
  const opts = { firstRetryMs: ctx.env.WAKE_RETRY_AFTER * 1000, deadlineMs: ctx.env.WAKE_DEADLINE * 1000 };
  for (const [deviceId, claimed] of byDevice) {
    const device = await getDevice(ctx.db, deviceId);
    if (!device?.pushAddress) continue;
    // A job whose last Package #0 was followed by a session needs no other: it ran, or it
    // waits in the handset's sessions for what it waits for (Wi-Fi, a dependency).
    const jobs = claimed.filter((j) => needsWake(j, device.lastSeenAt));
    if (jobs.length === 0) continue;
    // One push wakes the handset for all its jobs.
    let attempt: WakeAttempt;
    pushes.tried++;
    try {
      await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
      attempt = { at: now, delivered: true };
      pushes.delivered++;
    } catch (err) {
      log.info({ devId: device.devId, err: (err as Error).message }, 'Package #0 not delivered');
      attempt = { at: now, delivered: false, error: (err as Error).message.slice(0, 300) };
    }
    for (const job of jobs) await updateJob(ctx.db, job.id, afterWake(job, attempt, opts));
  }
}

/** Runs dispatchWakes every `everyMs` until stopped; passes never overlap. */
export function startWakeDispatcher(ctx: AppContext, everyMs = 1000): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pruned = 0;
  const tick = async () => {
    try {
      await dispatchWakes(ctx);
      // The budget's ledger keeps a day of minutes; looked at once an hour.
      const minute = minuteOf(Date.now());
      if (minute - pruned >= 60) {
        await pruneWakeMinutes(ctx.db, minute - 1440);
        pruned = minute;
      }
    } catch (err) {
      log.error({ err }, 'wake dispatcher pass failed');
    }
    if (!stopped) timer = setTimeout(() => void tick(), everyMs);
  };
  timer = setTimeout(() => void tick(), everyMs);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
