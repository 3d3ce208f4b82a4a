/** Webhooks and their deliveries (db/schema.ts `webhooks`, `webhook_deliveries`); sent by lib/alerts/webhooks.ts. */
import { and, asc, desc, eq, lte } from 'drizzle-orm';
import type { Db } from '../client';
import { webhookDeliveries, webhooks } from '../schema';

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

export async function insertWebhook(db: Db, w: Pick<WebhookRow, 'url' | 'secret' | 'events'>): Promise<WebhookRow> {
  return (await db.insert(webhooks).values(w).returning())[0]!;
}

export async function listWebhookRows(db: Db): Promise<WebhookRow[]> {
  return db.select().from(webhooks).orderBy(asc(webhooks.createdAt), asc(webhooks.id));
}

export async function getWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  return (await db.select().from(webhooks).where(eq(webhooks.id, id)).limit(1))[0];
}

/** Removes a webhook and, by cascade, its deliveries; the row when there was one. */
export async function deleteWebhook(db: Db, id: string): Promise<WebhookRow | undefined> {
  return (await db.delete(webhooks).where(eq(webhooks.id, id)).returning())[0];
}

/** Queues an event for a webhook unless it was queued already (same key); the new row, or undefined. */
export async function insertDelivery(
  db: Db,
  d: Pick<DeliveryRow, 'webhookId' | 'event' | 'eventKey' | 'body' | 'nextAttemptAt'>,
): Promise<DeliveryRow | undefined> {
  return (
    await db
      .insert(webhookDeliveries)
      .values(d)
      .onConflictDoNothing({ target: [webhookDeliveries.webhookId, webhookDeliveries.eventKey] })
      .returning()
  )[0];
}

/** Deliveries whose next attempt is due, oldest first. */
export async function dueDeliveries(db: Db, now: number, limit: number): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt), asc(webhookDeliveries.id))
    .limit(limit);
}

export async function getDelivery(db: Db, id: string): Promise<DeliveryRow | undefined> {
  return (await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id)).limit(1))[0];
}

/** Records an attempt, only while the delivery is still pending (another pass may have sent it). */
export async function recordAttempt(
  db: Db,
  id: string,
  attemptsBefore: number,
  patch: Pick<DeliveryRow, 'status' | 'attempts' | 'nextAttemptAt' | 'lastStatus' | 'lastError' | 'deliveredAt'>,
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set(patch)
    .where(
      and(
        eq(webhookDeliveries.id, id),
        eq(webhookDeliveries.status, 'pending'),
        eq(webhookDeliveries.attempts, attemptsBefore),
      ),
    );
}

/** A webhook's deliveries, newest first (its delivery log). */
export async function listDeliveries(db: Db, webhookId: string, limit: number): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit);
}
