/**
 * Periodic backups: once a minute (croner), every device whose policy's interval has passed
 * since its last good backup, plus its own fixed jitter, gets a scheduled backup job and a
 * Package #0. The jitter spreads a fleet's wake-ups over the policy's window, and a cap per
 * pass keeps a backlog (after an outage, say) from waking everyone at once.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Cron } from 'croner';
import { acquireLease, releaseLease } from '@/db/queries/leases';
import type { AppContext } from '../core/context';
import { getDevice } from '@/db/queries/devices';
import { scheduleCandidates } from '@/db/queries/schedule';
import { createBackupJob } from './jobs';
import { nextScheduledBackup, policyResolver } from './policy';
import { log } from '../core/log';
import { collectGarbage } from './gc';

export async function scheduleDueBackups(ctx: AppContext, now = Date.now(), maxJobs = 1000): Promise<number> {
  const resolve = await policyResolver(ctx.db);
  let created = 0;
  let after = '';
  for (;;) {
    const page = await scheduleCandidates(ctx.db, after, 1000);
    if (!page.length) break;
    after = page[page.length - 1]!.id;
    for (const row of page) {
      if (row.pendingBackup) continue;
      const due = nextScheduledBackup(resolve(row).policy, row);
      if (due === undefined || due > now) continue;
      const device = await getDevice(ctx.db, row.id);
      if (!device) continue;
      if ((await createBackupJob(ctx.db, device, { trigger: 'scheduled', actor: 'scheduler', wake: true })).created)
        created++;
      if (created >= maxJobs) return created;
    }
    // Yield between pages so the DM endpoint keeps answering during a large pass.
    await new Promise((r) => setImmediate(r));
  }
  return created;
}

/** This process, as a lease holder. */
const HOLDER = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
// Longer than the period, so the holder renews before it lapses; a holder that dies hands
// over within one lease.
const SCHEDULER_LEASE_MS = 90_000;
const GC_LEASE_MS = 2 * 3_600_000;

/**
 * The scheduler (every minute) and the store-wide garbage collection (hourly): content no
 * snapshot uses any more, after retention pruned the snapshots that used it. Every server
 * process starts them; a lease in the database makes each pass run in one process only.
 */
export function startScheduler(ctx: AppContext, pattern = '* * * * *', holder = HOLDER): () => Promise<void> {
  const schedule = new Cron(pattern, { protect: true }, async () => {
    try {
      if (!(await acquireLease(ctx.db, 'scheduler', holder, SCHEDULER_LEASE_MS))) return;
      const n = await scheduleDueBackups(ctx);
      if (n) log.info({ jobs: n }, 'scheduled backups queued');
    } catch (err) {
      log.error({ err }, 'backup scheduler pass failed');
    }
  });
  const gc = new Cron('17 * * * *', { protect: true }, async () => {
    try {
      if (!(await acquireLease(ctx.db, 'gc', holder, GC_LEASE_MS))) return;
      const r = await collectGarbage(ctx.db, ctx.blobs, { dryRun: false });
      if (r.removed) log.info({ removed: r.removed, bytes: r.bytes }, 'unused backup content collected');
    } catch (err) {
      log.error({ err }, 'garbage collection failed');
    }
  });
  return async () => {
    schedule.stop();
    gc.stop();
    await releaseLease(ctx.db, 'scheduler', holder);
    await releaseLease(ctx.db, 'gc', holder);
  };
}
