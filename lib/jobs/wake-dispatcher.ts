/**
 * Sends the Package #0 that queued jobs asked for. Whoever creates a job (the CLI, the API,
 * the scheduler, another server process) only marks it; a server process sends the push,
 * so a job created anywhere wakes a handset this process can reach. Each job is woken
 * once; a handset that cannot be reached still runs the job when it next connects.
 */
import type { AppContext } from '../core/context';
import { getDevice } from '@/db/queries/devices';
import { claimWakes, updateJob } from '@/db/queries/jobs';
import { wakeDevice } from '../gateway/wake';
import { log } from '../core/log';

export async function dispatchWakes(ctx: AppContext, now = Date.now(), limit = 200): Promise<number> {
  const woken = new Set<string>();
  let sent = 0;
  // Claimed before sending: a job another server process claimed is not in this batch.
  for (const job of await claimWakes(ctx.db, now, limit)) {
    if (woken.has(job.deviceId)) continue; // one push wakes the handset for all its jobs
    woken.add(job.deviceId);
    const device = await getDevice(ctx.db, job.deviceId);
    if (!device?.pushAddress) continue;
    try {
      await wakeDevice(ctx.push, device, { version: ctx.env.NOTIFICATION_VERSION });
      sent++;
    } catch (err) {
      log.info({ devId: device.devId, err: (err as Error).message }, 'Package #0 not delivered');
      await updateJob(ctx.db, job.id, {
        error: `Package #0 not delivered: ${(err as Error).message}; the job runs when the handset next connects`,
      });
    }
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
