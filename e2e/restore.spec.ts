import { expect, test } from '@playwright/test';
import { keepConnected } from './live-handsets';
import { apiToken, deviceOf, keepScreenshot, rewind, signInAs, simHandsets, useHandset } from './support';

const SEED = 7101;
const NEWER_SEED = 7103;
const live: Array<{ stop: () => void }> = [];

test.afterAll(() => live.forEach((l) => l.stop()));

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
  // Since that backup its user lost a ringtone and picked another theme.
  const ringtone = useHandset(SEED, devId!).children('./AppData/Ringtones')[0]!;
  useHandset(SEED, devId!, { [`./AppData/Ringtones/${ringtone}`]: null, './Settings/Display/Theme': 'e2e-solarized' });
  // The handset stays connected from now on, so the restore completes while the page watches.
  live.push(keepConnected(testInfo, { seed: SEED, devices: 1 }));

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
  // The backup taken before the user changed things (the live handset may have been backed up since).
  await page.getByLabel('Backup').selectOption(snapshot.id);

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
  // Compared with the handset as last backed up; the safety backup will be the last word.
  await expect(preview.getByTestId('plan-summary')).toContainText(/Unchanged \d+/);
  await expect(preview).toContainText('checked again against the safety backup');
  await keepScreenshot(page, testInfo, 'restore-preview');

  const start = preview.getByRole('button', { name: 'Confirm and start the restore' });
  await expect(start).toBeDisabled(); // no reason yet
  await preview.getByLabel('Why? A reason or a ticket reference').fill('ticket 7101: ringtone lost');
  await start.click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]+$/);
  await expect(page.getByText('Restore started')).toBeVisible();
  await expect(page.getByRole('progressbar', { name: 'Restore progress' })).toBeVisible();
  const url = page.url();

  // The page follows the job by itself: the safety backup, the consent, every item.
  await expect(page.getByText(/^Finished: /)).toBeVisible({ timeout: 120_000 });
  expect(page.url()).toBe(url);
  await expect(page.getByText('ticket 7101: ringtone lost')).toBeVisible();
  // Only what differed went: the lost ringtone and the theme, nothing else.
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByRole('row')
      .filter({ hasText: `./AppData/Ringtones/${ringtone}` }),
  ).toContainText('verified');
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByRole('row')
      .filter({ hasText: './Settings/Display/Theme' }),
  ).toContainText('verified');
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByRole('row')
      .filter({ hasText: 'verified' }),
  ).toHaveCount(2);
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

test('an agent sees each change before it happens, keeps a value the user changed since the backup, and undoes the restore from the job page', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const [devId] = simHandsets(testInfo, { devices: 1, seed: NEWER_SEED, backup: true });
  const device = await deviceOf(request, devId!);
  const [old] = JSON.parse(rewind(['snapshots', devId!, '--json'])) as Array<{ id: string }>;
  // After that backup the user picks a theme and a ringtone of their own; the next backup sees them.
  useHandset(NEWER_SEED, devId!, {
    './Settings/Display/Theme': 'e2e-midnight',
    './Settings/Sound/Ringtone': 'e2e-Breeze',
  });
  simHandsets(testInfo, { devices: 1, seed: NEWER_SEED, backup: true });
  live.push(keepConnected(testInfo, { seed: NEWER_SEED, devices: 1 }));

  await signInAs(page, 'agent');
  await page.goto(`/devices/${device.id}/restore?snapshot=${old!.id}`);
  await expect(page.getByLabel('Backup')).toHaveValue(old!.id);
  await page.getByRole('checkbox', { name: 'Settings', exact: true }).check();
  await page.getByRole('button', { name: 'Preview the restore' }).click();
  const preview = page.getByRole('region', { name: 'Preview: what this restore will do' });
  await expect(preview.getByTestId('plan-summary')).toContainText('Will change 2');
  await expect(preview.getByTestId('plan-summary')).toContainText('Newer kept 0');
  // Each change as before → after, and flagged: the handset changed it after the backup.
  const theme = preview.getByTestId('change').filter({ hasText: 'Display/Theme' });
  await expect(theme).toContainText(/e2e-midnight → \S+/);
  await expect(theme.getByTestId('newer')).toContainText(
    /Newer on the handset: Theme changed \d{4}-\d\d-\d\d, e2e-midnight → /,
  );
  await expect(preview.getByRole('checkbox', { name: 'Keep the handset’s newer values' })).not.toBeChecked();
  await keepScreenshot(page, testInfo, 'restore-preview-newer');

  // Keep the theme the user chose; the ringtone goes back.
  // The choice changes the plan, so the preview is made again with it (a click, then the new counts).
  await theme.getByRole('checkbox', { name: 'keep the handset’s value' }).click();
  await expect(preview.getByTestId('plan-summary')).toContainText('Will change 1');
  await expect(preview.getByTestId('plan-summary')).toContainText('Newer kept 1');
  await expect(preview.getByTestId('change').filter({ hasText: 'Display/Theme' })).toContainText('kept');
  await preview.getByLabel('Why? A reason or a ticket reference').fill('ticket 7103: ringtone back');
  await preview.getByRole('button', { name: 'Confirm and start the restore' }).click();
  await page.waitForURL(/\/jobs\/[0-9a-f-]+$/);
  await expect(page.getByText(/^Finished: /)).toBeVisible({ timeout: 120_000 });
  const items = page.getByRole('region', { name: /^Items/ });
  await expect(items.getByRole('row').filter({ hasText: './Settings/Sound/Ringtone' })).toContainText('verified');
  await expect(items.getByRole('row').filter({ hasText: './Settings/Display/Theme' })).toHaveCount(0);
  await keepScreenshot(page, testInfo, 'restore-kept-newer');

  // Undo: the same preview, from the safety backup, run from the job page.
  await page.getByRole('button', { name: 'Put it back as it was before this restore' }).click();
  const undo = page.getByRole('region', { name: 'Preview: putting the handset back as it was before the restore' });
  await expect(undo.getByTestId('plan-summary')).toContainText('Will change 1');
  await expect(undo.getByTestId('change').filter({ hasText: 'Sound/Ringtone' })).toContainText(/→ e2e-Breeze/);
  await keepScreenshot(page, testInfo, 'restore-undo-preview');
  await undo.getByLabel('Why? A reason or a ticket reference').fill('the customer wanted Breeze after all');
  await undo.getByRole('button', { name: 'Confirm and put it back' }).click();
  await expect(page.getByText('Undo started')).toBeVisible();
  await expect(page.getByText('the customer wanted Breeze after all')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText(/^Finished: /)).toBeVisible({ timeout: 120_000 });
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByRole('row')
      .filter({ hasText: './Settings/Sound/Ringtone' }),
  ).toContainText('verified');
  await keepScreenshot(page, testInfo, 'restore-undone');
});
