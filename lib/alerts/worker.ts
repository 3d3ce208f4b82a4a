/**
 * The alerting passes every server process starts (scripts/start.ts): webhook deliveries
 * every five seconds and the alert rules every ten minutes. A lease in the database makes
 * each pass run in one process at a time, as the backup scheduler's does.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { Cron } from 'croner';
import { acquireLease, releaseLease } from '@/db/queries/leases';
import type { AppContext } from '../core/context';
import { log } from '../core/log';
import { evaluateAlerts } from './evaluate';
import { deliverDue } from './webhooks';

const HOLDER = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
// Longer than the period, so the holder renews before it lapses; a send may take its timeout.
const DELIVERY_LEASE_MS = 60_000;
const RULES_LEASE_MS = 20 * 60_000;

export function startAlerting(ctx: AppContext, holder = HOLDER): () => Promise<void> {
  const deliveries = new Cron('*/5 * * * * *', { protect: true }, async () => {
    try {
      if (!(await acquireLease(ctx.db, 'webhooks', holder, DELIVERY_LEASE_MS))) return;
      await deliverDue(ctx.db);
    } catch (err) {
      log.error({ err }, 'webhook delivery pass failed');
    }
  });
  const rules = new Cron('*/10 * * * *', { protect: true }, async () => {
    try {
      if (!(await acquireLease(ctx.db, 'alerts', holder, RULES_LEASE_MS))) return;
      await evaluateAlerts(ctx.db);
    } catch (err) {
      log.error({ err }, 'alert rules pass failed');
    }
  });
  return async () => {
    deliveries.stop();
    rules.stop();
    await releaseLease(ctx.db, 'webhooks', holder);
    await releaseLease(ctx.db, 'alerts', holder);
  };
}
