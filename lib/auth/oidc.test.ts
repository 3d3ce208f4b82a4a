/**
 * Single sign-on against a real OpenID Connect provider running in this process on
 * 127.0.0.1 (oidc-provider): the authorization code flow with PKCE over HTTP, an agent and
 * an admin signed in with roles from their `groups`, users created then updated, someone
 * with no mapped group refused with a clear message, and a tampered state refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getUserByEmail } from '@/db/queries/users';
import { testDb } from '@/test/support/db';
import { startOidcProvider, type TestOidcProvider } from '@/test/support/oidc-provider';
import { authenticate } from './users';
import { beginOidcSignIn, completeOidcSignIn, rolesFromClaim, type OidcSettings } from './oidc';

const REDIRECT = 'http://127.0.0.1:3999/auth/oidc/callback';
let dir: string;
let db: Db;
let idp: TestOidcProvider;
let settings: OidcSettings;
const groups: Record<string, string[]> = {
  ada: ['staff', 'rewind-agents'],
  grace: ['rewind-agents', 'rewind-admins'],
  eve: ['marketing'],
};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-oidc-'));
  db = await testDb(dir);
  idp = await startOidcProvider({
    redirectUri: REDIRECT,
    accounts: {
      ada: { email: 'Ada@Example.org', groups: groups.ada! },
      grace: { email: 'grace@example.org', groups: groups.grace! },
      eve: { email: 'eve@example.org', groups: groups.eve! },
    },
  });
  settings = {
    issuer: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    redirectUrl: REDIRECT,
    roleClaim: 'groups',
    roles: { 'rewind-admins': 'admin', 'rewind-agents': 'agent' },
    scopes: 'openid email groups',
    name: 'Example SSO',
  };
}, 60_000);

afterAll(async () => {
  await idp?.close();
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function signInAs(login: string) {
  const { url, pending } = await beginOidcSignIn(settings);
  const back = await idp.signIn(url, login);
  return completeOidcSignIn(db, settings, back, pending);
}

describe('single sign-on through OpenID Connect', () => {
  it('asks for the code with PKCE (S256), a state and a nonce', async () => {
    const { url, pending } = await beginOidcSignIn(settings);
    const q = new URL(url).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(q.get('code_challenge')).not.toBe(pending.verifier);
    expect(q.get('state')).toBe(pending.state);
    expect(q.get('nonce')).toBe(pending.nonce);
    expect(q.get('redirect_uri')).toBe(REDIRECT);
  });

  it('signs an agent in, creating the user with the role their group maps to', async () => {
    const user = await signInAs('ada');
    expect(user).toMatchObject({ email: 'ada@example.org', role: 'agent', ssoSubject: `${idp.issuer} ada` });
    expect(user).not.toHaveProperty('passwordHash');
    // Nobody can sign in as this user with a password.
    expect((await authenticate(db, 'ada@example.org', 'sso')).ok).toBe(false);
    const audit = await listAudit(db, {});
    expect(audit.find((a) => a.action === 'user.sso-created')?.actor).toBe('ada@example.org');
  });

  it('signs an admin in: the strongest role any group maps to', async () => {
    expect(await signInAs('grace')).toMatchObject({ email: 'grace@example.org', role: 'admin' });
  });

  it('updates the role from the claim at every sign-in', async () => {
    groups.ada!.push('rewind-admins');
    try {
      expect(await signInAs('ada')).toMatchObject({ role: 'admin' });
      expect((await getUserByEmail(db, 'ada@example.org'))?.role).toBe('admin');
    } finally {
      groups.ada!.pop();
    }
    expect(await signInAs('ada')).toMatchObject({ role: 'agent' });
  });

  it('refuses someone whose groups map to no role, saying so, and creates no user', async () => {
    await expect(signInAs('eve')).rejects.toMatchObject({
      reason: 'no-role',
      message: expect.stringMatching(
        /has no role in Rewind: ask an administrator to add you to one of rewind-admins, rewind-agents/,
      ),
    });
    expect(await getUserByEmail(db, 'eve@example.org')).toBeUndefined();
    expect(
      (await listAudit(db, {})).some((a) => a.action === 'sign-in.sso-refused' && a.actor === 'eve@example.org'),
    ).toBe(true);
  });

  it('refuses a callback whose state is not the one it sent', async () => {
    const { url, pending } = await beginOidcSignIn(settings);
    const back = await idp.signIn(url, 'ada');
    await expect(completeOidcSignIn(db, settings, back, { ...pending, state: 'another' })).rejects.toMatchObject({
      reason: 'failed',
    });
  });

  it('maps claim values, as an array or a space-separated string', () => {
    const roles = settings.roles;
    expect(rolesFromClaim(['rewind-agents', 'x'], roles)).toEqual(['agent']);
    expect(rolesFromClaim('rewind-agents rewind-admins', roles)).toEqual(['admin', 'agent']);
    expect(rolesFromClaim(undefined, roles)).toEqual([]);
    expect(rolesFromClaim([{ toString: () => 'rewind-admins' }], roles)).toEqual([]);
  });
});
