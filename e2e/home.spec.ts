import { expect, test } from '@playwright/test';
import { keepScreenshot, signInAs } from './support';

test('the console is behind sign-in, and an agent sees the fleet status', async ({ page }, testInfo) => {
  await page.goto('/fleet');
  await expect(page).toHaveURL(/\/sign-in$/);
  await signInAs(page, 'agent');
  await page.goto('/fleet');
  // The fleet status's figure (the menu has a Devices link too).
  await expect(page.locator('#main').getByText('Devices', { exact: true })).toBeVisible();
  await keepScreenshot(page, testInfo, 'fleet');
});

test('the API publishes its OpenAPI document and refuses requests without a token', async ({ request }) => {
  const doc = await request.get('/api/v1/openapi.json');
  expect(doc.ok()).toBe(true);
  // Security headers on every answer of the console and the API.
  expect(doc.headers()['x-content-type-options']).toBe('nosniff');
  expect(doc.headers()['x-frame-options']).toBe('DENY');
  expect(doc.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
  expect((await doc.json()).openapi).toBe('3.1.0');
  const devices = await request.get('/api/v1/devices');
  expect(devices.status()).toBe(401);
});

test('the DM endpoint refuses a GET and a non-SyncML body with clear errors', async ({ request }) => {
  expect((await request.get('/dm')).status()).toBe(405);
  const r = await request.post('/dm', { data: 'hello', headers: { 'content-type': 'text/plain' } });
  expect(r.status()).toBe(415);
});
