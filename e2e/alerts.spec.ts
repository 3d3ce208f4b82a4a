/**
 * Alerts and webhooks in the console: the bell's count, acknowledging and resolving an alert,
 * adding a webhook (its secret shown once), the test button reaching a real receiver on
 * 127.0.0.1 with a signed body, and the delivery log saying so.
 */
import { createHmac, randomInt, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { addDevice, keepScreenshot, rewind, signInAs } from './support';

const received: Array<{ body: string; signature: string }> = [];
let receiver: http.Server;
let hookUrl: string;

test.beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(req.headers['x-rewind-signature']),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/e2e-hook`;
});
test.afterAll(async () => {
  await new Promise((r) => receiver.close(r));
});

/** Axe (WCAG 2.1 A and AA) on the page as it is: no serious or critical violation. */
async function expectAccessible(page: Page): Promise<void> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
}

/** A handset of this spec's own, and an alert about it as the rules raise one (the server's pass runs every ten minutes). */
function seedAlert(): { devId: string; message: string } {
  const digits = `35467812${String(randomInt(0, 10_000_000)).padStart(7, '0')}`;
  const devId = `IMEI:${digits}`;
  addDevice({ devId });
  const message = `${devId} has not connected for 15 days.`;
  const db = new Database(path.join(process.env.E2E_DATA_DIR!, 'rewind.db'));
  try {
    const { id } = db.prepare('select id from devices where dev_id = ?').get(devId) as { id: string };
    db.prepare(
      `insert into alerts (id, kind, condition_key, device_id, status, message, details, raised_at)
       values (?, 'not-seen', ?, ?, 'open', ?, '{}', ?)`,
    ).run(randomUUID(), `not-seen:${id}:e2e`, id, message, Date.now());
  } finally {
    db.close();
  }
  return { devId, message };
}

test('the bell counts unresolved alerts; an agent acknowledges and resolves one', async ({ page }, testInfo) => {
  const { message } = seedAlert();
  await signInAs(page, 'agent');
  const bell = page.getByRole('link', { name: /^Alerts: \d+ unresolved$/ });
  await expect(bell).toBeVisible();
  const before = Number(/(\d+)/.exec((await bell.getAttribute('aria-label'))!)![1]);
  expect(before).toBeGreaterThan(0);
  await bell.click();
  await expect(page.getByRole('heading', { name: 'Alerts', level: 1 })).toBeVisible();
  const row = page.getByRole('row').filter({ hasText: message });
  await expect(row).toContainText('open');
  await expectAccessible(page);
  await row.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(row).toContainText('acknowledged');
  await keepScreenshot(page, testInfo, 'alert-acknowledged');
  await row.getByRole('button', { name: 'Resolve' }).click();
  await expect(page.getByRole('row').filter({ hasText: message })).toHaveCount(0);
  await expect(page.getByRole('link', { name: `Alerts: ${before - 1} unresolved` })).toBeVisible();
  await page.getByRole('link', { name: 'Resolved', exact: true }).click();
  await expect(page.getByRole('row').filter({ hasText: message })).toContainText('resolved');
});

test('an admin adds a webhook, sends a test, and reads the delivery log', async ({ page }, testInfo) => {
  await signInAs(page, 'admin');
  await page.goto('/admin/webhooks');
  await expect(page.getByRole('button', { name: 'Add webhook' })).toBeEnabled();
  await page.getByLabel('URL').fill(hookUrl);
  await page.getByRole('button', { name: 'Add webhook' }).click();
  const secret = await page.getByLabel('Signing secret').inputValue();
  await expectAccessible(page);
  expect(secret).toMatch(/^whsec_/);
  const row = page.getByRole('row').filter({ hasText: hookUrl });
  await row.getByRole('button', { name: 'Send test' }).click();
  await expect.poll(() => received.length).toBeGreaterThan(0);
  const last = received.at(-1)!;
  expect(JSON.parse(last.body)).toMatchObject({ event: 'webhook.test' });
  expect(last.signature).toBe(`sha256=${createHmac('sha256', secret).update(last.body).digest('hex')}`);
  await row.getByRole('link', { name: hookUrl }).click();
  const log = page.getByRole('row').filter({ hasText: 'webhook.test' });
  await expect(log).toContainText('delivered');
  await expect(log).toContainText('HTTP 200');
  await expectAccessible(page);
  await keepScreenshot(page, testInfo, 'webhook-deliveries');
  rewind(['webhook', 'remove', page.url().split('/').at(-1)!]);
});
