/**
 * What every spec needs to seed its own data: the real CLI run on the server's database, and
 * signing in through the real form.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { HandsetStore } from '../sim/store';
import type { DmTree } from '../sim/tree';

/** Runs `rewind <args>` on the e2e server's data directory; its standard output. */
export function rewind(args: string[], opts: { input?: string; timeout?: number } = {}): string {
  return execFileSync(path.resolve('node_modules/.bin/tsx'), ['cli/rewind.ts', ...args], {
    input: opts.input,
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    timeout: opts.timeout ?? 90_000,
  });
}

export const E2E_PASSWORD = 'e2e password of this spec';

/** Provisions a handset through the CLI as an operator would: a Nimbus N1, MD5 both ways. */
export function addDevice(o: {
  devId: string;
  manufacturer?: string;
  fw?: string;
  clientUser?: string;
  clientPass?: string;
  serverPass?: string;
  msisdn?: string;
  subscriber?: string;
  email?: string;
}): void {
  rewind([
    'device',
    'add',
    '--dev-id',
    o.devId,
    '--manufacturer',
    o.manufacturer ?? 'Nimbus Mobile',
    '--model',
    'N1',
    ...(o.fw ? ['--fw', o.fw] : []),
    '--server-id',
    'rewind',
    '--auth',
    'md5',
    '--client-user',
    o.clientUser ?? o.devId,
    '--client-pass',
    o.clientPass ?? 'e2e-client',
    '--server-pass',
    o.serverPass ?? 'e2e-server',
    ...(o.msisdn ? ['--msisdn', o.msisdn] : []),
    ...(o.subscriber ? ['--subscriber', o.subscriber] : []),
    ...(o.email ? ['--email', o.email] : []),
  ]);
}

/** A user of the spec's own (a subscriber user needs the subscriber's id); its email. */
export function seedUser(
  role: 'admin' | 'agent' | 'subscriber',
  opts: { subscriberId?: string; password?: string } = {},
): string {
  const email = `e2e-${role}-${randomUUID().slice(0, 8)}@rewind.test`;
  rewind(
    [
      'user',
      'add',
      '--email',
      email,
      '--role',
      role,
      ...(opts.subscriberId ? ['--subscriber', opts.subscriberId] : []),
    ],
    { input: `${opts.password ?? E2E_PASSWORD}\n`, timeout: 60_000 },
  );
  return email;
}

export async function signIn(page: Page, email: string, password = E2E_PASSWORD): Promise<void> {
  await page.goto('/sign-in');
  // The button is enabled once React has hydrated: typing before that races the form's handlers.
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

/** A new user of `role`, signed in. */
export async function signInAs(
  page: Page,
  role: 'admin' | 'agent' | 'subscriber',
  opts: { subscriberId?: string } = {},
): Promise<string> {
  const email = seedUser(role, opts);
  await signIn(page, email);
  return email;
}

/**
 * Virtual handsets of the spec's own, registered and run by `rewind sim` against the e2e
 * server's /dm (one session each, with a backup when `backup`); their DevIds.
 */
export function simHandsets(
  testInfo: TestInfo,
  opts: { devices: number; seed: number; backup?: boolean; extra?: string[] },
): string[] {
  const base = testInfo.project.use.baseURL!;
  const out = rewind([
    'sim',
    '--server',
    `${base}/dm`,
    '--devices',
    String(opts.devices),
    '--once',
    ...(opts.backup ? ['--backup'] : []),
    '--seed',
    String(opts.seed),
    '--media-scale',
    '0.02',
    '--state-dir',
    path.join(process.env.E2E_DATA_DIR!, `handsets-${opts.seed}`),
    ...(opts.extra ?? []),
  ]);
  expect(out).toMatch(new RegExp(`sessions\\s+${opts.devices} \\(${opts.devices} ok, 0 failed\\)`));
  const devIds = [...out.matchAll(/^\s+(IMEI:\d+)/gm)].map((m) => m[1]!);
  expect(devIds).toHaveLength(opts.devices);
  return devIds;
}

/** A full-page screenshot kept with the test's artifacts. */
export async function keepScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  await page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });
}

let adminToken: string | undefined;
/** An admin API token on the e2e server (one per spec file), for looking things up by the REST API. */
export function apiToken(): string {
  adminToken ??= rewind(['token', 'create', '--role', 'admin', '--name', `e2e ${randomUUID().slice(0, 6)}`]).trim();
  return adminToken;
}

/** The device's record as the REST API shows it: its id (the console's URLs use it) and subscriberId. */
export async function deviceOf(
  request: APIRequestContext,
  devId: string,
): Promise<{ id: string; devId: string; subscriberId: string | null }> {
  const r = await request.get(`/api/v1/devices/${encodeURIComponent(devId)}`, {
    headers: { authorization: `Bearer ${apiToken()}` },
  });
  expect(r.ok()).toBe(true);
  return ((await r.json()) as { device: { id: string; devId: string; subscriberId: string | null } }).device;
}

/**
 * What a handset's user does between sessions (the handset is not running): values set, nodes
 * removed (null), in the state `simHandsets` keeps; its tree as saved.
 */
export function useHandset(seed: number, devId: string, edits: Record<string, string | null> = {}): DmTree {
  const store = new HandsetStore(path.join(process.env.E2E_DATA_DIR!, `handsets-${seed}`));
  const { state, tree } = store.load(devId);
  for (const [p, v] of Object.entries(edits)) {
    if (v === null) tree.remove(p);
    else tree.set(p, v);
  }
  store.save(state, tree);
  return tree;
}
