import { expect, test } from '@playwright/test';
import { apiToken, deviceOf, keepScreenshot, signInAs, simHandsets } from './support';

test('an admin erases a subscriber after typing their name; an agent is not offered it; the subscriber is gone', async ({
  page,
  browser,
  request,
}, testInfo) => {
  const [devId] = simHandsets(testInfo, { devices: 1, seed: 7741, backup: true });
  const { subscriberId } = await deviceOf(request, devId!);

  // An agent sees the subscriber but no erase.
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  await signInAs(agent, 'agent');
  await agent.goto(`/subscribers/${subscriberId}`);
  await expect(agent.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(agent.getByRole('button', { name: 'Erase subscriber…' })).toHaveCount(0);
  await agentContext.close();

  await signInAs(page, 'admin');
  await page.goto(`/subscribers/${subscriberId}`);
  const name = (await page.getByRole('heading', { level: 1 }).textContent())!.trim();
  await page.getByRole('button', { name: 'Erase subscriber…' }).click();
  const confirm = page.getByRole('button', { name: 'Erase this subscriber and all their backups' });
  await page.getByLabel(`Type “${name}” to confirm`).fill('someone else');
  await expect(confirm).toBeDisabled();
  await page.getByLabel(`Type “${name}” to confirm`).fill(name);
  await keepScreenshot(page, testInfo, 'erase-subscriber');
  await confirm.click();
  await expect(page.locator('[data-toast="success"]', { hasText: `Erased ${name}` })).toBeVisible({ timeout: 15_000 });
  await expect(page).toHaveURL(/\/$/);

  const gone = await page.goto(`/subscribers/${subscriberId}`);
  expect(gone?.status()).toBe(404);
  const api = await request.get(`/api/v1/devices/${encodeURIComponent(devId!)}`, {
    headers: { authorization: `Bearer ${apiToken()}` },
  });
  expect(api.status()).toBe(404);
  await page.goto('/audit?action=subscriber.erased');
  await expect(page.locator('td', { hasText: 'subscriber.erased' }).first()).toBeVisible();
});
