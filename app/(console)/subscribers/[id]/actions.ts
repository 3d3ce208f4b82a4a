'use server';
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { subscriberFor } from '@/lib/server/access';
import { eraseSubscriber } from '@/lib/subscribers/erasure';
import { ValidationError } from '@/lib/devices/devices';

/**
 * Erasing a subscriber (admins only), confirmed by typing their name: their handsets'
 * records and backups go and their data keys are destroyed.
 */
export const eraseSubscriberAction = authedAction(
  { roles: ['admin'], schema: z.object({ subscriberId: z.string().min(1).max(64), confirm: z.string().max(256).default('') }), audit: 'subscriber.erased' },
  async ({ subscriberId, confirm }, ctx) => {
    const sub = await subscriberFor(ctx.db, ctx.viewer, subscriberId);
    if (confirm.trim().replace(/\s+/g, ' ').toLowerCase() !== sub.name.trim().replace(/\s+/g, ' ').toLowerCase()) {
      throw new ValidationError('Nothing was erased: type the subscriber’s name to confirm.', { confirm: [`Type “${sub.name}” to confirm.`] });
    }
    const r = await eraseSubscriber(ctx, sub.id);
    // Ids and counts only: the audit log outlives the subscriber.
    await ctx.audit('subscriber.erased', { details: { subscriberId: sub.id, devices: r.devices, snapshots: r.snapshots, keys: r.keys, blobs: r.gc?.removed ?? 0 } });
    return { devices: r.devices, snapshots: r.snapshots };
  },
);
