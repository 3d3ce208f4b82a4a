/**
 * Sends the Package #0 that queued jobs asked for. Whoever creates a job (the CLI, the API,
 * the scheduler, another server process) only marks it; a server process sends the push,
 * so a job created anywhere wakes a handset this process can reach. A wake whose session
 * does not come (no authenticated message from the handset after it) is sent again with a
 * growing wait until the job's deadline (WAKE_RETRY_AFTER, WAKE_DEADLINE: lib/jobs/wakes.ts);
 * each attempt is kept on the job. Once a session came, or after the deadline, the job runs
 * when the handset next connects.
 */
import type { AppContext } from '../core/context';
import { getDevice } from '@/db/queries/devices';
import { claimWakes, updateJob, type JobRow } from '@/db/queries/jobs';
import { wakeDevice } from '../gateway/wake';
import { log } from '../core/log';
import { afterWake, needsWake, type WakeAttempt } from './wakes';

export async function dispatchWakes(ctx: AppContext, now = Date.now(), limit = 200): Promise<number> {
  // Claimed before sending: a job another server process claimed is not in this batch.
  const byDevice = new Map<string, JobRow[]>();
  for (const job of await claimWakes(ctx.db, now, limit))
    byDevice.set(job.deviceId, [...(byDevice.get(job.deviceId) ?? []), job]);
  const opts = { firstRetryMs: ctx.env.WAKE_RETRY_AFTER * 1000, deadlineMs: ctx.env.WAKE_DEADLINE * 1000 };
  let sent = 0;
  for (const [deviceId, claimed] of byDevice) {
    const device = await getDevice(ctx.db, deviceId);
    if (!device?.pushAddress) continue;
    // A job whose last Package #0 was followed by a session needs no other: it ran, or it
    // waits in the handset's sessions for what it waits for (Wi-Fi, a dependency).
    const jobs = claimed.filter((j) => needsWake(j, device.lastSeenAt));
    if (jobs.length === 0) continue;
    // One push wakes the handset for all its jobs.
    let attempt: WakeAttempt;
    try {
      await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
      attempt = { at: now, delivered: true };
      sent++;
    } catch (err) {
      log.info({ devId: device.devId, err: (err as Error).message }, 'Package #0 not delivered');
      attempt = { at: now, delivered: false, error: (err as Error).message.slice(0, 300) };
    }
    for (const job of jobs) await updateJob(ctx.db, job.id, afterWake(job, attempt, opts));
  }
  return sent;
}

/** Runs dispatchWakes every `everyMs` until stopped; passes never overlap. */
export function startWakeDispatcher(ctx: AppContext, everyMs = 1000): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    try {
      await dispatchWakes(ctx);
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
