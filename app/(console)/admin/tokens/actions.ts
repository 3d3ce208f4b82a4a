'use server';
import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { authedAction } from '@/lib/server/action';
import { createApiTokenAs, revokeApiToken } from '@/lib/auth/tokens';

const PAGE = '/admin/tokens';

export const createTokenAction = authedAction(
  {
    roles: ['admin'],
    audit: 'token.created',
    schema: z.object({
      name: z.string().trim().min(1, 'Name the token after what uses it.').max(64, 'A name has at most 64 characters.'),
      role: z.enum(['admin', 'agent'], 'Choose admin or agent.'),
      scope: z.enum(['read', 'full'], 'Choose read-only or full.').default('full'),
      expiresInDays: z.coerce.number().int().min(0).max(3650, 'At most 3650 days.').default(0),
    }),
  },
  async (input, ctx) => {
    const { token } = await createApiTokenAs(ctx.db, input.role, input.name, ctx.viewer.email, {
      scope: input.scope,
      // 0: it does not expire.
      expiresInMs: input.expiresInDays ? input.expiresInDays * 86_400_000 : undefined,
    });
    revalidatePath(PAGE);
    return { token, name: input.name };
  },
);

export const revokeTokenAction = authedAction(
  { roles: ['admin'], schema: z.object({ id: z.string().min(1) }), audit: 'token.revoked' },
  async (input, ctx) => {
    const t = await revokeApiToken(ctx.db, input.id, ctx.viewer.email);
    revalidatePath(PAGE);
    return { name: t.name };
  },
);
