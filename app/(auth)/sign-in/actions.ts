'use server';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { publicAction } from '@/lib/server/action';
import { createSession, homeOf } from '@/lib/server/session';
import { attemptSignIn } from '@/lib/auth/users';
import { clientAddressFromHeaders } from '@/lib/core/client-address';
import { signInSchema } from '@/lib/auth/schemas';
import { AppError } from '@/lib/core/errors';

/** Next checks a server action's Origin against the Host (on by default; next.config.ts adds no allowed origins). */
export const signInAction = publicAction({ schema: signInSchema }, async ({ email, password }, { db }) => {
  // The client address as the front saw it (server.ts replaces any copy the client sent).
  const address = clientAddressFromHeaders(await headers());
  const r = await attemptSignIn(db, address, email, password); // every outcome audited
  if (!r.ok) throw AppError.invalid(r.error);
  await createSession(r.user.id);
  redirect(homeOf(r.user.role));
});
