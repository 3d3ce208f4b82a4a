import { expect, test } from '@playwright/test';
import { keepConnected } from './live-handsets';
import { deviceOf, keepScreenshot, signInAs, simHandsets } from './support';

const SEED = 7202;
let live: { stop: () => void } | undefined;

test.afterAll(() => live?.stop());

// Calling a portal action with another subscriber's id is refused in test/portal.test.ts
// (each action, as a signed-in subscriber, with nothing changed); here the browser's side.
test('a subscriber backs up now, restores a ringtone, and cannot open another subscriber’s handset', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  const [otherDevId] = simHandsets(testInfo, { devices: 1, seed: SEED + 1 });
  const mine = await deviceOf(request, devId!);
  const other = await deviceOf(request, otherDevId!);
  expect(mine.subscriberId).not.toBe(other.subscriberId);
  live = keepConnected(testInfo, { seed: SEED, devices: 1 });

  await signInAs(page, 'subscriber', { subscriberId: mine.subscriberId! });
  await page.goto('/portal');
  await expect(page.getByRole('heading', { name: 'My devices' })).toBeVisible();
  await expect(page.getByText(devId!)).toBeVisible();
  await expect(page.getByText(otherDevId!)).toHaveCount(0);
  await keepScreenshot(page, testInfo, 'portal-devices');

  // Back up now: queued, then followed live to the end.
  await page.getByRole('button', { name: /^Back up .* now$/ }).click();
  // The action answers after the job is stored; on a loaded machine that can take a few seconds.
  // (If the handset's own policy started a backup just then, the click joins it, and says so.)
  await expect(page.getByText(/^(Backup queued|A backup is already on its way)$/)).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('Backup complete', { exact: true })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole('progressbar', { name: 'Backup progress' })).toHaveAttribute('aria-valuenow', '100');
  await keepScreenshot(page, testInfo, 'portal-backed-up');

  await page.getByRole('link', { name: 'My backups' }).click();
  // The first backup and this one (a retry of the spec adds its own first backup again).
  await expect
    .poll(() =>
      page
        .getByRole('region', { name: /^My backups/ })
        .getByRole('row')
        .filter({ hasText: 'asked for' })
        .count(),
    )
    .toBeGreaterThanOrEqual(2);
  await keepScreenshot(page, testInfo, 'portal-device');

  // Restore one ringtone, picked on its own.
  await page.getByRole('link', { name: 'Restore…' }).click();
  const appdata = page
    .getByRole('listitem')
    .filter({ has: page.getByRole('checkbox', { name: 'Ringtones, wallpapers and screensavers', exact: true }) });
  await appdata.getByText('Choose single items').click();
  const ringtone = appdata.getByRole('checkbox', { name: /^Ringtones\// }).first();
  await ringtone.check();
  await page.getByRole('button', { name: 'Preview the restore' }).click();
  const preview = page.getByRole('region', { name: 'Preview: what this restore will do' });
  await expect(preview.getByTestId('prompt-text')).toContainText(
    /^Restore ringtones, wallpapers and screensavers from your backup of/,
  );
  await expect(preview).toContainText('What you will see on the handset');
  await keepScreenshot(page, testInfo, 'portal-restore-preview');
  await preview.getByRole('button', { name: 'Confirm and start the restore' }).click();
  await page.waitForURL(/\/portal\/jobs\/[0-9a-f-]+$/);
  await expect(page.getByText('Finished: everything read back as it was written.')).toBeVisible({ timeout: 120_000 });
  await expect(
    page
      .getByRole('region', { name: /^Items/ })
      .getByRole('row')
      .filter({ hasText: './AppData/Ringtones/' }),
  ).toContainText('verified');
  await keepScreenshot(page, testInfo, 'portal-restore-succeeded');

  await page.getByRole('link', { name: 'My consent history' }).click();
  await expect(page.getByRole('table')).toContainText('accepted');
  await keepScreenshot(page, testInfo, 'portal-consents');

  // Another subscriber's handset, its backups and its restore page, by URL: not found.
  for (const url of [`/portal/devices/${other.id}`, `/portal/devices/${other.id}/restore`]) {
    const res = await page.goto(url);
    expect(res?.status(), url).toBe(404);
  }
});
