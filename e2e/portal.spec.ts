import { expect, test } from '@playwright/test';
import { keepConnected } from './live-handsets';
import { deviceOf, keepScreenshot, rewind, signInAs, simHandsets, useHandset } from './support';

const SEED = 7202;
const NEWER_SEED = 7204;
const live: Array<{ stop: () => void }> = [];

test.afterAll(() => live.forEach((l) => l.stop()));

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
  const [first] = JSON.parse(rewind(['snapshots', devId!, '--json'])) as Array<{ id: string }>;
  // The subscriber loses a ringtone after that first backup.
  const [lost] = useHandset(SEED, devId!).children('./AppData/Ringtones');
  useHandset(SEED, devId!, { [`./AppData/Ringtones/${lost!}`]: null });
  live.push(keepConnected(testInfo, { seed: SEED, devices: 1 }));

  await signInAs(page, 'subscriber', { subscriberId: mine.subscriberId! });
  await page.goto('/portal');
  await expect(page.getByRole('heading', { name: 'My devices' })).toBeVisible();
  await expect(page.getByText(devId!)).toBeVisible();
  await expect(page.getByText(otherDevId!)).toHaveCount(0);
  await keepScreenshot(page, testInfo, 'portal-devices');

  // Back up now: queued, then followed live to the end; the card's last backup follows without a reload.
  const card = page.getByRole('listitem').filter({ hasText: devId! });
  const lastBackup = card.locator('dd time');
  const before = await lastBackup.getAttribute('datetime');
  await page.getByRole('button', { name: /^Back up now\s*:/ }).click();
  // The action answers after the job is stored; on a loaded machine that can take a few seconds.
  // (If the handset's own policy started a backup just then, the click joins it, and says so.)
  await expect(page.getByText(/^(Backup queued|A backup is already on its way)$/)).toBeVisible({ timeout: 20_000 });
  await expect(page.getByText('Backup complete', { exact: true })).toBeVisible({ timeout: 90_000 });
  await expect(page.getByRole('progressbar', { name: 'Backup progress' })).toHaveAttribute('aria-valuenow', '100');
  await expect(lastBackup).not.toHaveAttribute('datetime', before!); // no reload: the card read itself again
  await keepScreenshot(page, testInfo, 'portal-backed-up');

  await page.getByRole('link', { name: 'My backups' }).click();
  // The first backup and this one (a retry of the spec adds its own first backup again).
  await expect
    .poll(() =>
      page
        .getByRole('region', { name: /^My backups/ })
        .getByRole('row')
        // Asked for, or joined to the one the handset's own button had just started.
        .filter({ hasText: /asked for|from the handset/ })
        .count(),
    )
    .toBeGreaterThanOrEqual(2);
  await keepScreenshot(page, testInfo, 'portal-device');

  // Restore the lost ringtone, picked on its own from the first backup.
  await page.getByRole('link', { name: 'Restore…' }).click();
  await page.waitForURL(/\/portal\/devices\/[0-9a-f-]+\/restore/); // not the device page's "My backups"
  await page.getByLabel('Backup').selectOption(first!.id);
  const appdata = page
    .getByRole('listitem')
    .filter({ has: page.getByRole('checkbox', { name: 'Ringtones, wallpapers and screensavers', exact: true }) });
  await appdata.getByText('Choose single items').click();
  const ringtone = appdata.getByRole('checkbox', { name: new RegExp(`^Ringtones/${lost!}`) });
  await ringtone.check();
  await page.getByRole('button', { name: 'Preview the restore' }).click();
  const preview = page.getByRole('region', { name: 'Preview: what this restore will do' });
  await expect(preview.getByTestId('prompt-text')).toContainText(
    /^Restore ringtones, wallpapers and screensavers from your backup of/,
  );
  await expect(preview).toContainText('What you will see on the handset');
  // The backup taken since shows the ringtone gone: it will be added, shown by size and hash.
  await expect(preview.getByTestId('plan-summary')).toContainText('Will add 1');
  await expect(preview.getByTestId('change')).toContainText(/\(none\) → [\d.]+ [kKM]?B, sha256 [0-9a-f]{12}/);
  await keepScreenshot(page, testInfo, 'portal-restore-preview');
  await preview.getByLabel('Why? A reason or a ticket reference').fill('I deleted it by mistake');
  await preview.getByRole('button', { name: 'Confirm and start the restore' }).click();
  await page.waitForURL(/\/portal\/jobs\/[0-9a-f-]+$/);
  const jobUrl = page.url();
  await expect(page.getByText(/^Finished: /)).toBeVisible({ timeout: 120_000 });
  // Plain words: what was put back by name, no node paths, alert codes or folders.
  const what = page.getByRole('region', { name: /^What is put back/ });
  await expect(what.getByRole('listitem').filter({ hasText: /^Ringtones: / })).toContainText('verified');
  const words = await page.locator('main').innerText();
  for (const jargon of ['./', 'alert ', 'folder', 'read back', 'Package #0', 'Nodes fetched'])
    expect(words, jargon).not.toContain(jargon);
  await keepScreenshot(page, testInfo, 'portal-restore-succeeded');

  await page.getByRole('link', { name: 'My consent history' }).click();
  await expect(page.getByRole('table')).toContainText('accepted');
  await keepScreenshot(page, testInfo, 'portal-consents');

  // Every page fits a phone's 360 px: nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 740 });
  for (const url of ['/portal', `/portal/devices/${mine.id}`, '/portal/consents', jobUrl]) {
    await page.goto(url);
    await expect(page.locator('main')).toBeVisible();
    const wide = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      tables: [...document.querySelectorAll('table')]
        .filter((t) => t.getClientRects().length && !t.classList.contains('sr-only'))
        .map((t) => t.parentElement!.scrollWidth - t.parentElement!.clientWidth),
    }));
    expect(wide.page, url).toBeLessThanOrEqual(360);
    for (const overflow of wide.tables) expect(overflow, url).toBeLessThanOrEqual(0);
  }
  await page.setViewportSize({ width: 1280, height: 720 });

  // Another subscriber's handset, its backups and its restore page, by URL: not found.
  for (const url of [`/portal/devices/${other.id}`, `/portal/devices/${other.id}/restore`]) {
    const res = await page.goto(url);
    expect(res?.status(), url).toBe(404);
  }
});

test('a subscriber sees what will change, keeps the values they changed since the backup by default, and can undo', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  const [devId] = simHandsets(testInfo, { devices: 1, seed: NEWER_SEED, backup: true });
  const mine = await deviceOf(request, devId!);
  const [old] = JSON.parse(rewind(['snapshots', devId!, '--json'])) as Array<{ id: string }>;
  useHandset(NEWER_SEED, devId!, {
    './Settings/Display/Theme': 'e2e-dark',
    './Settings/Sound/Ringtone': 'e2e-Breeze',
  });
  simHandsets(testInfo, { devices: 1, seed: NEWER_SEED, backup: true });
  live.push(keepConnected(testInfo, { seed: NEWER_SEED, devices: 1 }));

  await signInAs(page, 'subscriber', { subscriberId: mine.subscriberId! });
  await page.goto(`/portal/devices/${mine.id}/restore?snapshot=${old!.id}`);
  await page.getByRole('checkbox', { name: 'Settings', exact: true }).check();
  await page.getByRole('button', { name: 'Preview the restore' }).click();
  const preview = page.getByRole('region', { name: 'Preview: what this restore will do' });
  // In the portal the handset's newer values are kept unless the subscriber says otherwise.
  await expect(preview.getByRole('checkbox', { name: 'Keep the handset’s newer values' })).toBeChecked();
  await expect(preview.getByTestId('plan-summary')).toContainText('Newer kept 2');
  await expect(preview.getByTestId('plan-summary')).toContainText('Will change 0');
  const theme = preview.getByTestId('change').filter({ hasText: 'Display/Theme' });
  await expect(theme.getByTestId('newer')).toContainText(
    /Newer on the handset: Theme changed \d{4}-\d\d-\d\d, e2e-dark → /,
  );
  await keepScreenshot(page, testInfo, 'portal-preview-newer');

  // The ringtone back as it was in the backup; the theme stays.
  await preview
    .getByTestId('change')
    .filter({ hasText: 'Sound/Ringtone' })
    .getByRole('checkbox', { name: 'keep the handset’s value' })
    .click(); // the plan is made again with the choice
  await expect(preview.getByTestId('plan-summary')).toContainText('Will change 1');
  await expect(preview.getByTestId('plan-summary')).toContainText('Newer kept 1');
  await preview.getByLabel('Why? A reason or a ticket reference').fill('my old ringtone, please');
  await preview.getByRole('button', { name: 'Confirm and start the restore' }).click();
  await page.waitForURL(/\/portal\/jobs\/[0-9a-f-]+$/);
  await expect(page.getByText(/^Finished: /)).toBeVisible({ timeout: 120_000 });
  await expect(page.getByText('my old ringtone, please')).toBeVisible();
  // Only the ringtone went back; the theme the subscriber chose stayed.
  const putBack = page.getByRole('region', { name: /^What is put back/ }).getByRole('listitem');
  await expect(putBack).toHaveCount(1);
  await expect(putBack).toContainText(/Ringtone.*verified/);

  // Undo is offered here too, with the same preview.
  await page.getByRole('button', { name: 'Put it back as it was before this restore' }).click();
  const undo = page.getByRole('region', { name: 'Preview: putting the handset back as it was before the restore' });
  await expect(undo.getByTestId('change').filter({ hasText: 'Sound/Ringtone' })).toContainText(/→ e2e-Breeze/);
  await keepScreenshot(page, testInfo, 'portal-undo-preview');
});
