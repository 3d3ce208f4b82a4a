'use server';
import { revalidatePath } from 'next/cache';
import { authedAction } from '@/lib/server/action';
import { addWebhook, removeWebhook, testWebhook } from '@/lib/alerts/webhooks';
import { alertActionSchema, WEBHOOK_EVENTS } from '@/lib/alerts/schemas';
import { z } from 'zod';

const PAGE = '/admin/webhooks';

export const addWebhookAction = authedAction(
  {
    roles: ['admin'],
    schema: z.object({
      url: z.string(),
      // The form's checkboxes: one value per ticked event.
      events: z.preprocess((v) => (typeof v === 'string' ? [v] : (v ?? [])), z.array(z.enum(WEBHOOK_EVENTS))),
    }),
    audit: 'webhook.added',
  },
  async (input, ctx) => {
    const { webhook, secret } = await addWebhook(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { secret, url: webhook.url };
  },
);

export const removeWebhookAction = authedAction(
  { roles: ['admin'], schema: alertActionSchema, audit: 'webhook.removed' },
  async ({ id }, ctx) => {
    const w = await removeWebhook(ctx.db, id, ctx.viewer.email);
    revalidatePath(PAGE);
    return { url: w.url };
  },
);

export const testWebhookAction = authedAction(
  { roles: ['admin'], schema: alertActionSchema, audit: 'webhook.tested' },
  async ({ id }, ctx) => {
    const d = await testWebhook(ctx.db, id, ctx.viewer.email);
    revalidatePath(PAGE, 'layout');
    return { status: d.status, lastStatus: d.lastStatus, lastError: d.lastError };
  },
);
