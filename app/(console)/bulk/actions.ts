'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { cancelBulk, orderBulk, previewBulk } from '@/lib/bulk/bulk';
import { bulkOrderSchema } from '@/lib/bulk/schemas';
import { setWakeBudget, wakeBudgetSchema } from '@/lib/jobs/wake-budget';
import { authedAction } from '@/lib/server/action';

/** The bulk panel's dry run: how many handsets, and how many it would skip. Changes nothing. */
export const previewBulkAction = authedAction(
  { roles: ['admin'], schema: bulkOrderSchema, audit: false },
  async (order, ctx) => previewBulk(ctx.db, order),
);

/** Orders the action once the admin has seen the count; the progress page follows it. */
export const orderBulkAction = authedAction(
  { roles: ['admin'], schema: bulkOrderSchema, audit: 'bulk.ordered' },
  async (order, ctx) => {
    const op = await orderBulk(ctx, ctx.viewer.email, order);
    revalidatePath('/bulk');
    return { id: op.id, total: op.total };
  },
);

export const cancelBulkAction = authedAction(
  { roles: ['admin'], schema: z.object({ id: z.string().min(1) }), audit: 'bulk.cancelled' },
  async ({ id }, ctx) => {
    const op = await cancelBulk(ctx.db, id, ctx.viewer.email);
    revalidatePath('/bulk');
    return { id: op.id };
  },
);

export const setWakeBudgetAction = authedAction(
  { roles: ['admin'], schema: wakeBudgetSchema, audit: 'settings.wake-budget' },
  async ({ wakeBudgetPerMinute }, ctx) => {
    const r = await setWakeBudget(ctx.db, wakeBudgetPerMinute, ctx.viewer.email);
    revalidatePath('/bulk');
    return r;
  },
);
