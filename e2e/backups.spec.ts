import { expect, test } from '@playwright/test';
import { deviceOf, keepScreenshot, signInAs, simHandsets } from './support';

test('virtual handsets back up through real DM sessions, and the console shows their backups', async ({
  page,
}, testInfo) => {
  // Three handsets of this spec's own, registered and backed up by the real CLI over /dm.
  const devIds = simHandsets(testInfo, { devices: 3, seed: 4242, backup: true });
  await signInAs(page, 'agent');
  await page.goto('/fleet');
  await expect(page.getByRole('heading', { name: 'Recent backups' })).toBeVisible();
  for (const devId of devIds) {
    const row = page.getByRole('row').filter({ hasText: devId });
    await expect(row).toContainText('on-demand');
    await expect(row).toContainText('complete');
  }
  await keepScreenshot(page, testInfo, 'recent-backups');
});

test('an agent sees every backup of one day on the timeline, and browses one in the handset’s terms; the reading is audited', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(240_000);
  // One handset backed up three times within minutes: three points, not one.
  const [devId] = simHandsets(testInfo, { devices: 1, seed: 4343, backup: true });
  simHandsets(testInfo, { devices: 1, seed: 4343, backup: true });
  simHandsets(testInfo, { devices: 1, seed: 4343, backup: true });
  const device = await deviceOf(request, devId!);
  const agent = await signInAs(page, 'agent');
  await page.goto(`/devices/${device.id}`);
  const timeline = page.getByRole('region', { name: 'Backup timeline' });
  const chart = timeline.getByRole('img', { name: /^Backup size over time \(\d+ attempts\)$/ });
  const attempts = Number(/\((\d+) attempts\)/.exec((await chart.getAttribute('aria-label'))!)![1]);
  expect(attempts).toBeGreaterThanOrEqual(3);
  const xs = await chart.locator('circle[data-point]').evaluateAll((cs) => cs.map((c) => c.getAttribute('cx')));
  expect(xs).toHaveLength(attempts);
  expect(new Set(xs).size).toBe(attempts); // none drawn over another
  await keepScreenshot(page, testInfo, 'timeline-same-day');

  // The newest backup, browsed.
  await timeline.locator('a[data-point]').last().click();
  await expect(page).toHaveURL(/\/snapshots\/[0-9a-f-]+$/);
  const apps = page.getByRole('region', { name: /^Applications \(\d+\)$/ });
  await expect(apps.getByRole('row').filter({ hasText: 'ShieldAV' })).toContainText(/active|inactive/);
  await expect(page.getByRole('region', { name: 'Firmware' })).toContainText('Firmware version');
  await expect(
    page
      .getByRole('region', { name: /^Settings \(\d+ groups?\)$/ })
      .getByRole('heading', { level: 3 })
      .first(),
  ).toBeVisible();
  const certs = page.getByRole('region', { name: /^Certificates \(\d+\)$/ });
  await expect(certs.getByRole('row').filter({ hasText: 'Root CA' })).toContainText(/\d{4}-\d{2}-\d{2}/);
  // Pictures decode and sounds play: the browser itself says so.
  const gallery = page.getByRole('list', { name: 'Pictures and sounds' });
  const pictures = gallery.getByRole('img');
  await expect(pictures.first()).toBeVisible();
  for (const img of await pictures.all()) {
    await img.scrollIntoViewIfNeeded();
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth)).toBeGreaterThan(0);
  }
  const sounds = await gallery.locator('audio').evaluateAll((as) => as.map((a) => (a as HTMLAudioElement).src));
  expect(sounds.length).toBeGreaterThan(0);
  for (const src of sounds) {
    const played = await page.evaluate(async (url) => {
      const bytes = await (await fetch(url)).arrayBuffer();
      const type = (await fetch(url)).headers.get('content-type');
      if (type === 'application/octet-stream') return -1; // MIDI: offered as a download
      return (await new OfflineAudioContext(1, 8000, 8000).decodeAudioData(bytes)).duration;
    }, src);
    expect(played === -1 || played > 0, src).toBe(true);
  }
  await keepScreenshot(page, testInfo, 'snapshot-browser');

  // The raw tree is behind a toggle; the search looks through every node.
  const raw = page.getByText(/^Raw DM tree/);
  await expect(page.getByRole('table', { name: /^Settings: nodes and values/ })).toBeHidden();
  await raw.click();
  await expect(page.getByRole('table', { name: /^Settings: nodes and values/ })).toBeVisible();
  await page.getByLabel('Node name, path or value').fill('ShieldAV');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await expect(page).toHaveURL(/\?q=ShieldAV$/);
  await expect(page.getByRole('status').filter({ hasText: /nodes? found for “ShieldAV”/ })).toBeVisible();
  await expect(page.getByRole('table', { name: /holds “ShieldAV”/ })).toContainText('./SCOMO/Inventory/Deployed/');

  // Opening it and its pictures are in the audit log, in words.
  await page.goto(`/audit?actor=${encodeURIComponent(agent)}&action=snapshot.*`);
  await expect(page.getByRole('row').filter({ hasText: 'snapshot.viewed' }).first()).toContainText(devId!);
  await expect(page.getByRole('row').filter({ hasText: 'snapshot.media-read' }).first()).toContainText('Path:');
  await expect(page.getByRole('row').filter({ hasText: 'snapshot.viewed' }).first()).not.toContainText('{"');
});
