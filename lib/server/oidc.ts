import 'server-only';
/**
 * Single sign-on's Next glue: the cookie that holds the PKCE verifier, state and nonce while
 * the browser is at the provider (httpOnly, ten minutes, only sent back to /auth/oidc), and
 * the session cookie once lib/auth/oidc.ts has the user.
 */
import { cookies } from 'next/headers';
import { getContext } from '@/lib/core/context';
import { log } from '@/lib/core/log';
import { beginOidcSignIn, completeOidcSignIn, oidcSettings, OidcRefusal, type OidcPending } from '@/lib/auth/oidc';
import { createSession, homeOf, isHttps } from './session';

const PENDING_COOKIE = 'rewind_oidc';
const PENDING_PATH = '/auth/oidc';

/**
 * A 303 with headers Next can still add the cookies to (Response.redirect's are immutable,
 * and the cookies set through next/headers would be dropped from it).
 */
function redirectTo(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}
// A path, resolved by the browser against the address it used (the request's URL inside Next
// names Next's own host, not necessarily the one the browser holds the cookies for).
const to = (_req: Request, where: string) => redirectTo(where);

export async function startSso(req: Request): Promise<Response> {
  const s = oidcSettings(getContext().env);
  if (!s) return to(req, '/sign-in');
  try {
    const { url, pending } = await beginOidcSignIn(s);
    (await cookies()).set(PENDING_COOKIE, Buffer.from(JSON.stringify(pending)).toString('base64url'), {
      httpOnly: true,
      sameSite: 'lax',
      secure: await isHttps(),
      path: PENDING_PATH,
      maxAge: 600,
    });
    return redirectTo(url);
  } catch (err) {
    log.error({ err }, 'single sign-on: the provider could not be reached');
    return to(req, '/sign-in?sso=failed');
  }
}

export async function finishSso(req: Request): Promise<Response> {
  const s = oidcSettings(getContext().env);
  if (!s) return to(req, '/sign-in');
  const jar = await cookies();
  const raw = jar.get(PENDING_COOKIE)?.value;
  jar.delete({ name: PENDING_COOKIE, path: PENDING_PATH });
  let pending: OidcPending;
  try {
    pending = JSON.parse(Buffer.from(raw ?? '', 'base64url').toString('utf8')) as OidcPending;
  } catch {
    return to(req, '/sign-in?sso=failed');
  }
  if (!pending?.verifier || !pending.state) return to(req, '/sign-in?sso=failed');
  // The provider's parameters on the redirect URL it was given (the Host this request came with may differ).
  const callback = new URL(s.redirectUrl);
  callback.search = new URL(req.url).search;
  try {
    const user = await completeOidcSignIn(getContext().db, s, callback, pending);
    await createSession(user.id);
    return to(req, homeOf(user.role));
  } catch (err) {
    if (err instanceof OidcRefusal) return to(req, `/sign-in?sso=${err.reason}`);
    log.error({ err }, 'single sign-on failed');
    return to(req, '/sign-in?sso=failed');
  }
}
