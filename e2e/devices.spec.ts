import fs from 'node:fs';
import { randomInt } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { keepScreenshot, rewind, signInAs } from './support';

/**
 * The admins' device list: a model of this spec's own with 53 handsets (more than a page),
 * filtered by model, sorted by firmware both ways, paged, saved as a view and reopened from
 * it, and downloaded as CSV with every matching handset.
 */
test('an admin filters the device list by model, sorts, pages, saves the view and downloads its CSV', async ({
  page,
}, testInfo) => {
  const tag = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const model = `E2E-${tag}`;
  const n = 53;
  const csv = [
    'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass,firmware',
    ...Array.from({ length: n }, (_, i) => {
      const k = String(i).padStart(2, '0');
      // Versions 1.1.0 … 1.53.0: sorted as versions, 1.9.0 comes before 1.10.0.
      return `IMEI:35${tag}9000${k}0,Nimbus,${model},4477${tag}${k},"Listed, ${k}",rewind,md5,l${tag}${k},client-pass,server-pass,1.${i + 1}.0`;
    }),
  ].join('\n');
  const file = testInfo.outputPath('devices.csv');
  fs.writeFileSync(file, `${csv}\n`);
  rewind(['device', 'import', file]);

  await signInAs(page, 'admin');
  await page.goto('/devices');
  await expect(page.getByRole('heading', { level: 1, name: 'Devices' })).toBeVisible();

  // Filter by model: the GET form puts it in the address.
  await page.getByLabel('Model').selectOption(model);
  await page.getByRole('button', { name: 'Show devices' }).click();
  await expect(page).toHaveURL(new RegExp(`model=${model}`));
  await expect(page.getByRole('region', { name: `${n} handsets match` })).toBeVisible();
  const list = page.locator('form#device-selection');
  const rows = list.locator('tbody tr');
  await expect(rows).toHaveCount(50);

  // Sort by firmware, as versions; again for descending.
  await list.getByRole('link', { name: 'Firmware', exact: true }).click();
  await expect(page).toHaveURL(/sort=firmware/);
  await expect(rows.first()).toContainText('1.1.0');
  await expect(rows.nth(8)).toContainText('1.9.0');
  await expect(rows.nth(9)).toContainText('1.10.0');
  await list.getByRole('link', { name: 'Firmware ↑' }).click();
  await expect(page).toHaveURL(/dir=desc/);
  await expect(rows.first()).toContainText('1.53.0');
  await keepScreenshot(page, testInfo, 'devices');

  // The next page holds the last three; the first page link goes back.
  await page.getByRole('link', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/cursor=/);
  await expect(rows).toHaveCount(3);
  await expect(rows.last()).toContainText('1.1.0');
  await page.getByRole('link', { name: 'First page' }).click();
  await expect(rows).toHaveCount(50);
  await expect(rows.first()).toContainText('1.53.0');

  // Each IMEI links to its device.
  const imei = `IMEI:35${tag}9000520`;
  await expect(rows.first().getByRole('link', { name: imei })).toHaveAttribute('href', /^\/devices\/[0-9a-f-]{36}$/);

  // Save the view, leave, and open it again from its link.
  const viewName = `Newest firmware ${tag}`;
  await page.getByLabel('Save this view as').fill(viewName);
  await page.getByRole('button', { name: 'Save view' }).click();
  const views = page.getByRole('list', { name: 'Saved views' });
  await expect(views.getByRole('link', { name: viewName })).toBeVisible();
  await page.goto('/devices');
  await views.getByRole('link', { name: viewName }).click();
  await expect(page).toHaveURL(new RegExp(`model=${model}`));
  await expect(page).toHaveURL(/sort=firmware/);
  await expect(page).toHaveURL(/dir=desc/);
  await expect(page.getByRole('region', { name: `${n} handsets match` })).toBeVisible();
  await expect(rows.first()).toContainText('1.53.0');

  // The CSV holds every matching handset, not just this page, in the list's order.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  const lines = fs
    .readFileSync((await download.path())!, 'utf8')
    .trim()
    .split('\r\n');
  expect(lines[0]).toBe(
    'devId,manufacturer,model,firmware,subscriberId,subscriber,policyId,lastGoodBackup,coverage,lastSeen,openAlerts',
  );
  expect(lines).toHaveLength(n + 1);
  expect(lines[1]).toContain(`,${model},1.53.0,`);
  expect(lines[1]).toContain('"Listed, 52"');
  expect(lines[n]).toContain(`,${model},1.1.0,`);
  expect(lines.slice(1).every((l) => l.includes(',never,'))).toBe(true);
});
