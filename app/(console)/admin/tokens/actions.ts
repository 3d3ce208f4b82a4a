'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { revokeToken } from '@/db/queries/tokens';
import { AppError } from '@/lib/core/errors';
import { authedAction } from '@/lib/server/action';
import { createApiToken } from '@/lib/auth/tokens';

const PAGE = '/admin/tokens';

export const createTokenAction = authedAction({
  roles: ['admin'],
  audit: 'token.created',
  schema: z.object({
    name: z.string().trim().min(1, 'Name the token after what uses it.').max(64, 'A name has at most 64 characters.'),
    role: z.enum(['admin', 'agent'], 'Choose admin or agent.'),
  }),
}, async (input, ctx) => {
  const { token, id } = await createApiToken(ctx.db, input.role, input.name);
  await ctx.audit('token.created', { details: { id, name: input.name, role: input.role } });
  revalidatePath(PAGE);
  return { token, name: input.name };
});

export const revokeTokenAction = authedAction({ roles: ['admin'], schema: z.object({ id: z.string().min(1) }), audit: 'token.revoked' }, async (input, ctx) => {
  const t = await revokeToken(ctx.db, input.id);
  if (!t) throw AppError.invalid('That token is unknown or already revoked.');
  await ctx.audit('token.revoked', { details: { id: t.id, name: t.name, role: t.role } });
  revalidatePath(PAGE);
  return { name: t.name };
});
