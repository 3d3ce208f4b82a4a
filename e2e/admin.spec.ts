import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { apiToken, keepScreenshot, signInAs, simHandsets } from './support';

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
  await groups.getByLabel('Group (a list)').fill(group);
  await groups.getByRole('button', { name: 'Add to group' }).click();
  await toast(page, 'Handset added');

  // A weekly policy, assigned to that group.
  await page.getByRole('link', { name: 'New policy' }).click();
  const editor = page.getByRole('region', { name: 'New policy' });
  await editor.getByLabel('Name', { exact: true }).fill(policy);
  await editor.getByLabel('Back up every').fill('7');
  await editor.getByLabel('Unit').selectOption('days');
  await editor.getByRole('button', { name: 'Create policy' }).click();
  await toast(page, 'Policy created');
  const assign = page.getByRole('region', { name: 'Assignments' });
  // A model or group is picked from those that exist, never typed.
  const targets = await assign.getByLabel('Assign to').locator('option').allTextContents();
  expect(targets.some((t) => /^Model \S+/.test(t))).toBe(true); // the handset's model, at least
  expect(targets.every((t) => /^(Choose a model or a group|Model .+|Device group .+)$/.test(t))).toBe(true);
  await assign.getByLabel('Assign to').selectOption({ label: `Device group ${group} (1 handset)` });
  await assign.getByLabel('Policy', { exact: true }).selectOption({ label: policy });
  await assign.getByRole('button', { name: 'Assign' }).click();
  await toast(page, 'Policy assigned');
  await expect(assign.getByRole('row').filter({ hasText: group })).toContainText(policy);

  // Edit it, and check the handset: it follows the new policy, through its group.
  await page.getByRole('link', { name: `Edit ${policy}` }).click();
  // The check keeps the policy being edited: wait for its page before asking.
  await expect(page.getByRole('region', { name: `Edit ${policy}` })).toBeVisible();
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

test('a form keeps what was typed when the server refuses it', async ({ page }) => {
  const existing = await signInAs(page, 'admin');
  await page.goto('/admin/users');
  const add = page.getByRole('region', { name: 'Add a user' });
  await expect(add.getByRole('button', { name: 'Create user' })).toBeEnabled();
  // An email that already has an account: refused by the server, not by the browser.
  await add.getByLabel('Email').fill(existing);
  await add.getByLabel('Role').selectOption('admin');
  await add.getByLabel('Initial password').fill('a long enough password');
  await add.getByRole('button', { name: 'Create user' }).click();
  await expect(add.getByRole('alert').first()).toBeVisible();
  await expect(add.getByLabel('Email')).toHaveValue(existing);
  await expect(add.getByLabel('Role')).toHaveValue('admin');
  await expect(add.getByLabel('Initial password')).toHaveValue('a long enough password');
  // Put right, it goes through and the form empties for the next one.
  const fresh = `e2e-kept-${randomUUID().slice(0, 8)}@rewind.test`;
  await add.getByLabel('Email').fill(fresh);
  await add.getByRole('button', { name: 'Create user' }).click();
  await toast(page, 'User created');
  await expect(add.getByLabel('Email')).toHaveValue('');
});

test('the audit log filters by days and by what a name holds, reads details in words, and pages both ways', async ({
  page,
  request,
}) => {
  // 55 handsets in one bulk provisioning: 55 events of this spec's own token.
  const tag = randomUUID().slice(0, 8);
  const token = apiToken();
  const body = Array.from({ length: 55 }, (_, i) => ({
    devId: `E2E-AUDIT-${tag}-${i}`,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: `u-${tag}-${i}`,
    clientPass: 'p',
    serverPass: 's',
  }));
  const r = await request.post('/api/v1/devices', { data: body, headers: { authorization: `Bearer ${token}` } });
  expect(r.status()).toBe(201);

  await signInAs(page, 'agent');
  const today = new Date().toISOString().slice(0, 10);
  await page.goto('/audit');
  await page.getByLabel('Action').fill('device.provisioned');
  await page.getByLabel('From (UTC day)').fill(today);
  await page.getByLabel('To (UTC day, included)').fill(today);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page.getByText(/start it with \* for everything that holds it/)).toBeVisible();
  const rows = page.getByRole('table', { name: 'Audit events, newest first' }).getByRole('row');
  await expect(rows.nth(1)).toContainText('device.provisioned');
  // Details in words, not JSON.
  await expect(rows.nth(1).locator('dt').first()).toBeVisible();
  await expect(rows.nth(1)).not.toContainText('{"');
  const first = (await rows.nth(1).textContent())!;
  await page.getByRole('link', { name: 'Older' }).click();
  await expect(rows.nth(1)).not.toHaveText(first);
  await page.getByRole('link', { name: 'Newer' }).click();
  await expect(rows.nth(1)).toHaveText(first);
  await expect(page.getByRole('link', { name: 'Newer' })).toHaveCount(0);

  // "Holds": one spec's handsets by part of their DevId, in any case.
  await page.goto('/audit');
  await page.getByLabel('Handset (DevId)').fill(`E2E-AUDIT-${tag}-7`);
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(rows).toHaveCount(2);
  await page.goto(`/audit?actor=${encodeURIComponent('*TOKEN:')}&action=device.provisioned`);
  await expect(rows.nth(1)).toContainText('token:');

  // A day with nothing, and a date the log cannot use.
  await page.goto('/audit?from=2001-01-01&to=2001-01-01');
  await expect(page.getByText('Nothing matches these filters')).toBeVisible();
  await page.goto('/audit?from=2001-02-30');
  await expect(page.getByText(/is not a date: write it as YYYY-MM-DD/)).toBeVisible();
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
