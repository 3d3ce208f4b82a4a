'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { changeRole, createUserAs, removeUser, resetPassword, unlockUser } from '@/lib/auth/user-admin';
import { authedAction } from '@/lib/server/action';
import { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, USER_ROLES } from '@/lib/auth/schemas';

const PAGE = '/admin/users';
const id = z.object({ id: z.string().min(1) });
const password = z
  .string()
  .min(MIN_PASSWORD_LENGTH, `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`)
  .max(MAX_PASSWORD_LENGTH, `The password may have at most ${MAX_PASSWORD_LENGTH} characters.`);

// The full rules (email, role, subscriber) are createUser's; this only shapes the form.
const createSchema = z.object({
  email: z.string().max(254),
  role: z.enum(USER_ROLES, 'The role must be admin, agent or subscriber.'),
  subscriberId: z
    .string()
    .trim()
    .max(64)
    .transform((v) => v || undefined),
  password: z.string().max(MAX_PASSWORD_LENGTH + 1),
});

export const createUserAction = authedAction(
  { roles: ['admin'], schema: createSchema, audit: 'user.created' },
  async (input, ctx) => {
    const u = await createUserAs(ctx.db, input, ctx.viewer.email);
    revalidatePath(PAGE);
    return { email: u.email };
  },
);

export const changeRoleAction = authedAction(
  { roles: ['admin'], schema: id.extend({ role: z.enum(['admin', 'agent']) }), audit: 'user.role-changed' },
  async (input, ctx) => {
    const u = await changeRole(ctx.db, ctx.viewer, input.id, input.role);
    revalidatePath(PAGE);
    return { email: u.email };
  },
);

export const resetPasswordAction = authedAction(
  { roles: ['admin'], schema: id.extend({ password }), audit: 'user.password-reset' },
  async (input, ctx) => {
    const u = await resetPassword(ctx.db, ctx.viewer, input.id, input.password);
    revalidatePath(PAGE);
    return { email: u.email };
  },
);

export const unlockUserAction = authedAction(
  { roles: ['admin'], schema: id, audit: 'user.unlocked' },
  async (input, ctx) => {
    const u = await unlockUser(ctx.db, ctx.viewer, input.id);
    revalidatePath(PAGE);
    return { email: u.email };
  },
);

export const deleteUserAction = authedAction(
  { roles: ['admin'], schema: id, audit: 'user.deleted' },
  async (input, ctx) => {
    const u = await removeUser(ctx.db, ctx.viewer, input.id);
    revalidatePath(PAGE);
    return { email: u.email };
  },
);
