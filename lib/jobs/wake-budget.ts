/**
 * The wake budget: how many Package #0 the deployment sends per minute, all server processes
 * together, so ordering 100,000 backups does not send 100,000 SMS at once (the operator's
 * push gateway, and the DM endpoint the handsets then all call, would not take it). An admin
 * sets it in the console or through the API; until then WAKE_BUDGET_PER_MINUTE holds. 0 is
 * no limit. The dispatcher (wake-dispatcher.ts) takes its share of each minute from
 * `wake_minutes`; what is left waits, still pending, for the next minute.
 */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { getSetting, putSetting } from '@/db/queries/settings';
import { minuteOf, wakesSentIn } from '@/db/queries/wake-minutes';
import type { Env } from '../core/env';

export const WAKE_BUDGET_KEY = 'wakeBudgetPerMinute';

export const wakeBudgetSchema = z.object({
  wakeBudgetPerMinute: z.coerce
    .number('Enter a number of wakes per minute.')
    .int('A whole number of wakes per minute.')
    .min(0, '0 (no limit) or more.')
    .max(1_000_000, 'At most 1,000,000 per minute.'),
});

/** The budget in force: the admin's setting, else the environment's default. */
export async function wakeBudgetPerMinute(db: Db, e: Pick<Env, 'WAKE_BUDGET_PER_MINUTE'>): Promise<number> {
  const parsed = wakeBudgetSchema.shape.wakeBudgetPerMinute.safeParse(await getSetting(db, WAKE_BUDGET_KEY));
  return parsed.success ? parsed.data : e.WAKE_BUDGET_PER_MINUTE;
}

/** Sets the budget, audited under `actor`. */
export async function setWakeBudget(
  db: Db,
  perMinute: number,
  actor: string,
): Promise<{ wakeBudgetPerMinute: number }> {
  const value = wakeBudgetSchema.parse({ wakeBudgetPerMinute: perMinute }).wakeBudgetPerMinute;
  const before = await getSetting(db, WAKE_BUDGET_KEY);
  await putSetting(db, WAKE_BUDGET_KEY, value, actor);
  await insertAudit(db, {
    actor,
    action: 'settings.wake-budget',
    details: { wakeBudgetPerMinute: value, before: before ?? null },
  });
  return { wakeBudgetPerMinute: value };
}

export interface WakeBudgetView {
  /** Per minute; 0: no limit. */
  perMinute: number;
  /** Sent this minute by every process together. */
  sentThisMinute: number;
  /** Whether the admin set it (else the environment's default holds). */
  fromSetting: boolean;
}

export async function wakeBudgetView(db: Db, e: Pick<Env, 'WAKE_BUDGET_PER_MINUTE'>, now = Date.now()) {
  const perMinute = await wakeBudgetPerMinute(db, e);
  return {
    perMinute,
    sentThisMinute: await wakesSentIn(db, minuteOf(now)),
    fromSetting: (await getSetting(db, WAKE_BUDGET_KEY)) !== undefined,
  } satisfies WakeBudgetView;
}

/** The budget in words: "600 per minute", "no limit". */
export function budgetWords(perMinute: number): string {
  return perMinute === 0 ? 'no limit' : `${perMinute.toLocaleString('en-GB')} per minute`;
}

/**
 * Why `waiting` jobs have had no Package #0 yet, in plain words, when the budget is what
 * holds them: more wait than this minute has left. Null otherwise.
 */
export function budgetWait(waiting: number, b: Pick<WakeBudgetView, 'perMinute' | 'sentThisMinute'>): string | null {
  if (b.perMinute === 0 || waiting === 0) return null;
  const left = Math.max(0, b.perMinute - b.sentThisMinute);
  if (waiting <= left) return null;
  const minutes = Math.ceil((waiting - left) / b.perMinute);
  return `${waiting.toLocaleString('en-GB')} waiting for the wake budget (${budgetWords(b.perMinute)}): the last go out in about ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}
