/**
 * Every page of the console and the portal, opened as the role it is for with data of the
 * spec's own, checked by axe (WCAG 2.1 A and AA): no serious or critical violation anywhere.
 * Pages run under the production build's content security policy, so axe runs as it would there.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { apiToken, deviceOf, signIn, seedUser, signInAs, simHandsets } from './support';

const SEED = 7707;

/** What axe found, by page: every page is checked before the spec says what failed. */
const found: string[] = [];

async function check(page: Page, path: string, ready: (page: Page) => Promise<void>): Promise<void> {
  const res = await page.goto(path);
  expect(res?.status(), path).toBeLessThan(400);
  await ready(page);
  // Folded sections open too, so what they hold is checked as well.
  await page.evaluate(() => document.querySelectorAll('details').forEach((d) => (d.open = true)));
  const { violations } = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical'))
    found.push(`${path}: ${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
}

const h1 = (name?: string | RegExp) => async (page: Page) => {
  await expect(page.getByRole('heading', { level: 1, ...(name ? { name } : {}) })).toBeVisible();
};

test('every console and portal page passes axe with no serious or critical violation', async ({
  page,
  browser,
  request,
}, testInfo) => {
  test.setTimeout(300_000);
  // A handset backed up twice (a diff and a restore have something to show).
  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  simHandsets(testInfo, { devices: 1, seed: SEED, backup: true });
  const device = await deviceOf(request, devId!);

  // Signed out: the sign-in page.
  await check(page, '/sign-in', async (p) => {
    await expect(p.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  });

  // An admin sees every console page.
  await signInAs(page, 'admin');
  await check(page, '/', h1('Find a subscriber'));
  await check(page, `/?q=${encodeURIComponent(devId!.slice(5, 13))}`, async (p) => {
    await expect(p.getByRole('list', { name: 'Subscribers found' })).toBeVisible();
  });
  await check(page, `/subscribers/${device.subscriberId}`, h1());
  await check(page, `/devices/${device.id}`, async (p) => {
    await expect(p.getByRole('region', { name: 'Backup timeline' })).toBeVisible();
  });
  // The backups, through the device page's own links.
  await page.goto(`/devices/${device.id}`);
  const browse = page.getByRole('table', { name: 'Backups of this handset, newest first' }).getByRole('link', {
    name: 'Browse',
  });
  const snapshots = await browse.evaluateAll((as) => as.map((a) => a.getAttribute('href')!));
  expect(snapshots.length).toBeGreaterThanOrEqual(2);
  await check(page, snapshots[0]!, async (p) => {
    await expect(p.getByRole('region', { name: /^Applications/ })).toBeVisible();
  });
  await check(page, `${snapshots[0]!}?q=Ringtones`, async (p) => {
    await expect(p.getByRole('table', { name: /holds “Ringtones”/ })).toBeVisible();
  });
  await page.goto(`/devices/${device.id}`);
  const diffHref = await page.getByRole('link', { name: 'Diff with previous' }).first().getAttribute('href');
  await check(page, diffHref!, h1());
  const snapshotId = snapshots[0]!.split('/').pop()!;
  await check(page, `/devices/${device.id}/restore?snapshot=${snapshotId}`, h1());
  const jobs = await request.get(`/api/v1/devices/${encodeURIComponent(devId!)}/jobs`, {
    headers: { authorization: `Bearer ${apiToken()}` },
  });
  const jobId = ((await jobs.json()) as { jobs: Array<{ id: string }> }).jobs[0]!.id;
  await check(page, `/jobs/${jobId}`, h1());
  await check(page, '/audit', h1('Audit log'));
  await check(page, '/fleet', h1('Fleet overview'));
  for (const path of [
    '/admin/policies',
    '/admin/models',
    '/admin/catalog',
    '/admin/users',
    '/admin/tokens',
    '/admin/api',
    '/admin/ds',
  ])
    await check(page, path, h1());

  // The subscriber of that handset sees every portal page.
  const portal = await browser.newContext();
  const me = await portal.newPage();
  await signIn(me, seedUser('subscriber', { subscriberId: device.subscriberId! }));
  await check(me, '/portal', h1('My devices'));
  await check(me, `/portal/devices/${device.id}`, h1());
  await check(me, `/portal/devices/${device.id}/restore`, h1());
  await check(me, `/portal/devices/${device.id}/restore?snapshot=${snapshotId}`, h1());
  await check(me, `/portal/jobs/${jobId}`, h1());
  await check(me, '/portal/consents', h1('My consent history'));
  // And at a phone's width.
  await me.setViewportSize({ width: 360, height: 740 });
  await check(me, '/portal', h1('My devices'));
  await check(me, `/portal/devices/${device.id}`, h1());
  await portal.close();
  expect(found).toEqual([]);
});
