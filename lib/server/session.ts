import 'server-only';
import { createHash, randomBytes } from 'node:crypto';
import { cookies, headers } from 'next/headers';
import { cache } from 'react';
import { getContext } from '@/lib/core/context';
import { servedOverTls } from '@/lib/core/security-headers';
import { deleteWebSession, getSessionUser, insertWebSession } from '@/db/queries/users';
import { insertAudit } from '@/db/queries/audit';
import type { UserRole } from '@/db/schema';

export const SESSION_COOKIE = 'rewind_session';
export const SESSION_TTL_MS = 8 * 60 * 60_000;

export interface Viewer {
  userId: string;
  email: string;
  role: UserRole;
  /** Set for subscriber users: the subscriber whose devices they may see. */
  subscriberId: string | null;
}

/** The session row id: only this hash of the cookie's token is stored. */
export function sessionIdOf(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * Secure cookies when the deployment is served over TLS, as the configuration says (an https
 * PUBLIC_URL, or X-Forwarded-Proto from a proxy trusted with TRUST_PROXY): never on a header any
 * client could send to get a cookie its browser would then also send over plain http.
 */
export async function isHttps(): Promise<boolean> {
  const { env } = getContext();
  return servedOverTls((await headers()).get('x-forwarded-proto'), {
    publicUrl: env.PUBLIC_URL,
    trustProxy: env.TRUST_PROXY,
  });
}

/** Starts a session for a user who has just authenticated and sets its cookie. */
export async function createSession(userId: string, now = Date.now()): Promise<void> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = now + SESSION_TTL_MS;
  await insertWebSession(getContext().db, { id: sessionIdOf(token), userId, expiresAt });
  (await cookies()).set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: await isHttps(),
    path: '/',
    expires: new Date(expiresAt),
    maxAge: SESSION_TTL_MS / 1000,
  });
}

/** The signed-in user of this request, or null. Cached per request. */
export const getViewer = cache(async (): Promise<Viewer | null> => {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  if (!token || token.length > 128) return null;
  const found = await getSessionUser(getContext().db, sessionIdOf(token), Date.now());
  if (!found) return null;
  const { user } = found;
  return { userId: user.id, email: user.email, role: user.role, subscriberId: user.subscriberId };
});

/** Ends this browser's session: the row and the cookie; audited beside sign-ins when it was a signed-in viewer's. */
export async function signOut(): Promise<void> {
  const viewer = await getViewer();
  const jar = await cookies();
  const token = jar.get(SESSION_COOKIE)?.value;
  if (token) await deleteWebSession(getContext().db, sessionIdOf(token));
  jar.delete({ name: SESSION_COOKIE, path: '/' });
  if (viewer) await insertAudit(getContext().db, { actor: viewer.email, action: 'sign-out' });
}

/** Where a user lands after signing in. */
export function homeOf(role: UserRole): string {
  return role === 'subscriber' ? '/portal' : '/';
}
