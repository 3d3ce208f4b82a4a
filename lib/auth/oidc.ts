/**
 * Staff single sign-on through OpenID Connect (openid-client): the authorization code flow
 * with PKCE, a state and a nonce. `beginOidcSignIn` gives the provider's URL and what the
 * browser keeps meanwhile (an httpOnly cookie, lib/server glue); `completeOidcSignIn` takes
 * the URL the provider sent the browser back to, checks it against that, and answers the
 * user, created or updated from the claims. The role comes only from the configured claim
 * (OIDC_ROLE_CLAIM) through OIDC_ROLES; someone the mapping gives no role is refused.
 * No Next imports: tests drive it against a real provider.
 */
import * as client from 'openid-client';
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import { getUserByEmail, getUserBySsoSubject, insertUser, updateSsoUser, type UserRow } from '@/db/queries/users';
import type { Env } from '../core/env';
import { AppError } from '../core/errors';

export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
  redirectUrl: string;
  roleClaim: string;
  roles: Record<string, 'admin' | 'agent'>;
  scopes: string;
  name: string;
}

/** Single sign-on as the environment configures it, or undefined (local passwords only). */
export function oidcSettings(e: Env): OidcSettings | undefined {
  if (!e.OIDC_ISSUER || !e.OIDC_CLIENT_ID) return undefined;
  return {
    issuer: e.OIDC_ISSUER,
    clientId: e.OIDC_CLIENT_ID,
    clientSecret: e.OIDC_CLIENT_SECRET,
    redirectUrl: e.OIDC_REDIRECT_URL ?? new URL('/auth/oidc/callback', e.PUBLIC_URL).toString(),
    roleClaim: e.OIDC_ROLE_CLAIM,
    roles: e.OIDC_ROLES,
    scopes: e.OIDC_SCOPES,
    name: e.OIDC_NAME,
  };
}

const configs = new Map<string, Promise<client.Configuration>>();

/** The provider's metadata, discovered once per issuer and client (a failed discovery is tried again next time). */
function configuration(s: OidcSettings): Promise<client.Configuration> {
  const key = `${s.issuer} ${s.clientId}`;
  let c = configs.get(key);
  if (!c) {
    const url = new URL(s.issuer);
    // Plain http only to a provider on this machine (a test, a local development provider).
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
    c = client.discovery(
      url,
      s.clientId,
      s.clientSecret,
      s.clientSecret ? client.ClientSecretPost(s.clientSecret) : client.None(),
      url.protocol === 'http:' && loopback ? { execute: [client.allowInsecureRequests] } : undefined,
    );
    c.catch(() => configs.delete(key));
    configs.set(key, c);
  }
  return c;
}

/** What the browser keeps between leaving for the provider and coming back. */
export interface OidcPending {
  verifier: string;
  state: string;
  nonce: string;
}

export async function beginOidcSignIn(s: OidcSettings): Promise<{ url: string; pending: OidcPending }> {
  const config = await configuration(s);
  const pending = {
    verifier: client.randomPKCECodeVerifier(),
    state: client.randomState(),
    nonce: client.randomNonce(),
  };
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: s.redirectUrl,
    scope: s.scopes,
    code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
    code_challenge_method: 'S256',
    state: pending.state,
    nonce: pending.nonce,
  });
  return { url: url.toString(), pending };
}

/** Why a sign-in through the provider was refused; `code` picks the sign-in page's words. */
export class OidcRefusal extends AppError {
  constructor(
    readonly reason: 'no-role' | 'no-email' | 'not-staff' | 'failed',
    message: string,
  ) {
    super('forbidden', message, { code: `sso-${reason}` });
  }
}

/** The roles the claim's values map to, the strongest first. */
export function rolesFromClaim(value: unknown, roles: OidcSettings['roles']): Array<'admin' | 'agent'> {
  const values = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  const mapped = new Set(values.flatMap((v) => (typeof v === 'string' && roles[v] ? [roles[v]] : [])));
  return (['admin', 'agent'] as const).filter((r) => mapped.has(r));
}

/**
 * Finishes a sign-in: the code exchanged (PKCE verifier, state and nonce checked), the ID
 * token's claims (and the UserInfo endpoint's, for claims the ID token leaves out), the
 * user found by subject (or by email, then linked) or created, their role set from the
 * claim every time. Every outcome audited.
 */
export async function completeOidcSignIn(
  db: Db,
  s: OidcSettings,
  callbackUrl: URL,
  pending: OidcPending,
  now = Date.now(),
): Promise<Omit<UserRow, 'passwordHash'>> {
  const config = await configuration(s);
  let claims: Record<string, unknown>;
  try {
    const tokens = await client.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    claims = { ...tokens.claims() };
    if (claims[s.roleClaim] === undefined || claims.email === undefined)
      claims = { ...(await client.fetchUserInfo(config, tokens.access_token, String(claims.sub))), ...claims };
  } catch (err) {
    await insertAudit(db, { actor: 'sso', action: 'sign-in.sso-failed', details: { error: (err as Error).message } });
    throw new OidcRefusal('failed', `Signing in with ${s.name} did not complete: ${(err as Error).message}`);
  }
  const subject = `${s.issuer} ${String(claims.sub)}`;
  const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
  if (!email || claims.email_verified === false) {
    await insertAudit(db, { actor: 'sso', action: 'sign-in.sso-refused', details: { subject, reason: 'no-email' } });
    throw new OidcRefusal('no-email', `${s.name} gave no verified email address for this account.`);
  }
  const role = rolesFromClaim(claims[s.roleClaim], s.roles)[0];
  if (!role) {
    await insertAudit(db, {
      actor: email,
      action: 'sign-in.sso-refused',
      details: { subject, reason: 'no-role', claim: s.roleClaim, values: claims[s.roleClaim] ?? null },
    });
    throw new OidcRefusal(
      'no-role',
      `Your ${s.name} account (${email}) has no role in Rewind: ask an administrator to add you to one of ${Object.keys(s.roles).join(', ')}.`,
    );
  }
  const known = (await getUserBySsoSubject(db, subject)) ?? (await getUserByEmail(db, email));
  if (known?.role === 'subscriber') {
    await insertAudit(db, { actor: email, action: 'sign-in.sso-refused', details: { subject, reason: 'not-staff' } });
    throw new OidcRefusal('not-staff', `${email} is a subscriber's account: staff sign in here.`);
  }
  // A password that can never match: this user signs in through the provider only (unless an admin sets one).
  const user = known
    ? await updateSsoUser(db, known.id, { role, email, ssoSubject: subject, lastSignInAt: now })
    : await insertUser(db, { email, role, passwordHash: 'sso', ssoSubject: subject, lastSignInAt: now });
  await insertAudit(db, {
    actor: email,
    action: known ? 'sign-in.sso' : 'user.sso-created',
    details: { subject, role, ...(known && known.role !== role ? { previousRole: known.role } : {}) },
  });
  const { passwordHash: _omit, ...safe } = user;
  return safe;
}

/** What the sign-in page says about single sign-on: the button's provider, and why the last try was refused. */
export function ssoSignInView(s: OidcSettings | undefined, reason: string | undefined) {
  if (!s) return undefined;
  const why: Record<string, string> = {
    'no-role': `Your ${s.name} account has no role in Rewind: ask an administrator to add you to one of ${Object.keys(s.roles).join(', ')}.`,
    'no-email': `${s.name} gave no verified email address for your account, so Rewind cannot know who you are.`,
    'not-staff': `That ${s.name} account belongs to a subscriber: staff sign in here.`,
    failed: `Signing in with ${s.name} did not complete. Try again.`,
  };
  return { name: s.name, error: reason ? (why[reason] ?? why.failed!) : undefined };
}
