import { expect, test } from '@playwright/test';
import { keepConnected } from './live-handsets';
import { apiToken, deviceOf, keepScreenshot, rewind, signInAs, simHandsets } from './support';

const SEED = 7101;
let live: { stop: () => void } | undefined;

test.afterAll(() => live?.stop());

test('an agent finds the subscriber by MSISDN, opens the handset, runs the restore wizard, watches the job complete while the handset accepts, and diffs the backups', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  const device = await deviceOf(request, devId!);
  const snapshots = JSON.parse(rewind(['snapshots', devId!, '--json'])) as Array<{ id: string; status: string }>;
  const snapshot = snapshots.find((s) => s.status === 'complete')!;
  expect(snapshot).toBeDefined();
  // The handset stays connected from now on, so the restore completes while the page watches.
  live = keepConnected(testInfo, { seed: SEED, devices: 1 });

  const who = await request.get(`/api/v1/subscribers/${device.subscriberId}`, {
    headers: { authorization: `Bearer ${apiToken()}` },
  });
  const { subscriber } = (await who.json()) as { subscriber: { name: string; msisdns: string[] } };
  const msisdn = subscriber.msisdns[0]!;

  // As a care agent would: the number the caller gives, in national form, then their handset.
  await signInAs(page, 'agent');
  await page.goto('/');
  await page
    .getByLabel('MSISDN, IMEI, name or email')
    .pressSequentially(`0${msisdn.slice(2, 6)} ${msisdn.slice(6)}`, { delay: 20 });
  await page
    .getByRole('list', { name: 'Subscribers found' })
    .getByRole('listitem')
    .filter({ hasText: subscriber.name })
    .getByRole('link')
    .first()
    .click();
  await expect(page.getByRole('heading', { level: 1, name: subscriber.name })).toBeVisible();
  await page.getByRole('region', { name: 'Handsets' }).getByRole('link', { name: devId! }).click();
  await expect(page).toHaveURL(new RegExp(`/devices/${device.id}$`));
  await expect(page.getByRole('img', { name: /backup/i }).first()).toBeVisible(); // the timeline chart
  // The newest backup's Restore link.
  await page.getByRole('link', { name: 'Restore' }).first().click();
  await expect(page).toHaveURL(new RegExp(`/devices/${device.id}/restore\\?snapshot=[0-9a-f-]{36}$`));
  const chosen = new URL(page.url()).searchParams.get('snapshot')!;
  await expect(page.getByRole('heading', { name: 'Restore', exact: true })).toBeVisible();
  await expect(page.getByLabel('Backup')).toHaveValue(chosen);

  // Two whole categories.
  await page.getByRole('checkbox', { name: 'Settings', exact: true }).check();
  await page.getByRole('checkbox', { name: 'Ringtones, wallpapers and screensavers', exact: true }).check();
  await expect(page.getByRole('radio', { name: new RegExp(devId!) })).toBeChecked();
  await keepScreenshot(page, testInfo, 'restore-wizard');

  await page.getByRole('button', { name: 'Preview the restore' }).click();
  const preview = page.getByRole('region', { name: 'Preview: what this restore will do' });
  await expect(preview).toBeVisible();
  await expect(preview.getByText('Data to send')).toBeVisible();
  await expect(preview.getByTestId('prompt-text')).toContainText(
    /^Restore (settings|ringtones, wallpapers and screensavers), (settings|ringtones, wallpapers and screensavers) from your backup of \d{4}-\d\d-\d\d \(\d/,
  );
  await expect(preview.getByRole('list', { name: 'Choices' })).toContainText('Later on Wi-Fi');
  await expect(preview).toContainText('1101');
  await expect(preview.getByText('Cost')).toBeVisible();
  await keepScreenshot(page, testInfo, 'restore-preview');

  await preview.getByRole('button', { name: 'Confirm and start the restore' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]+$/);
  await expect(page.getByText('Restore started')).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Restore progress' })).toBeVisible();
  const url = page.url();

  // The page follows the job by itself: the safety backup, the consent, every item.
  await expect(page.getByText('Finished: everything read back as it was written.')).toBeVisible({ timeout: 120_000 });
  expect(page.url()).toBe(url);
  await expect(page.getByRole('progressbar', { name: 'Restore progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(page.getByRole('region', { name: 'Consent on the handset' })).toContainText('accepted');
  await expect(page.getByRole('region', { name: 'Safety backup first' })).toContainText('succeeded');
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByText('verified')
      .first(),
  ).toBeVisible();
  await keepScreenshot(page, testInfo, 'restore-job-succeeded');

  // The safety backup is on the timeline now: diff it with the backup restored from.
  await page.goto(`/devices/${device.id}`);
  await page.getByRole('link', { name: 'Diff with previous' }).first().click();
  await expect(page).toHaveURL(new RegExp(`/devices/${device.id}/diff\\?from=`));
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await keepScreenshot(page, testInfo, 'diff-after-restore');
});
