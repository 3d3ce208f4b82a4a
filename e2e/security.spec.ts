/**
 * Requests another site makes with the admin's session cookie change nothing: a server action
 * (its real Next-Action id and body, taken from the tokens page's own form) and a route handler
 * (the catalog's package upload). The same requests from the console's own origin work, which
 * shows it is the origin that is refused, through server.ts's node:http front.
 */
import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { apiToken, signInAs } from './support';

const FOREIGN = 'https://evil.example';

/** The server action request the tokens page's form sends for a token called `name`, captured and kept from the server. */
async function captureCreateToken(
  page: Page,
  name: string,
): Promise<{ url: string; headers: Record<string, string>; body: Buffer }> {
  await page.goto('/admin/tokens');
  const form = page.getByRole('button', { name: 'Create token' });
  await expect(form).toBeEnabled();
  let captured: { url: string; headers: Record<string, string>; body: Buffer } | undefined;
  await page.route('**/admin/tokens', async (route) => {
    const req = route.request();
    if (req.method() === 'POST' && req.headers()['next-action']) {
      captured = { url: req.url(), headers: req.headers(), body: req.postDataBuffer() ?? Buffer.alloc(0) };
      await route.abort();
    } else await route.continue();
  });
  await page.getByLabel('Name').fill(name);
  await form.click();
  await expect.poll(() => captured !== undefined).toBe(true);
  await page.unroute('**/admin/tokens');
  return captured!;
}

/** How many tokens of this name the tokens page lists. */
async function tokensNamed(page: Page, name: string): Promise<number> {
  await page.goto('/admin/tokens');
  return page.getByRole('cell', { name, exact: true }).count();
}

test('a server action posted from another origin with the session cookie is refused and creates nothing; from the console it works', async ({
  page,
  baseURL,
}) => {
  await signInAs(page, 'admin');
  const name = `e2e-origin-${randomUUID().slice(0, 8)}`;
  const action = await captureCreateToken(page, name);
  expect(action.headers['next-action']).toMatch(/^[0-9a-f]{40,}$/);
  expect(await tokensNamed(page, name)).toBe(0);

  // Only what a page on another site could send: its Origin, the browser's cookie, the action's own headers.
  const send = (extra: Record<string, string>) =>
    page.request.post(action.url, {
      headers: {
        'next-action': action.headers['next-action']!,
        'content-type': action.headers['content-type']!,
        accept: 'text/x-component',
        ...extra,
      },
      data: action.body,
      maxRedirects: 0,
    });
  const foreign = await send({ origin: FOREIGN });
  expect(foreign.ok()).toBe(false);
  expect(await tokensNamed(page, name)).toBe(0);

  const own = await send({ origin: baseURL! });
  expect(own.status()).toBe(200);
  expect(await own.text()).toContain(name);
  expect(await tokensNamed(page, name)).toBe(1);
});

test('a package upload from another origin, or marked cross-site, is refused with 403 and publishes nothing; from the console it is published', async ({
  page,
  baseURL,
}) => {
  await signInAs(page, 'admin');
  const appId = `com.e2e.origin${randomUUID().slice(0, 8)}`;
  const upload = (headers: Record<string, string>) =>
    page.request.post(`/admin/catalog/upload?kind=app&appId=${appId}&name=Origin&version=1.0.0`, {
      headers: { 'content-type': 'application/octet-stream', ...headers },
      data: Buffer.from('PK\u0003\u0004 a package'),
    });
  const published = async () => {
    const r = await page.request.get('/api/v1/catalog/apps', { headers: { authorization: `Bearer ${apiToken()}` } });
    expect(r.ok()).toBe(true);
    return ((await r.json()) as { apps: Array<{ appId: string }> }).apps.filter((a) => a.appId === appId).length;
  };

  const foreign = await upload({ origin: FOREIGN });
  expect(foreign.status()).toBe(403);
  expect(((await foreign.json()) as { error: string }).error).toMatch(/another origin/);
  const marked = await upload({ origin: baseURL!, 'sec-fetch-site': 'cross-site' });
  expect(marked.status()).toBe(403);
  const opaque = await upload({ origin: 'null' });
  expect(opaque.status()).toBe(403);
  expect(await published()).toBe(0);

  const own = await upload({ origin: baseURL!, 'sec-fetch-site': 'same-origin' });
  expect(own.status()).toBe(201);
  expect(await published()).toBe(1);
});

test('pages carry a Content-Security-Policy with a fresh nonce on their scripts, and the console works under it', async ({
  page,
  request,
}) => {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to (load|execute)/i.test(m.text())) violations.push(m.text());
  });
  const nonceOf = (csp: string | undefined) => /'nonce-([^']+)'/.exec(csp ?? '')?.[1];
  const first = await request.get('/sign-in');
  const second = await request.get('/sign-in');
  const nonce = nonceOf(first.headers()['content-security-policy']);
  expect(nonce).toBeTruthy();
  expect(nonceOf(second.headers()['content-security-policy'])).not.toBe(nonce);
  expect(first.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+' 'strict-dynamic'/);
  // Next puts the request's nonce on every script it writes.
  const html = await first.text();
  const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
  expect(scripts.length).toBeGreaterThan(0);
  for (const tag of scripts) expect(tag).toContain(`nonce="${nonce}"`);

  // Signing in (a client form) and a page of client components work with nothing refused.
  await signInAs(page, 'admin');
  await page.goto('/admin/tokens');
  await expect(page.getByRole('button', { name: 'Create token' })).toBeEnabled();
  expect(violations).toEqual([]);
});

test('without TLS configuration a client saying https gets no HSTS and no Secure cookie', async ({ browser }) => {
  const context = await browser.newContext({ extraHTTPHeaders: { 'x-forwarded-proto': 'https' } });
  const page = await context.newPage();
  const res = await page.request.get('/sign-in');
  expect(res.headers()['strict-transport-security']).toBeUndefined();
  await signInAs(page, 'agent');
  const cookie = (await context.cookies()).find((c) => c.name === 'rewind_session');
  expect(cookie).toBeDefined();
  expect(cookie!.secure).toBe(false);
  await context.close();
});

test('a path whose percent-encoding does not decode is a 400 with the security headers, JSON under /api', async ({
  request,
}) => {
  const api = await request.get('/api/v1/jobs/%E0%A4%A');
  expect(api.status()).toBe(400);
  expect(((await api.json()) as { error: { code: string } }).error.code).toBe('bad-path');
  const page = await request.get('/devices/%C0%AE');
  expect(page.status()).toBe(400);
  for (const res of [api, page]) {
    expect(res.headers()['x-frame-options']).toBe('DENY');
    expect(res.headers()['x-content-type-options']).toBe('nosniff');
    expect(res.headers()['content-security-policy']).toMatch(/default-src 'none'/);
  }
});
