import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';

/** A user of this spec's own, created with the real CLI on the server's database. */
function seedUser(role: 'admin' | 'agent', password: string): string {
  const email = `e2e-${randomUUID().slice(0, 8)}@rewind.test`;
  execFileSync(
    path.resolve('node_modules/.bin/tsx'),
    ['cli/rewind.ts', 'user', 'add', '--email', email, '--role', role],
    {
      input: `${password}\n`,
      env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  return email;
}

async function fillSignIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/sign-in');
  // The button is enabled once React has hydrated: typing before that races the form's handlers.
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test('an agent signs in through the form, sees the signed-in header, and signs out', async ({ page }, testInfo) => {
  const password = 'e2e agent password';
  const email = seedUser('agent', password);
  await page.goto('/sign-in');
  await expect(page.getByRole('heading', { name: 'Sign in to Rewind' })).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('sign-in.png'), fullPage: true });

  await fillSignIn(page, email, password);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByText(`${email} · agent`)).toBeVisible();
  const cookie = (await page.context().cookies()).find((c) => c.name === 'rewind_session');
  expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
  expect((await page.context().cookies()).find((c) => c.name === 'rewind_session')).toBeUndefined();
  // The old cookie no longer works either: the session row is gone.
  await page.context().addCookies([{ ...cookie!, expires: -1 }]);
  await page.goto('/');
  await expect(page).toHaveURL(/\/sign-in$/);
});

test('a wrong password is refused in plain words, and the email stays in the field', async ({ page }) => {
  const email = seedUser('admin', 'e2e admin password');
  await fillSignIn(page, email, 'not the password');
  // (Next's route announcer is an alert too, hence the filter.)
  await expect(page.getByRole('alert').filter({ hasText: 'The email or password is not right.' })).toBeVisible();
  await expect(page).toHaveURL(/\/sign-in$/);
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expect(page.getByRole('button', { name: 'Sign out' })).toHaveCount(0);
});

test('the portal sends a visitor who is not signed in to the sign-in page', async ({ page }) => {
  await page.goto('/portal');
  await expect(page).toHaveURL(/\/sign-in$/);
});
