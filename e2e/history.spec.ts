/**
 * The agent's question first: what happened to this handset? Real virtual handsets of the
 * spec's own: one backed up and then failing with a wrong password, whose device page says so
 * in words with the time; the session history filtered; the job history; the firmware it ran;
 * and the firmware search that traces a version back to its handsets and their last backups.
 */
import { expect, test } from '@playwright/test';
import { apiToken, deviceOf, keepScreenshot, rewind, signInAs, simHandsets } from './support';
import path from 'node:path';

const SEED = 6262;

// An agent in India: times read in their zone, UTC on hover.
test.use({ timezoneId: 'Asia/Kolkata', locale: 'en-US' });

test('an agent reads why a handset failed, filters its sessions, and finds it by its firmware', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  // Its user re-types the account's password wrongly: its next session fails authentication.
  let failed = '';
  try {
    rewind([
      'sim',
      '--server',
      `${testInfo.project.use.baseURL!}/dm`,
      '--devices',
      '1',
      '--once',
      '--seed',
      String(SEED),
      '--media-scale',
      '0.02',
      '--state-dir',
      path.join(process.env.E2E_DATA_DIR!, `handsets-${SEED}`),
      '--client-password',
      'not-the-password',
    ]);
  } catch (err) {
    failed = String((err as { stdout?: string }).stdout ?? err);
  }
  expect(failed).toMatch(/sessions\s+1 \(0 ok, 1 failed\)/);

  const device = await deviceOf(request, devId!);
  const body = (await (
    await request.get(`/api/v1/devices/${encodeURIComponent(devId!)}`, {
      headers: { authorization: `Bearer ${apiToken()}` },
    })
  ).json()) as { device: { firmware: string } };
  const firmware = body.device.firmware;
  expect(firmware).toBeTruthy();

  await signInAs(page, 'agent');
  await page.goto(`/devices/${device.id}`);
  const last = page.getByTestId('last-attempt');
  await expect(last).toContainText(/Last attempt, .*: failed — wrong credentials: /);
  // The time in the browser's zone, UTC on hover.
  await expect(last.locator('time')).toHaveAttribute('title', /UTC$/);
  await expect(last.locator('time')).toHaveText(/GMT\+5:30$/);

  const history = page.getByRole('region', { name: 'Session history' });
  await expect(history.locator('tbody tr[data-kind="dm"][data-outcome="ok"]').first()).toBeVisible();
  await expect(history.locator('tbody tr[data-kind="attempt"]')).toContainText('wrong credentials');

  // Only the failures: the wrong password, nothing that went well.
  await history.getByLabel('Outcome').selectOption('failed');
  await history.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/outcome=failed/);
  await expect(history.locator('tbody tr[data-outcome="ok"]')).toHaveCount(0);
  await expect(history.locator('tbody tr[data-kind="attempt"]')).toContainText('wrong credentials');
  // Only DM sessions: the good one, which opened by itself.
  await history.getByLabel('Outcome').selectOption('');
  await history.getByLabel('Kind').selectOption('dm');
  await history.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/kind=dm/);
  await expect(history.locator('tbody tr[data-kind="attempt"]')).toHaveCount(0);
  await expect(history.locator('tbody tr[data-kind="dm"]').first()).toContainText('the handset by itself');

  const jobs = page.getByRole('region', { name: 'Job history' });
  await expect(jobs.getByRole('link', { name: 'Backup (on-demand)' })).toBeVisible();
  await expect(jobs).toContainText('succeeded');
  await expect(jobs).toContainText('cli:sim');
  await expect(page.getByRole('region', { name: 'Firmware history' })).toContainText(firmware);
  await keepScreenshot(page, testInfo, 'device-history');

  // The management authority traces the firmware back to its handsets and their last good backups.
  await page.goto('/fleet/firmware');
  await page.getByLabel('Firmware version').fill(firmware);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/firmware=/);
  const row = page.getByRole('row').filter({ hasText: devId! });
  await expect(row).toBeVisible();
  await expect(row.getByRole('link').last()).toHaveAttribute('href', new RegExp(`/devices/${device.id}/snapshots/`));
  await keepScreenshot(page, testInfo, 'firmware-search');
  // A day long before any handset connected finds nobody.
  await page.goto(`/fleet/firmware?firmware=${encodeURIComponent(firmware)}&from=2001-01-01&to=2001-01-02`);
  await expect(page.getByText('No handset ran it then')).toBeVisible();

  // The subscriber reads their own handset's history in plain words.
  await page.context().clearCookies();
  await signInAs(page, 'subscriber', { subscriberId: device.subscriberId! });
  await page.goto(`/portal/devices/${device.id}`);
  const lately = page.getByRole('region', { name: 'What happened lately' });
  await expect(lately).toContainText(
    'Your phone could not sign in: the password stored on it does not match your account',
  );
  await expect(lately).toContainText('Your phone checked in.');
  await expect(lately).not.toContainText('Package #0');
  await expect(lately.locator('time').first()).toHaveAttribute('title', /UTC$/);
  await keepScreenshot(page, testInfo, 'portal-history');
});
