/**
 * A bulk operation as people and the API follow it: how many handsets it has worked through,
 * its jobs' outcomes counted by its id, why they wait (the wake budget), in one line of words.
 */
import type { Db } from '@/db/client';
import { bulkJobCounts, getBulk, recentBulks, type BulkRow } from '@/db/queries/bulk';
import { listGroups } from '@/db/queries/groups';
import { listPolicies } from '@/db/queries/policies';
import type { Env } from '../core/env';
import { budgetWait, wakeBudgetView } from '../jobs/wake-budget';
import { BulkNotFound, SKIP_REASON } from './bulk';
import { BULK_ACTION_WORDS, type BulkProgress } from './schemas';

type Ctx = { db: Db; env: Pick<Env, 'WAKE_BUDGET_PER_MINUTE'> };

const n = (x: number) => x.toLocaleString('en-GB');

export async function bulkProgress(ctx: Ctx, op: BulkRow, now = Date.now()): Promise<BulkProgress> {
  const jobs = await bulkJobCounts(ctx.db, op.id);
  const budget = await wakeBudgetView(ctx.db, ctx.env, now);
  const handled = op.done + op.skipped;
  const walkOver = op.status === 'complete' || op.status === 'failed' || op.status === 'cancelled';
  // Counted when ordered but gone from the filter by the time the walk reached them (backed up meanwhile, removed).
  const noLongerMatched = op.status === 'complete' ? Math.max(0, op.total - handled) : 0;
  const covered = walkOver ? handled : Math.max(op.total, handled);
  const queuesJobs = op.action === 'backup' || op.action === 'ds-backup';
  const ended = queuesJobs ? jobs.succeeded + jobs.failed + jobs.cancelled + op.skipped : handled;
  const finished = walkOver && jobs.queued === 0 && jobs.running === 0;
  const percent = finished ? 100 : covered === 0 ? 0 : Math.min(99, Math.floor((ended * 100) / covered));
  const waiting = op.status === 'cancelled' ? null : budgetWait(jobs.awaitingWake, budget);

  const parts: string[] = [];
  if (op.status === 'queued') parts.push(`Waiting to start on ${n(op.total)} handsets`);
  else if (!walkOver) parts.push(`${n(handled)} of ${n(op.total)} handsets worked through`);
  else parts.push(`${n(handled)} handsets worked through`);
  if (queuesJobs)
    parts.push(
      `${n(jobs.succeeded)} succeeded, ${n(jobs.failed)} failed, ${n(jobs.queued + jobs.running)} still waiting` +
        (jobs.cancelled ? `, ${n(jobs.cancelled)} cancelled` : ''),
    );
  else if (handled) parts.push(`${n(op.done)} changed`);
  if (op.skipped) parts.push(`${n(op.skipped)} skipped: ${SKIP_REASON[op.action]}`);
  if (noLongerMatched) parts.push(`${n(noLongerMatched)} no longer matched`);
  const status =
    op.status === 'cancelled' ? 'Cancelled. ' : op.status === 'failed' ? 'Stopped. ' : finished ? 'Done. ' : '';

  return {
    id: op.id,
    action: op.action,
    status: op.status,
    actor: op.actor,
    createdAt: op.createdAt,
    finishedAt: op.finishedAt,
    total: op.total,
    handled,
    done: op.done,
    skipped: op.skipped,
    note: op.status === 'failed' ? op.error : op.skipped ? `Skipped where ${SKIP_REASON[op.action]}.` : null,
    noLongerMatched,
    jobs: {
      succeeded: jobs.succeeded,
      failed: jobs.failed,
      cancelled: jobs.cancelled,
      running: jobs.running,
      waiting: jobs.queued,
    },
    finished,
    percent,
    summary: `${status}${BULK_ACTION_WORDS[op.action]}: ${parts.join('; ')}.`,
    waiting,
    wakeBudgetPerMinute: budget.perMinute,
  };
}

/** One operation's progress; BulkNotFound when there is none. */
export async function bulkProgressById(ctx: Ctx, id: string, now = Date.now()): Promise<BulkProgress> {
  const op = await getBulk(ctx.db, id);
  if (!op) throw new BulkNotFound(id);
  return bulkProgress(ctx, op, now);
}

/** The recent operations, newest first, each with its progress. */
export async function recentBulkProgress(ctx: Ctx, limit = 30, now = Date.now()): Promise<BulkProgress[]> {
  const out: BulkProgress[] = [];
  for (const op of await recentBulks(ctx.db, limit)) out.push(await bulkProgress(ctx, op, now));
  return out;
}

/** What the bulk panel offers to assign: every policy, and the static groups (a rule group's members are its rule's). */
export async function bulkPanelOptions(db: Db) {
  return {
    policies: (await listPolicies(db)).map((p) => ({ value: p.id, label: p.name })),
    groups: (await listGroups(db)).filter((g) => g.kind === 'static').map((g) => ({ value: g.name, label: g.name })),
  };
}
