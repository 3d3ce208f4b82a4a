/**
 * Webhooks: events go out as JSON, signed with the webhook's own secret
 * (`X-Rewind-Signature: sha256=<hex HMAC-SHA256 of the body>`). Every event for every webhook
 * that asked for it is a row in `webhook_deliveries` before anything is sent, so a receiver
 * that is down, answers 5xx, or a server process that stops mid-retry loses nothing: the next
 * pass (lib/alerts/worker.ts) sends what is due, with a growing backoff, until the receiver
 * answers 2xx or the attempts run out.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import {
  deleteWebhook,
  dueDeliveries,
  getDelivery,
  getWebhook,
  insertDelivery,
  insertWebhook,
  listDeliveries,
  listWebhookRows,
  recordAttempt,
  type DeliveryRow,
  type WebhookRow,
} from '@/db/queries/webhooks';
import { AppError } from '../core/errors';
import { log } from '../core/log';
import { webhookInputSchema, type WebhookEvent } from './schemas';
import type { z } from 'zod';

export const SIGNATURE_HEADER = 'x-rewind-signature';
/** Attempts before a delivery is given up (about a day and a half of backoff in all). */
export const MAX_ATTEMPTS = 8;
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 6 * 3_600_000;
const SEND_TIMEOUT_MS = 10_000;

/** `sha256=<hex>`: the HMAC-SHA256 of the exact body bytes under the webhook's secret. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a receiver does with the header: recompute and compare in constant time. */
export function verifySignature(secret: string, body: string, header: string | null | undefined): boolean {
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/** After failed attempt n (1-based): 30 s, 2 min, 8 min, … at most 6 h. */
export function retryDelayMs(attempt: number): number {
  return Math.min(FIRST_RETRY_MS * 4 ** (attempt - 1), MAX_RETRY_MS);
}

export interface WebhookView {
  id: string;
  url: string;
  events: WebhookEvent[];
  createdAt: number;
}

function view(w: WebhookRow): WebhookView {
  return { id: w.id, url: w.url, events: JSON.parse(w.events) as WebhookEvent[], createdAt: w.createdAt };
}

/** Adds a webhook with a fresh secret (returned once), audited under `actor`. */
export async function addWebhook(
  db: Db,
  input: z.input<typeof webhookInputSchema>,
  actor: string,
): Promise<{ webhook: WebhookView; secret: string }> {
  const parsed = webhookInputSchema.safeParse(input);
  if (!parsed.success) throw AppError.fromZod(parsed.error);
  const events = [...new Set(parsed.data.events)];
  const secret = `whsec_${randomBytes(24).toString('base64url')}`;
  const row = await insertWebhook(db, { url: parsed.data.url, secret, events: JSON.stringify(events) });
  await insertAudit(db, { actor, action: 'webhook.added', details: { id: row.id, url: row.url, events } });
  return { webhook: view(row), secret };
}

export async function removeWebhook(db: Db, id: string, actor: string): Promise<WebhookView> {
  const row = await deleteWebhook(db, id);
  if (!row) throw new AppError('not-found', 'No such webhook.');
  await insertAudit(db, { actor, action: 'webhook.removed', details: { id: row.id, url: row.url } });
  return view(row);
}

export async function webhookList(db: Db): Promise<WebhookView[]> {
  return (await listWebhookRows(db)).map(view);
}

export async function webhookDetail(db: Db, id: string, limit = 100) {
  const row = await getWebhook(db, id);
  if (!row) throw new AppError('not-found', 'No such webhook.');
  return { webhook: view(row), deliveries: (await listDeliveries(db, id, limit)).map(deliveryView) };
}

export function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    event: d.event as WebhookEvent,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null,
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: d.createdAt,
    deliveredAt: d.deliveredAt,
  };
}

/**
 * Queues an event for every webhook that asked for it, once per webhook and `key` (the same
 * job's failure seen twice is one event). The body is fixed here, so every retry sends, and
 * signs, the same bytes.
 */
export async function emitEvent(
  db: Db,
  event: WebhookEvent,
  key: string,
  data: Record<string, unknown>,
  now = Date.now(),
): Promise<DeliveryRow[]> {
  const out: DeliveryRow[] = [];
  for (const w of await listWebhookRows(db)) {
    if (!(JSON.parse(w.events) as string[]).includes(event)) continue;
    const body = JSON.stringify({ id: `${event}:${key}`, event, createdAt: now, data });
    const d = await insertDelivery(db, {
      webhookId: w.id,
      event,
      eventKey: `${event}:${key}`,
      body,
      nextAttemptAt: now,
    });
    if (d) out.push(d);
  }
  return out;
}

/** One attempt at one delivery: POST the body, record the outcome, schedule the retry. */
export async function attemptDelivery(db: Db, d: DeliveryRow, now = Date.now()): Promise<DeliveryRow['status']> {
  const hook = await getWebhook(db, d.webhookId);
  if (!hook) return 'failed';
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Rewind-Webhooks/1',
        [SIGNATURE_HEADER]: signBody(hook.secret, d.body),
        'x-rewind-event': d.event,
        'x-rewind-delivery': d.id,
      },
      body: d.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
    status = res.status;
    await res.body?.cancel().catch(() => undefined);
    if (status < 200 || status >= 300) error = `the receiver answered ${status}`;
  } catch (err) {
    error = `could not reach the receiver: ${(err as Error).message}`;
  }
  const attempts = d.attempts + 1;
  const next: DeliveryRow['status'] = error === null ? 'delivered' : attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
  await recordAttempt(db, d.id, d.attempts, {
    status: next,
    attempts,
    nextAttemptAt: next === 'pending' ? now + retryDelayMs(attempts) : d.nextAttemptAt,
    lastStatus: status,
    lastError: error,
    deliveredAt: next === 'delivered' ? now : null,
  });
  if (error) log.warn({ webhookId: hook.id, deliveryId: d.id, attempts, status }, `webhook delivery: ${error}`);
  return next;
}

/** Sends every delivery due at `now` (one process at a time: the worker holds a lease). */
export async function deliverDue(db: Db, now = Date.now(), limit = 100): Promise<number> {
  const due = await dueDeliveries(db, now, limit);
  for (const d of due) await attemptDelivery(db, d, now);
  return due.length;
}

/** The test button: a `webhook.test` event to this webhook alone, sent at once; the delivery as it ended. */
export async function testWebhook(db: Db, id: string, actor: string, now = Date.now()) {
  const hook = await getWebhook(db, id);
  if (!hook) throw new AppError('not-found', 'No such webhook.');
  const key = randomUUID();
  const body = JSON.stringify({
    id: `webhook.test:${key}`,
    event: 'webhook.test',
    createdAt: now,
    data: { webhookId: id, message: 'A test event from Rewind.' },
  });
  const d = (await insertDelivery(db, {
    webhookId: id,
    event: 'webhook.test',
    eventKey: `webhook.test:${key}`,
    body,
    nextAttemptAt: now,
  }))!;
  await attemptDelivery(db, d, now);
  await insertAudit(db, { actor, action: 'webhook.tested', details: { id, url: hook.url } });
  return deliveryView((await getDelivery(db, d.id))!);
}
