'use server';
import { revalidatePath } from 'next/cache';
import { authedAction } from '@/lib/server/action';
import { acknowledgeAlert, resolveAlert } from '@/lib/alerts/alerts';
import { setAlertRule } from '@/lib/alerts/rules';
import { alertActionSchema, alertRuleInputSchema, ALERT_KINDS } from '@/lib/alerts/schemas';
import { z } from 'zod';

const PAGE = '/alerts';

export const acknowledgeAlertAction = authedAction(
  { roles: ['agent', 'admin'], schema: alertActionSchema, audit: 'alert.acknowledged' },
  async ({ id }, ctx) => {
    const a = await acknowledgeAlert(ctx.db, id, ctx.viewer.email);
    revalidatePath(PAGE, 'layout');
    return { id: a.id };
  },
);

export const resolveAlertAction = authedAction(
  { roles: ['agent', 'admin'], schema: alertActionSchema, audit: 'alert.resolved' },
  async ({ id }, ctx) => {
    const a = await resolveAlert(ctx.db, id, ctx.viewer.email);
    revalidatePath(PAGE, 'layout');
    return { id: a.id };
  },
);

export const saveAlertRuleAction = authedAction(
  {
    roles: ['admin'],
    schema: alertRuleInputSchema.extend({
      kind: z.enum(ALERT_KINDS),
      // An unticked checkbox sends nothing: off.
      enabled: alertRuleInputSchema.shape.enabled.optional().transform((v) => v ?? false),
    }),
    audit: 'alert-rule.changed',
  },
  async ({ kind, ...rule }, ctx) => {
    const r = await setAlertRule(ctx.db, kind, rule, ctx.viewer.email);
    revalidatePath(PAGE);
    return { kind: r.kind };
  },
);
