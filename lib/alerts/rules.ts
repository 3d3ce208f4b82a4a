/**
 * The alert rules: one per kind, each with a default threshold; an admin changes the
 * threshold or turns a kind off (kept in `alert_rules`; a kind without a row has its default).
 */
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { listAlertRules, upsertAlertRule } from '@/db/queries/alerts';
import { AppError } from '../core/errors';
import { ALERT_KINDS, alertRuleInputSchema, type AlertKind } from './schemas';
import type { z } from 'zod';

export interface AlertRule {
  kind: AlertKind;
  threshold: number;
  enabled: boolean;
  description: string;
}

const DEFAULTS: Record<AlertKind, { threshold: number; describe: (n: number) => string }> = {
  'backup-failures': { threshold: 3, describe: (n) => `A handset's backups failed ${n} times in a row` },
  'no-good-backup': { threshold: 7, describe: (n) => `A handset has had no good backup for ${n} days` },
  'coverage-lost': {
    threshold: 1,
    describe: () => "A category of a handset's policy has no recent good backup any more (its coverage went stale)",
  },
  'not-seen': { threshold: 14, describe: (n) => `A handset has not connected for ${n} days` },
  'restore-failed': { threshold: 1, describe: () => 'A restore failed, or its user rejected it' },
  defect: {
    threshold: 1,
    describe: () => 'A handset reported a defect: a verification walk found its backup digests wrong',
  },
};

/** Rules whose threshold means something (the others are events). */
export const THRESHOLD_UNIT: Partial<Record<AlertKind, string>> = {
  'backup-failures': 'failures in a row',
  'no-good-backup': 'days',
  'not-seen': 'days',
};

export async function alertRules(db: Db): Promise<AlertRule[]> {
  const stored = new Map((await listAlertRules(db)).map((r) => [r.kind, r]));
  return ALERT_KINDS.map((kind) => {
    const r = stored.get(kind);
    const threshold = r?.threshold ?? DEFAULTS[kind].threshold;
    return { kind, threshold, enabled: r?.enabled ?? true, description: DEFAULTS[kind].describe(threshold) };
  });
}

export async function setAlertRule(
  db: Db,
  kind: string,
  input: z.input<typeof alertRuleInputSchema>,
  actor: string,
): Promise<AlertRule> {
  if (!(ALERT_KINDS as readonly string[]).includes(kind))
    throw new AppError('not-found', `No such alert rule (the kinds are ${ALERT_KINDS.join(', ')}).`);
  const parsed = alertRuleInputSchema.safeParse(input);
  if (!parsed.success) throw AppError.fromZod(parsed.error);
  await upsertAlertRule(db, { kind, ...parsed.data, updatedAt: Date.now() });
  await insertAudit(db, { actor, action: 'alert-rule.changed', details: { kind, ...parsed.data } });
  return (await alertRules(db)).find((r) => r.kind === kind)!;
}
