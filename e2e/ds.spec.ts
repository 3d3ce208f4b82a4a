/**
 * Contacts and calendar end to end with a real Data Sync client: a handset registered and
 * given a DS account through the CLI, Debian's SyncEvolution slow-syncing fifty contacts into
 * /ds and then two-way syncing two changed and one new contact; an agent sees both DS backups
 * on the device page, browses one and opens the diff with the changed and added contacts by
 * name; an admin creates a DS account on /admin/ds.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomInt, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { generateContacts, generateEvents } from '../sim/ds-generate';
import { addDevice, deviceOf, keepScreenshot, rewind, signInAs } from './support';

const SYNC_SH = [
  process.env.SYNCEVOLUTION_SH,
  path.resolve('../shared/tools/syncevolution/sync.sh'),
  '/work/shared/tools/syncevolution/sync.sh',
].find((p): p is string => !!p && fs.existsSync(p));
const hasSyncEvolution = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v syncevolution'], { stdio: 'ignore' });
    return !!SYNC_SH;
  } catch {
    return false;
  }
})();

/** A Luhn-valid IMEI of the spec's own, so reruns against one database do not collide. */
function imei(): string {
  const body = `35${String(randomInt(0, 10 ** 12)).padStart(12, '0')}`;
  const sum = [...body].reverse().reduce((s, ch, i) => {
    const d = Number(ch) * (i % 2 === 0 ? 2 : 1);
    return s + (d > 9 ? d - 9 : d);
  }, 0);
  return `IMEI:${body}${(10 - (sum % 10)) % 10}`;
}

function addHandset(subscriber: string): string {
  const devId = imei();
  addDevice({
    devId,
    manufacturer: 'Nimbus',
    clientUser: `u-${devId.slice(-6)}`,
    clientPass: 'client-pass',
    serverPass: 'server-pass',
    subscriber,
  });
  return devId;
}

function sync(url: string, user: string, dir: string, mode: 'slow' | 'two-way'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SYNC_SH!, url, user, 'secret-pass', dir, mode, 'xml'],
      { timeout: 150_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(new Error(`sync.sh ${mode} failed: ${err.message}\n${stdout.slice(-3000)}\n${stderr.slice(-2000)}`));
        else resolve(stdout);
      },
    );
  });
}

const fn = (text: string) => /^FN:(.*)$/m.exec(text)![1]!.trim();

test.describe('Data Sync backups of contacts and calendar', () => {
  test.skip(
    !hasSyncEvolution,
    'SyncEvolution is not installed (scripts/ensure-system-deps.sh installs it): this spec needs a real DS client.',
  );

  test('two syncs by SyncEvolution become two DS backups; the diff names the changed and added contacts', async ({
    page,
    request,
  }, testInfo) => {
    test.setTimeout(300_000);
    const devId = addHandset('Dee Sync');
    const user = `dee-${randomUUID().slice(0, 8)}`;
    expect(rewind(['ds-account', 'add', '--dev-id', devId, '--user', user, '--pass', 'secret-pass'])).toContain(
      `DS account ${user} created`,
    );

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-e2e-ds-'));
    fs.mkdirSync(path.join(dir, 'contacts'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'calendar'), { recursive: true });
    const contacts = generateContacts(61, 50);
    for (const c of contacts) fs.writeFileSync(path.join(dir, 'contacts', `${c.id}.vcf`), c.text);
    for (const e of generateEvents(61, 5)) fs.writeFileSync(path.join(dir, 'calendar', `${e.id}.ics`), e.text);
    const url = `${testInfo.project.use.baseURL}/ds`;
    expect(await sync(url, user, dir, 'slow')).toContain('Synchronization successful');

    // Two contacts with names no other contact has get a new mobile number; one contact is new.
    const unique = contacts.filter((c) => contacts.filter((o) => fn(o.text) === fn(c.text)).length === 1);
    const changed = unique.slice(0, 2);
    changed.forEach((c, i) => {
      fs.writeFileSync(
        path.join(dir, 'contacts', `${c.id}.vcf`),
        c.text.replace(/TEL;TYPE=CELL:[^\r\n]+/, `TEL;TYPE=CELL:+44770099900${i}`),
      );
    });
    fs.writeFileSync(
      path.join(dir, 'contacts', 'new-contact.vcf'),
      'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Hopper;Grace;;;\r\nFN:Grace Hopper\r\nTEL;TYPE=CELL:+447700900777\r\nEMAIL;TYPE=INTERNET:grace@example.net\r\nEND:VCARD\r\n',
    );
    expect(await sync(url, user, dir, 'two-way')).toContain('Synchronization successful');
    fs.rmSync(dir, { recursive: true, force: true });

    const device = await deviceOf(request, devId);
    await signInAs(page, 'agent');
    await page.goto(`/devices/${device.id}`);
    const section = page.getByRole('region', { name: 'Contacts and calendar' });
    await expect(section.getByText(user)).toBeVisible();
    const backups = section.getByRole('table', { name: 'Contacts and calendar backups' });
    await expect(backups.getByRole('row')).toHaveCount(3); // the header and two backups
    await expect(backups.getByRole('row').nth(1)).toContainText('two-way');
    await expect(backups.getByRole('row').nth(1)).toContainText('51');
    await expect(backups.getByRole('row').nth(1)).toContainText('1 added, 2 changed');
    await expect(backups.getByRole('row').nth(2)).toContainText('slow');
    await keepScreenshot(page, testInfo, 'ds-device-section');
    // With a DS account the agent can order a contacts backup over DM.
    await section.getByRole('button', { name: 'Back up contacts now' }).click();
    await expect(page.getByText('Contacts backup queued')).toBeVisible();
    await expect(section.getByRole('link', { name: 'Follow the contacts backup' })).toBeVisible();

    // Browse the newest backup: contacts by name with their numbers; find the new one.
    await backups
      .getByRole('row')
      .nth(1)
      .getByRole('link', { name: /Browse/ })
      .click();
    await expect(page.getByRole('heading', { name: 'Contacts and calendar backup' })).toBeVisible();
    await expect(page.getByText('51 contacts')).toBeVisible();
    await page.getByLabel('Find a contact by name').fill('Hopper');
    await page.getByRole('button', { name: 'Find' }).click();
    const list = page.getByRole('list', { name: 'Contacts' });
    await expect(list.getByRole('listitem')).toHaveCount(1);
    await expect(list).toContainText('Grace Hopper');
    await expect(list).toContainText('+447700900777');
    await expect(list).toContainText('grace@example.net');
    await page.getByRole('link', { name: /Events \(5\)/ }).click();
    await expect(page.getByRole('list', { name: 'Events' }).getByRole('listitem')).toHaveCount(5);
    await keepScreenshot(page, testInfo, 'ds-backup-events');

    // The diff with the previous backup: two changed contacts, old and new numbers, one added.
    await page.goto(`/devices/${device.id}`);
    await page
      .getByRole('table', { name: 'Contacts and calendar backups' })
      .getByRole('link', { name: /^Diff with previous\s*: the DS backup/ })
      .click();
    await expect(page.getByRole('heading', { name: 'Contacts and calendar: what changed' })).toBeVisible();
    await expect(page.getByText('1 contact added, 2 contacts changed')).toBeVisible();
    const changedList = page.getByRole('list', { name: 'Changed' });
    await expect(changedList.getByRole('listitem')).toHaveCount(2);
    for (const [i, c] of changed.entries()) {
      const item = changedList.getByRole('listitem').filter({ hasText: fn(c.text) });
      await expect(item).toHaveCount(1);
      const mobile = item.getByRole('row', { name: /Mobile/ });
      await expect(mobile).toContainText(/TEL;TYPE=CELL:([^\r\n]+)/.exec(c.text)![1]!);
      await expect(mobile).toContainText(`+44770099900${i}`);
    }
    const added = page.getByRole('list', { name: 'Added' });
    await expect(added.getByRole('listitem')).toHaveCount(1);
    await expect(added).toContainText('Grace Hopper');
    await expect(page.getByRole('region', { name: 'Removed (0)' })).toContainText('Nothing was removed.');
    await keepScreenshot(page, testInfo, 'ds-diff');

    // On a narrow screen the side-by-side fields still read.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect(changedList.getByRole('listitem').first()).toBeVisible();
    await keepScreenshot(page, testInfo, 'ds-diff-narrow');
  });

  test('an admin creates a DS account for a handset on /admin/ds', async ({ page }, testInfo) => {
    const devId = addHandset('Ed Admin-Made');
    const user = `ed-${randomUUID().slice(0, 8)}`;
    await signInAs(page, 'admin');
    await page.goto('/');
    await page.getByRole('link', { name: 'DS accounts' }).click();
    await expect(page.getByRole('heading', { name: 'DS accounts', level: 1 })).toBeVisible();
    const form = page.getByRole('region', { name: 'Create a DS account' });
    await form.getByLabel('Handset DevId').fill(devId);
    await form.getByLabel('DS user name').fill(user);
    await form.getByLabel('DS password').fill('ab');
    await form.getByLabel('Authentication').selectOption('md5');
    await form.getByRole('button', { name: 'Create account' }).click();
    await expect(form.getByRole('alert').first()).toBeVisible();
    // A form action resets the form it ran: the admin types it all again.
    await form.getByLabel('Handset DevId').fill(devId);
    await form.getByLabel('DS user name').fill(user);
    await form.getByLabel('DS password').fill('long-enough-pass');
    await form.getByLabel('Authentication').selectOption('md5');
    await form.getByRole('button', { name: 'Create account' }).click();
    await expect(page.getByText(/DS account saved/)).toBeVisible();
    const handset = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: devId }) });
    await expect(handset).toContainText(user);
    await expect(handset).toContainText('MD5');
    await keepScreenshot(page, testInfo, 'ds-admin-accounts');

    // The handset's page now shows the account, and says no sync has completed yet.
    await handset.getByRole('link', { name: devId }).click();
    const section = page.getByRole('region', { name: 'Contacts and calendar' });
    await expect(section).toContainText(user);
    await expect(section).toContainText('No sync has completed yet');
    await expect(section.getByRole('button', { name: 'Back up contacts now' })).toBeVisible();
  });
});
