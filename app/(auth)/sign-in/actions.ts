'use server';
import { headers } from 'next/headers';
import { redirect } from 'next/navigation';
import { publicAction } from '@/lib/server/action';
import { createSession, homeOf } from '@/lib/server/session';
import { signIn } from '@/lib/auth/users';
import { clientAddressFromHeaders } from '@/lib/core/client-address';
import { signInSchema } from '@/lib/auth/schemas';
import { AppError } from '@/lib/core/errors';
import { insertAudit } from '@/db/queries/audit';

/** Next checks a server action's Origin against the Host (on by default; next.config.ts adds no allowed origins). */
export const signInAction = publicAction({ schema: signInSchema }, async ({ email, password }, { db }) => {
  // The client address as the front saw it (server.ts replaces any copy the client sent).
  const address = clientAddressFromHeaders(await headers());
  const r = await signIn(db, address, email, password);
  // Every outcome is audited under the email typed (the password never is); a refusal for
  // the address's failures also names the address.
  const action = r.ok ? 'sign-in' : r.code === 'locked' ? 'sign-in.locked' : r.code === 'rate-limited' ? 'sign-in.rate-limited' : 'sign-in.failed';
  await insertAudit(db, { actor: email.trim().toLowerCase().slice(0, 254), action, ...(!r.ok && r.code === 'rate-limited' ? { details: { address } } : {}) });
  if (!r.ok) throw AppError.invalid(r.error);
  await createSession(r.user.id);
  redirect(homeOf(r.user.role));
});
