/**
 * Roles are enforced on every page, not only in the navigation: each forbidden path is tried
 * by URL. And, as a new user would try it, every link the console shows leads somewhere that works.
 */
import { expect, test, type Page } from '@playwright/test';
import { deviceOf, signInAs, simHandsets } from './support';

const STAFF_PAGES = ['/', '/fleet', '/audit'];
const ADMIN_PAGES = [
  '/admin/policies',
  '/admin/models',
  '/admin/catalog',
  '/admin/users',
  '/admin/tokens',
  '/admin/api',
];

let devId: string;
let device: { id: string; subscriberId: string | null };

test.beforeAll(async ({ request }, testInfo) => {
  [devId] = simHandsets(testInfo, { devices: 1, seed: 7301, backup: true }) as [string];
  device = await deviceOf(request, devId);
});

test('a visitor who is not signed in is sent to sign-in from every page', async ({ page }) => {
  for (const p of [
    ...STAFF_PAGES,
    ...ADMIN_PAGES,
    `/devices/${device.id}`,
    `/subscribers/${device.subscriberId}`,
    '/portal',
    '/portal/consents',
  ]) {
    await page.goto(p);
    await expect(page, p).toHaveURL(/\/sign-in$/);
  }
});

test('an agent is kept out of the admin pages, and a subscriber out of the console', async ({ page }) => {
  await signInAs(page, 'agent');
  for (const p of ADMIN_PAGES) {
    await page.goto(p);
    await expect(page, p).toHaveURL(/\/$/);
  }
  await page.goto('/portal');
  await expect(page).toHaveURL(/\/$/);
  await page.context().clearCookies();

  await signInAs(page, 'subscriber', { subscriberId: device.subscriberId! });
  for (const p of [...STAFF_PAGES, ...ADMIN_PAGES, `/devices/${device.id}`, `/subscribers/${device.subscriberId}`]) {
    await page.goto(p);
    await expect(page, p).toHaveURL(/\/portal$/);
  }
});

/** Follows every same-origin link from `start`, breadth first, up to `max` pages; returns the pages that failed. */
async function crawl(page: Page, start: string, max: number): Promise<string[]> {
  const seen = new Set<string>([start]);
  const queue = [start];
  const failed: string[] = [];
  let visited = 0;
  while (queue.length && visited < max) {
    const url = queue.shift()!;
    visited++;
    const res = await page.goto(url);
    const status = res?.status() ?? 0;
    const broken =
      status >= 400 ||
      (await page.getByText(/Application error|This page could not be found|Internal Server Error/).count()) > 0;
    if (broken) {
      failed.push(`${url} (${status})`);
      continue;
    }
    // getAttribute, not .href: the charts' links are SVG <a>, whose href is not a string.
    const hrefs = await page
      .locator('a[href]')
      .evaluateAll((as) => as.map((a) => new URL(a.getAttribute('href')!, document.baseURI).href));
    for (const href of hrefs) {
      const u = new URL(href);
      if (u.origin !== new URL(page.url()).origin) continue;
      // Downloads, raw JSON and media are checked for their status only, not crawled.
      const key = u.pathname + u.search;
      if (seen.has(key)) continue;
      seen.add(key);
      if (/^\/(api|media)\//.test(u.pathname) || /\/export/.test(u.pathname)) {
        const r = await page.request.get(key);
        if (r.status() >= 400) failed.push(`${key} (${r.status()})`);
        continue;
      }
      queue.push(key);
    }
  }
  return failed;
}

for (const role of ['admin', 'agent', 'subscriber'] as const) {
  test(`every link shown to ${role === 'subscriber' ? 'a subscriber' : `an ${role}`} works`, async ({ page }) => {
    test.setTimeout(180_000);
    await signInAs(page, role, role === 'subscriber' ? { subscriberId: device.subscriberId! } : {});
    const starts =
      role === 'subscriber' ? ['/portal'] : ['/', `/devices/${device.id}`, `/subscribers/${device.subscriberId}`];
    const failed: string[] = [];
    for (const s of starts) failed.push(...(await crawl(page, s, 40)));
    expect(failed).toEqual([]);
  });
}
