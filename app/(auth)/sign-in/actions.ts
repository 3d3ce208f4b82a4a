'use server';
import { redirect } from 'next/navigation';
import { publicAction } from '@/lib/server/action';
import { createSession, homeOf } from '@/lib/server/session';
import { authenticate } from '@/lib/auth/users';
import { signInSchema } from '@/lib/validations/auth';
import { ValidationError } from '@/lib/devices';
import { insertAudit } from '@/db/queries/audit';

/** Next checks a server action's Origin against the Host (on by default; next.config.ts adds no allowed origins). */
export const signInAction = publicAction({ schema: signInSchema }, async ({ email, password }, { db }) => {
  const r = await authenticate(db, email, password);
  // Both outcomes are audited under the address typed (the password never is).
  insertAudit(db, { actor: email.trim().toLowerCase().slice(0, 254), action: r.ok ? 'sign-in' : r.code === 'locked' ? 'sign-in.locked' : 'sign-in.failed' });
  if (!r.ok) throw new ValidationError(r.error);
  await createSession(r.user.id);
  redirect(homeOf(r.user.role));
});
