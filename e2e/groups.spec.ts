import { randomUUID } from 'node:crypto';
import { expect, test, type Page } from '@playwright/test';
import { addDevice, keepScreenshot, signInAs } from './support';

async function toast(page: Page, text: string) {
  await expect(page.locator('[data-toast="success"]', { hasText: text })).toBeVisible();
}

test('an admin makes a rule group for a model, assigns it a policy and sees how many handsets it matches', async ({
  page,
}, testInfo) => {
  // A maker of the spec's own, so the rule matches only the spec's handsets.
  const tag = randomUUID().slice(0, 6);
  const maker = `E2E ${tag}`;
  const group = `e2e-n1-${tag}`;
  const policy = `E2E group ${tag}`;
  for (const n of ['1', '2']) addDevice({ devId: `E2E-GROUPS-${tag}-${n}`, manufacturer: maker, fw: '1.0' });
  await signInAs(page, 'admin');

  await page.goto('/admin/groups');
  await expect(page.getByRole('heading', { name: 'Device groups' })).toBeVisible();
  const editor = page.getByRole('region', { name: 'New rule group' });
  await editor.getByLabel('Name', { exact: true }).fill(group);
  await editor.getByLabel('Model').selectOption({ label: `${maker} N1` });
  await editor.getByLabel('Firmware up to').fill('9.9');
  await editor.getByRole('button', { name: 'Create group' }).click();
  await toast(page, 'Group created');
  const row = page.getByRole('row').filter({ hasText: group });
  await expect(row).toContainText(`${maker} N1, firmware up to 9.9`);
  await expect(row.getByRole('link', { name: `2 handsets in ${group}` })).toHaveAttribute(
    'href',
    `/devices?group=${encodeURIComponent(group)}`,
  );
  await keepScreenshot(page, testInfo, 'admin-groups');

  await page.goto('/admin/policies?new');
  const form = page.getByRole('region', { name: 'New policy' });
  await form.getByLabel('Name', { exact: true }).fill(policy);
  await form.getByLabel('Back up every').fill('2');
  await form.getByLabel('Unit').selectOption('days');
  await form.getByLabel('Safety backup before updates').uncheck();
  await form.getByRole('button', { name: 'Create policy' }).click();
  await toast(page, 'Policy created');

  const assign = page.getByRole('region', { name: 'Assignments' });
  await assign.getByLabel('Assign to').selectOption({ label: `Device group ${group} (2 handsets)` });
  await assign.getByLabel('Policy', { exact: true }).selectOption({ label: policy });
  await assign.getByRole('button', { name: 'Assign' }).click();
  await toast(page, 'Policy assigned');
  const assigned = assign.getByRole('row').filter({ hasText: group });
  await expect(assigned).toContainText(policy);
  await expect(assign.getByTestId(`matches-group-${group}`)).toHaveText('2');
  // The policy's row: the handsets it applies to now, and no safety backup.
  const policyRow = page.getByRole('region', { name: 'Policies' }).getByRole('row').filter({ hasText: policy });
  await expect(policyRow.getByRole('link', { name: `2 handsets follow ${policy}` })).toBeVisible();
  await expect(policyRow).toContainText('none (no undo)');
  await keepScreenshot(page, testInfo, 'policies-group-assigned');
});
