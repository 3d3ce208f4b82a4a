/**
 * Bulk backup from the device list: an admin filters to the handsets of one model without a
 * backup for 7 days, counts them, backs them all up in one action, and watches the progress
 * page until every backup is done. The spec seeds its own fleet: handsets never backed up,
 * handsets of the same model backed up just now (not included), other models (not included),
 * all in a static group of the spec's own so other specs' handsets stay out of its filter;
 * the never-backed-up ones stay connected (rewind sim) so their backups really run.
 */
import fs from 'node:fs';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { keepConnected } from './live-handsets';
import { apiToken, keepScreenshot, rewind, signInAs, simHandsets } from './support';

const STALE_SEED = 4701;
const FRESH_SEED = 4702;
const STALE = 9;

let live: { stop: () => void } | undefined;

/** No serious or critical axe finding (WCAG 2.1 A and AA) on the page as it is now. */
async function accessible(page: Page): Promise<void> {
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
}
test.afterAll(() => live?.stop());

test('an admin backs up every handset of one model without a backup for 7 days in one action and watches it finish', async ({
  page,
  request,
}, testInfo) => {
  test.setTimeout(300_000);
  const stale = simHandsets(testInfo, { devices: STALE, seed: STALE_SEED });
  const fresh = simHandsets(testInfo, { devices: 4, seed: FRESH_SEED, backup: true });
  const group = `bulk-e2e-${Date.now()}`;
  const csv = path.join(process.env.E2E_DATA_DIR!, `${group}.csv`);
  fs.writeFileSync(csv, `devId\n${[...stale, ...fresh].join('\n')}\n`);
  rewind(['group', 'import', '--name', group, '--file', csv]);

  // The model most of the never-backed-up handsets are of, and which of them are of it.
  const modelOf = async (devId: string) => {
    const r = await request.get(`/api/v1/devices/${encodeURIComponent(devId)}`, {
      headers: { authorization: `Bearer ${apiToken()}` },
    });
    return ((await r.json()) as { device: { model: string } }).device.model;
  };
  const models = new Map<string, string[]>();
  for (const d of stale) {
    const m = await modelOf(d);
    models.set(m, [...(models.get(m) ?? []), d]);
  }
  const [model, targets] = [...models.entries()].sort((a, b) => b[1].length - a[1].length)[0]!;
  expect(targets.length).toBeGreaterThan(1);

  await signInAs(page, 'admin');
  await page.goto('/devices');
  await page.getByLabel('Model').selectOption(model);
  await page.getByLabel('Group').selectOption(group);
  await page.getByLabel('No good backup for (days)').fill('7');
  await page.getByRole('button', { name: 'Show devices' }).click();
  await expect(page).toHaveURL(/noBackupForDays=7/);
  const listed = page.getByRole('table', { name: 'Handsets matching the filters' });
  for (const d of targets) await expect(listed.getByRole('link', { name: d })).toBeVisible();
  for (const d of [...fresh, ...stale.filter((x) => !targets.includes(x))])
    await expect(listed.getByRole('link', { name: d })).toHaveCount(0);

  // The dry run first: the count, nothing ordered yet.
  await page.getByLabel('All handsets matching this filter').check();
  await page.getByLabel('Action').selectOption('backup');
  await page.getByRole('button', { name: 'Count the handsets' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Back up now:' })).toHaveText(
    `Back up now: ${targets.length} handsets.`,
  );
  await keepScreenshot(page, testInfo, 'bulk-count');
  await accessible(page);
  await page.getByRole('button', { name: `Back up ${targets.length} handsets` }).click();
  // Now the handsets come online: each checks in every 2 s, so the queued backups run while the page
  // watches. (Online earlier, their users' own backup button would have backed them up first.)
  live = keepConnected(testInfo, { seed: STALE_SEED, devices: STALE });

  // The progress page follows the operation live until every backup is done.
  await expect(page).toHaveURL(/\/bulk\/[^/]+$/);
  const bar = page.getByRole('progressbar', { name: 'Progress of the bulk operation' });
  await expect(bar).toBeVisible();
  await expect(bar).toHaveAttribute('aria-valuenow', '100', { timeout: 240_000 });
  await expect(page.getByText(/^Done\. Back up now: /)).toBeVisible();
  await expect(page.getByText(`${targets.length} succeeded, 0 failed, 0 still waiting`)).toBeVisible();
  await keepScreenshot(page, testInfo, 'bulk-done');
  await accessible(page);

  // Each handset of the filter has a complete backup now; the others were not touched.
  for (const d of targets) {
    const snaps = rewind(['snapshots', d, '--json']);
    expect((JSON.parse(snaps) as Array<{ status: string }>).some((s) => s.status === 'complete')).toBe(true);
  }
  await page.goto('/bulk');
  await expect(page.getByRole('table', { name: 'Recent bulk operations, newest first' })).toContainText('Back up now');
  await accessible(page);
});
