/**
 * Debian's SyncEvolution, a real OMA DS 1.2 client, against /ds: slow syncs of a thousand
 * contacts and two hundred events in XML and in WBXML, a refresh-from-server into an empty
 * directory that gives them back field for field, and a two-way sync that sends only what
 * changed. scripts/ensure-system-deps.sh installs SyncEvolution; without it these skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsItemsOf, dsSnapshotsOf, getDsAccountByUser } from '@/db/queries/ds';
import { provisionDevice } from '@/lib/devices/devices';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { addDsAccount } from './accounts';
import { generateContacts, generateEvents } from '../../sim/ds-generate';
import { fields } from './vobject';

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

const DEV = 'IMEI:356938035643809';
const CONTACTS = generateContacts(11, 1000);
const EVENTS = generateEvents(11, 200);

let t: TestServer;
let root: string;
let url: string;

function sync(user: string, dir: string, mode: string, enc: 'xml' | 'wbxml'): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SYNC_SH!, url, user, 'secret-pass', dir, mode, enc],
      { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err)
          reject(
            new Error(`sync.sh ${mode} ${enc} failed: ${err.message}\n${stdout.slice(-3000)}\n${stderr.slice(-2000)}`),
          );
        else resolve(stdout);
      },
    );
  });
}

function writeStore(dir: string): void {
  fs.mkdirSync(path.join(dir, 'contacts'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'calendar'), { recursive: true });
  for (const c of CONTACTS) fs.writeFileSync(path.join(dir, 'contacts', `${c.id}.vcf`), c.text);
  for (const e of EVENTS) fs.writeFileSync(path.join(dir, 'calendar', `${e.id}.ics`), e.text);
}

/** Each item's fields, sorted: a multiset to compare order-independently. SyncEvolution's file store keeps no vCard UID. */
function fieldSets(texts: readonly string[], kind: 'contacts' | 'calendar'): string[] {
  return texts.map((x) => fields(x, kind === 'contacts' ? { ignore: ['UID'] } : {}).join('\n')).sort();
}

function readDir(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((f) => !f.startsWith('.'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

beforeAll(async () => {
  if (!hasSyncEvolution) return;
  t = await startTestServer();
  url = `http://127.0.0.1:${t.server.port}/ds`;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-se-'));
  await provisionDevice(t.ctx.db, {
    devId: DEV,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
  for (const user of ['phone-xml', 'phone-wbxml'])
    await addDsAccount(t.ctx.db, { devId: DEV, user, pass: 'secret-pass' });
});

afterAll(async () => {
  await t?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!hasSyncEvolution)('SyncEvolution against /ds', () => {
  for (const enc of ['xml', 'wbxml'] as const) {
    it(`slow-syncs 1,000 vCards and 200 events in ${enc.toUpperCase()}`, async () => {
      const dir = path.join(root, `slow-${enc}`);
      writeStore(dir);
      const out = await sync(`phone-${enc}`, dir, 'slow', enc);
      expect(out).toContain('Synchronization successful');
      const account = (await getDsAccountByUser(t.ctx.db, `phone-${enc}`))!;
      expect(await dsItemsOf(t.ctx.db, account.id, 'contacts')).toHaveLength(1000);
      expect(await dsItemsOf(t.ctx.db, account.id, 'calendar')).toHaveLength(200);
      const [snap] = (await dsSnapshotsOf(t.ctx.db, account.deviceId)).filter((s) => s.accountId === account.id);
      expect(snap).toMatchObject({ contacts: 1000, events: 200, syncType: 'slow' });
      // What the server stored is what the client had, field for field.
      const stored = await Promise.all(
        (await dsItemsOf(t.ctx.db, account.id, 'contacts')).map(async (i) =>
          new TextDecoder().decode((await t.ctx.blobs.get(i.hash))!),
        ),
      );
      expect(fieldSets(stored, 'contacts')).toEqual(
        fieldSets(
          CONTACTS.map((c) => c.text),
          'contacts',
        ),
      );
    }, 300_000);
  }

  it('gives the same contacts and events back with a refresh-from-server into an empty directory', async () => {
    const dir = path.join(root, 'restored');
    // The WBXML account: the XML one's handset keeps its mapping for the two-way sync below.
    const out = await sync('phone-wbxml', dir, 'refresh-from-server', 'xml');
    expect(out).toContain('Synchronization successful');
    expect(fieldSets(readDir(path.join(dir, 'contacts')), 'contacts')).toEqual(
      fieldSets(
        CONTACTS.map((c) => c.text),
        'contacts',
      ),
    );
    expect(fieldSets(readDir(path.join(dir, 'calendar')), 'calendar')).toEqual(
      fieldSets(
        EVENTS.map((e) => e.text),
        'calendar',
      ),
    );
  }, 300_000);

  it('sends only the 3 changed contacts in a later two-way sync', async () => {
    const dir = path.join(root, 'slow-xml');
    for (const c of CONTACTS.slice(0, 3)) {
      const f = path.join(dir, 'contacts', `${c.id}.vcf`);
      fs.writeFileSync(
        f,
        fs
          .readFileSync(f, 'utf8')
          .replace(/^NOTE:.*\r\n/m, '')
          .replace('END:VCARD', 'NOTE:changed on the handset\r\nEND:VCARD'),
      );
    }
    const out = await sync('phone-xml', dir, 'two-way', 'xml');
    expect(out).toContain('Synchronization successful');
    const account = (await getDsAccountByUser(t.ctx.db, 'phone-xml'))!;
    const [latest] = (await dsSnapshotsOf(t.ctx.db, account.deviceId)).filter((s) => s.accountId === account.id);
    expect(latest!.syncType).toBe('two-way');
    const changes = JSON.parse(latest!.changes) as Record<
      string,
      { received: number; replaced: number; added: number; deleted: number }
    >;
    expect(changes.contacts).toMatchObject({ received: 3, replaced: 3, added: 0, deleted: 0 });
    expect(changes.calendar).toMatchObject({ received: 0 });
    const notes = await Promise.all(
      (await dsItemsOf(t.ctx.db, account.id, 'contacts')).map(async (i) =>
        new TextDecoder().decode((await t.ctx.blobs.get(i.hash))!),
      ),
    );
    expect(notes.filter((n) => n.includes('changed on the handset'))).toHaveLength(3);
  }, 300_000);
});
