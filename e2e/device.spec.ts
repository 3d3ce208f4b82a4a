import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { crc32 } from '../sim/media';
import { HandsetStore } from '../sim/store';
import { keepScreenshot, rewind, signInAs, simHandsets } from './support';

const SEED = 5151;

/** A real 96×54 PNG (a gradient), so the browser shows an actual picture. */
function gradientPng(w = 96, h = 54): Uint8Array {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw.set([255 - y * 4, 120 + x, 60 + x + y], y * (w * 3 + 1) + 1 + x * 3);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(8 + data.length + 4);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

test('an agent opens a handset, sees its two backups on the timeline, browses one with previews and diffs them', async ({
  page,
}, testInfo) => {
  test.setTimeout(180_000);
  // A handset of this spec's own, backed up through a real DM session.
  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  // Its user picks another theme and sets a new wallpaper; the next session backs that up.
  const store = new HandsetStore(path.join(process.env.E2E_DATA_DIR!, `handsets-${SEED}`));
  const { state, tree } = store.load(devId!);
  tree.set('./Settings/Display/Theme', 'solarized');
  tree.set('./AppData/Wallpapers/Sunrise', gradientPng(), { format: 'bin', type: 'image/png' });
  store.save(state, tree);
  simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });

  const snapshots = JSON.parse(rewind(['snapshots', devId!, '--json'])) as Array<{
    id: string;
    deviceId: string;
    status: string;
  }>;
  expect(snapshots.map((s) => s.status)).toEqual(['complete', 'complete']);
  const [newest, first] = snapshots;
  const deviceId = newest!.deviceId;

  await signInAs(page, 'agent');
  await page.goto(`/devices/${deviceId}`);
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  await expect(page.getByText(devId!).first()).toBeVisible();
  const chart = page.getByRole('img', { name: 'Backup size over time (2 attempts)' });
  await expect(chart).toBeVisible();
  await expect(chart.locator('circle')).toHaveCount(2);
  const coverage = page.getByRole('region', { name: 'Backup coverage' });
  await expect(coverage.getByRole('row', { name: /Settings/ })).toContainText('up to date');
  await expect(page.getByRole('region', { name: 'Pending and deferred jobs' })).toContainText('Nothing pending');
  const rows = page.getByRole('table', { name: 'Backups of this handset, newest first' }).getByRole('row');
  await expect(rows).toHaveCount(3);
  await expect(rows.nth(1).getByRole('link', { name: 'Restore' })).toHaveAttribute(
    'href',
    `/devices/${deviceId}/restore?snapshot=${newest!.id}`,
  );
  await keepScreenshot(page, testInfo, 'device');

  // The snapshot browser: the tree by category, a picture and a ringtone player.
  await rows.nth(1).getByRole('link', { name: 'Browse' }).click();
  await expect(page).toHaveURL(new RegExp(`/devices/${deviceId}/snapshots/${newest!.id}$`));
  // The handset's views come first; the tree by category is behind its toggle.
  await expect(
    page.getByRole('list', { name: 'Pictures and sounds' }).getByRole('img', { name: /Sunrise$/ }),
  ).toBeVisible();
  await page.getByText(/^Raw DM tree/).click();
  await expect(page.getByRole('heading', { name: 'App data (ringtones, wallpapers, screensavers)' })).toBeVisible();
  const wallpaper = page.getByRole('img', { name: /^Sunrise/ });
  await wallpaper.scrollIntoViewIfNeeded(); // previews load lazily
  await expect(wallpaper).toBeVisible();
  await expect.poll(() => wallpaper.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(96);
  // The picture is answered under /media's own sandboxing policy, not the pages' one.
  const media = await page.request.get((await wallpaper.getAttribute('src'))!);
  expect(media.headers()['content-security-policy']).toBe("default-src 'none'; sandbox");
  await expect(page.locator('audio[controls]').first()).toBeAttached();
  await expect(page.getByRole('row', { name: /Theme/ })).toContainText('solarized');
  await keepScreenshot(page, testInfo, 'snapshot');

  // The diff with the backup before: the new theme, old → new, and the new wallpaper.
  await page.getByRole('link', { name: 'Diff with previous' }).click();
  await expect(page).toHaveURL(new RegExp(`/devices/${deviceId}/diff\\?from=${first!.id}&to=${newest!.id}$`));
  await expect(page.getByRole('heading', { name: 'What changed', level: 1 })).toBeVisible();
  const theme = page.getByRole('row', { name: /Display\/Theme/ });
  await expect(theme).toContainText('changed');
  await expect(theme).toContainText('solarized');
  const sunrise = page.getByRole('row', { name: /Wallpapers\/Sunrise/ });
  await expect(sunrise).toContainText('added');
  await expect(sunrise.getByRole('img', { name: /^Sunrise/ })).toBeVisible();
  await expect(page.getByText('No firmware or app version changed.')).toBeVisible();
  await keepScreenshot(page, testInfo, 'diff');

  // "What changed since" a week ago, in one click: no backup is that old, so from the first.
  await page.getByRole('button', { name: 'Show changes' }).click();
  await expect(page.getByText(/No backup is older than/)).toBeVisible();
  await expect(page.getByRole('row', { name: /Wallpapers\/Sunrise/ })).toContainText('added');

  // A snapshot of this handset cannot be paired with a made-up one.
  await page.goto(`/devices/${deviceId}/diff?from=${first!.id}&to=not-a-snapshot`);
  await expect(page.getByText(/There is no such backup/)).toBeVisible();

  // Back up now: queued, and listed as pending with its reason (the handset is not connected).
  await page.goto(`/devices/${deviceId}`);
  await page.getByRole('button', { name: 'Back up now' }).click();
  await expect(page.getByText('Backup queued: the handset is being woken')).toBeVisible();
  await expect(
    page.getByRole('region', { name: 'Pending and deferred jobs' }).getByRole('link', { name: 'Backup (on-demand)' }),
  ).toBeVisible();
  await expect(page.getByRole('region', { name: 'Pending and deferred jobs' })).toContainText(
    /waking the handset|waiting for the handset to connect/,
  );
  await keepScreenshot(page, testInfo, 'device-pending');
  // On a phone-sized screen the page still reads top to bottom, tables scrolling sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await expect(page.getByRole('button', { name: 'Back up now' })).toBeVisible();
  await keepScreenshot(page, testInfo, 'device-narrow');
});
