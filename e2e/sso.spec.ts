/**
 * Single sign-on in a real browser: a real OpenID Connect provider in this process
 * (test/support/oidc-provider.ts) and a Rewind server of this spec's own configured for it
 * (the shared e2e server has no OIDC settings). An agent and an admin sign in through the
 * provider's login form and land in the console with their roles; someone whose groups map
 * to no role is sent back to the sign-in page with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startOidcProvider, type TestOidcProvider } from '../test/support/oidc-provider';

const PORT = Number(process.env.E2E_PORT ?? 3210) + 1;
const BASE = `http://127.0.0.1:${PORT}`;
let idp: TestOidcProvider;
let server: ChildProcess;
let dataDir: string;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  idp = await startOidcProvider({
    redirectUri: `${BASE}/auth/oidc/callback`,
    accounts: {
      ada: { email: 'ada.sso@example.org', groups: ['rewind-agents'] },
      grace: { email: 'grace.sso@example.org', groups: ['rewind-agents', 'rewind-admins'] },
      eve: { email: 'eve.sso@example.org', groups: ['marketing'] },
    },
  });
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-e2e-sso-'));
  server = spawn(path.resolve('node_modules/.bin/tsx'), ['scripts/start.ts', '--no-build'], {
    env: {
      ...process.env,
      PORT: String(PORT),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      NEXT_TELEMETRY_DISABLED: '1',
      OIDC_ISSUER: idp.issuer,
      OIDC_CLIENT_ID: idp.clientId,
      OIDC_CLIENT_SECRET: idp.clientSecret,
      OIDC_REDIRECT_URL: `${BASE}/auth/oidc/callback`,
      OIDC_SCOPES: 'openid email groups',
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_ROLES: 'rewind-admins:admin,rewind-agents:agent',
      OIDC_NAME: 'Example SSO',
    },
    stdio: 'ignore',
  });
  for (let i = 0; ; i++) {
    const up = await fetch(`${BASE}/api/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (i > 240) throw new Error('the SSO server did not start');
    await new Promise((r) => setTimeout(r, 500));
  }
});

test.afterAll(async () => {
  if (server?.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await exited;
  }
  await idp?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function signInThroughProvider(page: Page, login: string): Promise<void> {
  await page.goto(`${BASE}/sign-in`);
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
  // The provider's own (development) login form.
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any');
  await page.locator('button[type="submit"]').click();
}

test('an agent and an admin sign in through the provider, with the roles their groups give', async ({ page }) => {
  await signInThroughProvider(page, 'ada');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  await expect(page.getByText('ada.sso@example.org · agent')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('link', { name: 'Sign in with Example SSO' })).toBeVisible();

  // Another person at the same browser: the provider's own session (its cookies) goes too.
  await page.context().clearCookies();
  await signInThroughProvider(page, 'grace');
  await expect(page.getByText('grace.sso@example.org · admin')).toBeVisible();
  await page.goto(`${BASE}/admin/users`);
  await expect(page.getByRole('cell', { name: 'ada.sso@example.org' })).toBeVisible();
});

test('someone whose groups give no role is refused with the reason', async ({ page }) => {
  await signInThroughProvider(page, 'eve');
  await expect(page).toHaveURL(/\/sign-in\?sso=no-role/);
  await expect(page.getByRole('alert').filter({ hasText: 'Example SSO' })).toContainText(
    'has no role in Rewind: ask an administrator to add you to one of rewind-admins, rewind-agents',
  );
});
