/**
 * Periodic backups: once a minute (croner), every device whose policy's interval has passed
 * since its last good backup, plus its own fixed jitter, gets a scheduled backup job and a
 * Package #0. The jitter spreads a fleet's wake-ups over the policy's window, and a cap per
 * pass keeps a backlog (after an outage, say) from waking everyone at once.
 */
import { Cron } from 'croner';
import type { AppContext } from '../app-context';
import { getDevice } from '@/db/queries/devices';
import { scheduleCandidates } from '@/db/queries/schedule';
import { createBackupJob } from './jobs';
import { nextScheduledBackup, policyResolver } from './policy';
import { log } from '../log';
import { collectGarbage } from './gc';

export async function scheduleDueBackups(ctx: AppContext, now = Date.now(), maxJobs = 1000): Promise<number> {
  const resolve = policyResolver(ctx.db);
  let created = 0;
  let after = '';
  for (;;) {
    const page = scheduleCandidates(ctx.db, after, 1000);
    if (!page.length) break;
    after = page[page.length - 1]!.id;
    for (const row of page) {
      if (row.pendingBackup) continue;
      const due = nextScheduledBackup(resolve(row).policy, row);
      if (due === undefined || due > now) continue;
      const device = getDevice(ctx.db, row.id);
      if (!device) continue;
      if (createBackupJob(ctx.db, device, { trigger: 'scheduled', actor: 'scheduler', wake: true }).created) created++;
      if (created >= maxJobs) return created;
    }
    // Yield between pages so the DM endpoint keeps answering during a large pass.
    await new Promise((r) => setImmediate(r));
  }
  return created;
}

/**
 * The scheduler (every minute) and the store-wide garbage collection (hourly): content no
 * snapshot uses any more, after retention pruned the snapshots that used it.
 */
export function startScheduler(ctx: AppContext, pattern = '* * * * *'): () => void {
  const schedule = new Cron(pattern, { protect: true }, async () => {
    try {
      const n = await scheduleDueBackups(ctx);
      if (n) log.info({ jobs: n }, 'scheduled backups queued');
    } catch (err) {
      log.error({ err }, 'backup scheduler pass failed');
    }
  });
  const gc = new Cron('17 * * * *', { protect: true }, async () => {
    try {
      const r = await collectGarbage(ctx.db, ctx.blobs, { dryRun: false });
      if (r.removed) log.info({ removed: r.removed, bytes: r.bytes }, 'unused backup content collected');
    } catch (err) {
      log.error({ err }, 'garbage collection failed');
    }
  });
  return () => { schedule.stop(); gc.stop(); };
}
