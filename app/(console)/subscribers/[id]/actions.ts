'use server';
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { subscriberFor } from '@/lib/server/access';
import { eraseSubscriberAs } from '@/lib/subscribers/erasure';
import { AppError } from '@/lib/core/errors';

/**
 * Erasing a subscriber (admins only), confirmed by typing their name: their handsets'
 * records and backups go and their data keys are destroyed.
 */
export const eraseSubscriberAction = authedAction(
  {
    roles: ['admin'],
    schema: z.object({ subscriberId: z.string().min(1).max(64), confirm: z.string().max(256).default('') }),
    audit: 'subscriber.erased',
  },
  async ({ subscriberId, confirm }, ctx) => {
    const sub = await subscriberFor(ctx.db, ctx.viewer, subscriberId);
    if (confirm.trim().replace(/\s+/g, ' ').toLowerCase() !== sub.name.trim().replace(/\s+/g, ' ').toLowerCase()) {
      throw AppError.invalid('Nothing was erased: type the subscriber’s name to confirm.', {
        confirm: [`Type “${sub.name}” to confirm.`],
      });
    }
    const r = await eraseSubscriberAs(ctx, sub.id, ctx.viewer.email);
    return { devices: r.devices, snapshots: r.snapshots };
  },
);
