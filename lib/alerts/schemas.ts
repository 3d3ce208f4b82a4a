/**
 * What the alerts API, the console's forms and the CLI accept and answer: alerts, their
 * rules, webhooks and their deliveries. lib/api/openapi.ts puts these in the document.
 */
import { z } from 'zod';

export const ALERT_KINDS = [
  'backup-failures',
  'no-good-backup',
  'coverage-lost',
  'not-seen',
  'restore-failed',
  'defect',
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

/** What a webhook may ask for. `alert.*` follow alerts; the job events fire on every such job end. */
export const WEBHOOK_EVENTS = [
  'alert.raised',
  'alert.acknowledged',
  'alert.resolved',
  'backup.failed',
  'restore.failed',
  'restore.rejected',
  'webhook.test',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const alertSchema = z.object({
  id: z.string(),
  kind: z.enum(ALERT_KINDS),
  status: z.enum(ALERT_STATUSES),
  devId: z.string().nullable().describe('The handset, by DevId'),
  message: z.string().describe('What happened, in plain words'),
  details: z.record(z.string(), z.unknown()),
  raisedAt: z.number().int(),
  acknowledgedAt: z.number().int().nullable(),
  acknowledgedBy: z.string().nullable(),
  resolvedAt: z.number().int().nullable(),
  resolvedBy: z.string().nullable().describe('A person, or `system` when the condition cleared'),
});

export const alertListQuerySchema = z.object({
  status: z
    .enum([...ALERT_STATUSES, 'unresolved', 'all'])
    .default('unresolved')
    .describe('unresolved (open and acknowledged, the default), one status, or all'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const alertListSchema = z.object({ alerts: z.array(alertSchema), unresolved: z.number().int() });

export const alertActionSchema = z.object({ id: z.string().min(1) });

export const alertRuleSchema = z.object({
  kind: z.enum(ALERT_KINDS),
  threshold: z.number().int().describe('Failures in a row, or days, as the kind reads it; unused by event kinds'),
  enabled: z.boolean(),
  description: z.string(),
});

export const alertRuleListSchema = z.object({ rules: z.array(alertRuleSchema) });

export const alertRuleInputSchema = z.object({
  threshold: z.coerce.number().int().min(1, 'At least 1.').max(3650, 'At most 3650.'),
  enabled: z
    .union([z.boolean(), z.enum(['on', 'true', 'false', 'off'])])
    .transform((v) => v === true || v === 'on' || v === 'true'),
});

const eventList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  )
  .pipe(
    z.array(z.enum(WEBHOOK_EVENTS, `Events are: ${WEBHOOK_EVENTS.join(', ')}.`)).min(1, 'Name at least one event.'),
  );

export const webhookInputSchema = z.object({
  url: z
    .url('A URL such as https://hooks.example.com/rewind.')
    .max(2000)
    .refine((u) => /^https?:\/\//i.test(u), 'An http:// or https:// URL.'),
  events: z.union([z.array(z.enum(WEBHOOK_EVENTS)).min(1, 'Name at least one event.'), eventList]),
});

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.enum(WEBHOOK_EVENTS)),
  createdAt: z.number().int(),
});

export const webhookCreatedSchema = z.object({
  webhook: webhookSchema,
  secret: z.string().describe('The signing secret, shown once: verify X-Rewind-Signature with it'),
});

export const webhookListSchema = z.object({ webhooks: z.array(webhookSchema) });

export const deliverySchema = z.object({
  id: z.string(),
  event: z.enum(WEBHOOK_EVENTS),
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  nextAttemptAt: z.number().int().nullable().describe('When the next attempt goes; null once delivered or given up'),
  lastStatus: z.number().int().nullable().describe("The receiver's HTTP status, null when unreachable"),
  lastError: z.string().nullable(),
  createdAt: z.number().int(),
  deliveredAt: z.number().int().nullable(),
});

export const deliveryListSchema = z.object({ deliveries: z.array(deliverySchema) });

export const deliveryListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) });
