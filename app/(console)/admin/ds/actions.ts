'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { addDsAccountAs, resetDsPassword } from '@/lib/ds/accounts';
import { authedAction } from '@/lib/server/action';

const PAGE = '/admin/ds';

// The full rules (user name characters, password length, the handset exists) are addDsAccount's.
const createSchema = z.object({
  devId: z.string().trim().max(128),
  user: z.string().trim().max(64),
  pass: z.string().max(129),
  auth: z.enum(['basic', 'md5'], 'Authentication must be basic or MD5.'),
});

export const createDsAccountAction = authedAction(
  { roles: ['admin'], schema: createSchema, audit: 'ds-account.created' },
  async (input, ctx) => {
    const { account, created } = await addDsAccountAs(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    revalidatePath(`/devices/${account.deviceId}`);
    return { user: account.username, created };
  },
);

const resetSchema = z.object({
  id: z.string().trim().min(1).max(64),
  pass: z.string().max(129),
  auth: z.enum(['basic', 'md5']).optional(),
});

/** A new password for an existing account (its handset's DS client must be given it too). */
export const resetDsPasswordAction = authedAction(
  { roles: ['admin'], schema: resetSchema, audit: 'ds-account.password-reset' },
  async (input, ctx) => {
    const account = await resetDsPassword(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { user: account.username };
  },
);
