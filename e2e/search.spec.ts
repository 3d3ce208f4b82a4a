import { randomInt } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { addDevice, keepScreenshot, signInAs } from './support';

/** A Luhn check digit, so the spec's IMEI is a valid one. */
function luhn(body: string): number {
  let sum = 0;
  for (let i = 0; i < body.length; i++) {
    let d = Number(body[body.length - 1 - i]);
    if (i % 2 === 0) d *= 2;
    sum += d > 9 ? d - 9 : d;
  }
  return (10 - (sum % 10)) % 10;
}

test('an agent finds a subscriber by MSISDN in national form as they type, and opens their page', async ({
  page,
}, testInfo) => {
  // A subscriber of this spec's own: a number and an IMEI no other spec uses.
  const tail = String(randomInt(0, 100_000)).padStart(5, '0');
  const msisdn = `4477009${tail}`;
  const body = `3546781299${tail}`;
  const devId = `IMEI:${body}${luhn(body)}`;
  const name = `Philippa Quarles ${tail}`;
  addDevice({ devId, fw: '1.1.0', msisdn, subscriber: name, email: `philippa.${tail}@example.org` });

  await signInAs(page, 'agent');
  await page.goto('/');
  const box = page.getByLabel('MSISDN, IMEI, name or email');
  await expect(box).toBeFocused();
  await expect(page.getByText('Find a subscriber', { exact: true }).last()).toBeVisible(); // the empty state

  // Typed as an agent reads it off a screen: national form, with a space.
  await box.pressSequentially(`07700 9${tail}`, { delay: 20 });
  const result = page.getByRole('list', { name: 'Subscribers found' }).getByRole('listitem').filter({ hasText: name });
  await expect(result).toBeVisible();
  await expect(result).toContainText(`+${msisdn}`);
  await expect(result).toContainText(`philippa.${tail}@example.org`);
  await expect(result).toContainText('1 handset');
  await expect(page.locator('#search-status')).toHaveText('1 subscriber found.');
  await expect(page).toHaveURL(new RegExp(`\\?q=07700(\\+|%20)9${tail}$`));
  await keepScreenshot(page, testInfo, 'search');

  // One match: Enter opens it.
  await box.press('Enter');
  await expect(page).toHaveURL(/\/subscribers\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  const handsets = page.getByRole('region', { name: 'Handsets' });
  const row = handsets.getByRole('row').filter({ hasText: devId });
  await expect(row).toContainText('Nimbus Mobile N1');
  await expect(row).toContainText('1.1.0');
  await expect(row.getByRole('link', { name: devId })).toHaveAttribute('href', /^\/devices\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('region', { name: 'Details' })).toContainText(`+${msisdn}`);
  await expect(page.getByRole('region', { name: 'Consent history' })).toContainText('No consent asked yet');
  await keepScreenshot(page, testInfo, 'subscriber');

  // Back to the search: the query is kept. An IMEI prefix finds the handset itself.
  await page.goBack();
  await expect(box).toHaveValue(`07700 9${tail}`);
  await box.fill(devId.slice(5, 17));
  const byImei = page.getByRole('listitem').filter({ hasText: name });
  await expect(byImei.getByRole('link', { name: new RegExp(devId) })).toHaveAttribute('href', /^\/devices\//);
  await box.fill(`zzz-nobody-${tail}`);
  await expect(page.getByText('No match')).toBeVisible();
});

test('the search works without JavaScript: a GET form the page answers itself', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // Signing in needs JavaScript (the form is a server action with a client wrapper): sign in first, then turn it off.
  const js = await browser.newContext();
  const jsPage = await js.newPage();
  await signInAs(jsPage, 'agent');
  await context.addCookies(await js.cookies());
  const tail = String(randomInt(0, 100_000)).padStart(5, '0');
  const name = `Octavia Nojs ${tail}`;
  const body = `3546781288${tail}`;
  const devId = `IMEI:${body}${luhn(body)}`;
  addDevice({ devId, clientPass: 'c', serverPass: 's', msisdn: `4477008${tail}`, subscriber: name });
  await page.goto('/');
  await page.getByLabel('MSISDN, IMEI, name or email').fill(`octavia nojs ${tail}`);
  await page.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/\?q=octavia/);
  await page.getByRole('link', { name }).click();
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible();
  await context.close();
  await js.close();
});

/** Six letters no other spec's names hold, so the spec's subscribers are the only ones that match. */
function tagWord(): string {
  return Array.from({ length: 6 }, () => 'bcdfghjklmnpqrstvwxz'[randomInt(0, 20)]).join('');
}

function addHandset(o: { devId: string; msisdn: string; name: string }): void {
  addDevice({ devId: o.devId, clientPass: 'c', serverPass: 's', msisdn: o.msisdn, subscriber: o.name });
}

test('several matches: Enter shows the list; surname first, the last digits of a number or IMEI and one typo are found', async ({
  page,
}, testInfo) => {
  const tag = tagWord();
  const surname = `Zy${tag}`; // capitalised as a surname is
  const tail = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const adaImei = `3546781277${tail.slice(1)}`;
  const ada = { devId: `IMEI:${adaImei}${luhn(adaImei)}`, msisdn: `4477006${tail}`, name: `Ada ${surname}` };
  const bobImei = `3546781266${tail.slice(1)}`;
  const bob = { devId: `IMEI:${bobImei}${luhn(bobImei)}`, msisdn: `4477005${tail}`, name: `Bob ${surname}` };
  addHandset(ada);
  addHandset(bob);

  await signInAs(page, 'agent');
  await page.goto('/');
  const box = page.getByLabel('MSISDN, IMEI, name or email');
  const results = page.getByRole('list', { name: 'Subscribers found' });

  // Two subscribers share the surname: Enter shows both and stays on the search.
  await box.fill(surname);
  await expect(results.getByRole('listitem')).toHaveCount(2);
  await box.press('Enter');
  await expect(page.locator('#search-status')).toHaveText('2 subscribers found.');
  await expect(page).toHaveURL(/\/\?q=/);
  await expect(results.getByRole('listitem').filter({ hasText: ada.name })).toBeVisible();
  await expect(results.getByRole('listitem').filter({ hasText: bob.name })).toBeVisible();
  await keepScreenshot(page, testInfo, 'search-several');

  // One letter wrong still finds them.
  await box.fill(`Zy${tag.slice(0, 3)}${tag[4]}${tag[3]}${tag.slice(5)}`); // two letters swapped
  await expect(results.getByRole('listitem')).toHaveCount(2);

  // The last digits of an MSISDN, then of an IMEI, as read off a screen or a label.
  await box.fill(`7006${tail}`.slice(-8));
  await expect(results.getByRole('listitem').filter({ hasText: ada.name })).toBeVisible();
  await box.fill(ada.devId.slice(-7));
  const byImei = results.getByRole('listitem').filter({ hasText: ada.name });
  await expect(byImei.getByRole('link', { name: new RegExp(ada.devId) })).toBeVisible();

  // Surname first, one match: Enter opens the subscriber.
  await box.fill(`${surname} Ada`);
  await expect(results.getByRole('listitem')).toHaveCount(1);
  await box.press('Enter');
  await expect(page).toHaveURL(/\/subscribers\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1, name: ada.name })).toBeVisible();
});
