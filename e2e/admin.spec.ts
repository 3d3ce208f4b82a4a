import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { keepScreenshot, signInAs, simHandsets } from './support';

const DAY = 86_400_000;

async function toast(page: Page, text: string) {
  await expect(page.locator('[data-toast="success"]', { hasText: text })).toBeVisible();
}

async function nextBackupOf(page: Page): Promise<number> {
  const t = page.getByTestId('handset-next-backup').locator('time[data-next-backup]');
  return Number(await t.getAttribute('data-next-backup'));
}

test('an admin gives a handset its own policy, changes its interval and sees the next backup move; the audit log has it', async ({
  page,
  browser,
}, testInfo) => {
  const [devId] = simHandsets(testInfo, { devices: 1, seed: 7305, backup: true });
  const admin = await signInAs(page, 'admin');
  const tag = randomUUID().slice(0, 6);
  const group = `e2e-${tag}`;
  const policy = `E2E weekly ${tag}`;

  await page.goto('/admin/policies');
  await expect(page.getByRole('heading', { name: 'Backup policies' })).toBeVisible();
  await keepScreenshot(page, testInfo, 'admin-policies');

  // The handset joins a group of this spec's own (so no other handset's schedule changes).
  const groups = page.getByRole('region', { name: 'Device groups' });
  await groups.getByLabel('Handset DevId').fill(devId!);
  await groups.getByLabel('Group', { exact: true }).fill(group);
  await groups.getByRole('button', { name: 'Set group' }).click();
  await toast(page, 'Group set');

  // A weekly policy, assigned to that group.
  await page.getByRole('link', { name: 'New policy' }).click();
  const editor = page.getByRole('region', { name: 'New policy' });
  await editor.getByLabel('Name', { exact: true }).fill(policy);
  await editor.getByLabel('Back up every').fill('7');
  await editor.getByLabel('Unit').selectOption('days');
  await editor.getByRole('button', { name: 'Create policy' }).click();
  await toast(page, 'Policy created');
  const assign = page.getByRole('region', { name: 'Assignments' });
  await assign.getByLabel('Assign to').selectOption({ label: 'a device group' });
  await assign.getByLabel('Model or group').fill(group);
  await assign.getByLabel('Policy', { exact: true }).selectOption({ label: policy });
  await assign.getByRole('button', { name: 'Assign' }).click();
  await toast(page, 'Policy assigned');
  await expect(assign.getByRole('row').filter({ hasText: group })).toContainText(policy);

  // Edit it, and check the handset: it follows the new policy, through its group.
  await page.getByRole('link', { name: `Edit ${policy}` }).click();
  await page.getByRole('textbox', { name: 'Check a handset' }).fill(devId!);
  await page.getByRole('button', { name: 'Check' }).click();
  const check = page.getByTestId('handset-next-backup');
  await expect(check).toContainText(policy);
  await expect(check).toContainText(`group ${group}`);
  const before = await nextBackupOf(page);
  await expect(
    page.getByRole('region', { name: 'Next backups' }).getByRole('row').filter({ hasText: devId! }),
  ).toBeVisible();
  await keepScreenshot(page, testInfo, 'admin-policy-preview');

  // Every 2 days instead of 7: the next backup comes 5 days sooner.
  const edit = page.getByRole('region', { name: `Edit ${policy}` });
  await edit.getByLabel('Back up every').fill('2');
  await edit.getByRole('button', { name: 'Save policy' }).click();
  await toast(page, 'Policy saved');
  await expect.poll(() => nextBackupOf(page)).toBe(before - 5 * DAY);
  await expect(page.getByRole('row').filter({ hasText: policy }).first()).toContainText('every 2 days');
  await keepScreenshot(page, testInfo, 'admin-policy-saved');

  // The audit log shows the change, and exports it.
  await page.goto('/audit');
  await page.getByLabel('Person').fill(admin);
  await page.getByLabel('Action').fill('policy.*');
  await page.getByRole('button', { name: 'Filter' }).click();
  const row = page.getByRole('row').filter({ hasText: 'policy.updated' });
  await expect(row).toContainText(admin);
  await expect(row).toContainText(policy);
  await expect(page.getByRole('row').filter({ hasText: 'policy.assigned' })).toBeVisible();
  await keepScreenshot(page, testInfo, 'audit-log');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  const csv = fs.readFileSync((await download.path())!, 'utf8');
  const lines = csv.trim().split('\r\n');
  expect(lines[0]).toBe('at,actor,action,device,details');
  expect(lines.some((l) => l.includes('policy.updated') && l.includes(admin))).toBe(true);
  expect(lines.slice(1).every((l) => l.includes(admin) && /,policy\./.test(l))).toBe(true);

  // An agent is sent away from the admin pages.
  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  await signInAs(agent, 'agent');
  await agent.goto('/admin/policies');
  await expect(agent).toHaveURL(/\/$/);
  await expect(agent.getByRole('heading', { name: 'Backup policies' })).toHaveCount(0);
  await expect(agent.getByRole('link', { name: 'Policies' })).toHaveCount(0);
  await agentContext.close();
});

test('every admin page and the fleet overview open', async ({ page }, testInfo) => {
  await signInAs(page, 'admin');
  for (const [path, heading, shot] of [
    ['/admin/models', 'Models and backup profiles', 'admin-models'],
    ['/admin/catalog', 'Firmware and app catalog', 'admin-catalog'],
    ['/admin/users', 'Users', 'admin-users'],
    ['/admin/tokens', 'API tokens', 'admin-tokens'],
    ['/admin/api', 'Rewind API reference', 'admin-api'],
    ['/fleet', 'Fleet overview', 'fleet'],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
    await keepScreenshot(page, testInfo, shot);
  }
  // A token is shown once, with a copy button.
  await page.goto('/admin/tokens');
  await page.getByLabel('Name', { exact: true }).fill(`e2e ${randomUUID().slice(0, 6)}`);
  await page.getByRole('button', { name: 'Create token' }).click();
  await toast(page, 'Token created');
  await expect(page.getByLabel('New API token')).toHaveValue(/^rw_/);
  await expect(page.getByRole('button', { name: 'Copy' })).toBeVisible();
});
