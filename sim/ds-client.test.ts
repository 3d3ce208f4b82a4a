/**
 * The virtual handsets' DS client against the real /ds endpoint in process: slow, two-way,
 * refresh-from-server and refresh-from-client syncs in XML and WBXML, basic and MD5 (with
 * the challenge retried), multi-message packages both ways under a small MaxMsgSize.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsItemsOf, dsSnapshotsOf, getDsAccountByUser } from '@/db/queries/ds';
import { provisionDevice } from '@/lib/devices/devices';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { addDsAccount } from '../lib/ds/accounts';
import { fields } from '../lib/ds/vobject';
import type { DsStoreName } from '../lib/ds/protocol';
import { runDsSession, type DsClientConfig } from './ds-client';
import { emptyHandsetDs, generatedHandsetDs, userDelete, userPut, type HandsetDs } from './ds-store';
import { httpTransport, type Transport } from './transport';

const DEV = 'IMEI:356938035643817';
let t: TestServer;
let url: string;

beforeAll(async () => {
  t = await startTestServer();
  url = `http://127.0.0.1:${t.server.port}/ds`;
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
  await addDsAccount(t.ctx.db, { devId: DEV, user: 'basic-xml', pass: 'secret-1' });
  await addDsAccount(t.ctx.db, { devId: DEV, user: 'md5-wbxml', pass: 'secret-2', auth: 'md5' });
  await addDsAccount(t.ctx.db, { devId: DEV, user: 'small', pass: 'secret-3' });
});

afterAll(async () => {
  await t?.close();
});

function config(user: string, password: string, over: Partial<DsClientConfig> = {}): DsClientConfig {
  return {
    serverUrl: url,
    user,
    password,
    scheme: 'basic',
    devId: DEV,
    man: 'Nimbus Mobile',
    mod: 'N1',
    swV: '4.2',
    encoding: 'xml',
    maxMsgSize: 64 * 1024,
    stores: ['contacts', 'calendar'],
    syncType: 'two-way',
    transport: httpTransport,
    ...over,
  };
}

/** Each item's fields, sorted: order-independent, and equal when every field is. */
function fieldSets(ds: HandsetDs, store: DsStoreName): string[] {
  return Object.values(ds.stores[store].items)
    .map((i) => fields(i.text).join('\n'))
    .sort();
}

async function serverFieldSets(user: string, store: DsStoreName): Promise<string[]> {
  const account = (await getDsAccountByUser(t.ctx.db, user))!;
  const out: string[] = [];
  for (const row of await dsItemsOf(t.ctx.db, account.id, store))
    out.push(fields(new TextDecoder().decode((await t.ctx.blobs.get(row.hash))!)).join('\n'));
  return out.sort();
}

describe('DS client against /ds', () => {
  it('slow sync (508 on a first two-way), then a two-way sync after 2 edits sends exactly those 2', async () => {
    let ds = generatedHandsetDs(7, 'nimbus-n1');
    const contacts = Object.keys(ds.stores.contacts.items).length;
    const events = Object.keys(ds.stores.calendar.items).length;
    expect(contacts).toBeGreaterThanOrEqual(50);
    expect(events).toBeGreaterThanOrEqual(20);

    const first = await runDsSession(config('basic-xml', 'secret-1'), ds);
    expect(first.ok, first.error).toBe(true);
    expect(first.stores.map((s) => s.syncType)).toEqual(['slow', 'slow']);
    expect(first.stores.find((s) => s.store === 'contacts')!.added).toBe(contacts);
    ds = first.ds!;
    expect(await serverFieldSets('basic-xml', 'contacts')).toEqual(fieldSets(ds, 'contacts'));
    expect(await serverFieldSets('basic-xml', 'calendar')).toEqual(fieldSets(ds, 'calendar'));

    const [a, b] = Object.keys(ds.stores.contacts.items);
    userPut(ds, 'contacts', ds.stores.contacts.items[a!]!.text.replace(/^FN:.*$/m, 'FN:Edited Once'), a);
    userPut(ds, 'contacts', ds.stores.contacts.items[b!]!.text.replace(/^FN:.*$/m, 'FN:Edited Twice'), b);
    const second = await runDsSession(config('basic-xml', 'secret-1'), ds);
    expect(second.ok, second.error).toBe(true);
    const c = second.stores.find((s) => s.store === 'contacts')!;
    expect(second.stores.map((s) => s.syncType)).toEqual(['two-way', 'two-way']);
    expect(c).toMatchObject({ sent: 2, replaced: 2, added: 0, failed: 0, received: 0 });
    expect(second.stores.find((s) => s.store === 'calendar')!.sent).toBe(0);
    const account = (await getDsAccountByUser(t.ctx.db, 'basic-xml'))!;
    const snaps = (await dsSnapshotsOf(t.ctx.db, account.deviceId)).filter((s) => s.accountId === account.id);
    expect(JSON.parse(snaps[0]!.changes).contacts).toMatchObject({ received: 2, replaced: 2, added: 0 });
    ds = second.ds!;
    expect(Object.keys(ds.stores.contacts.changes)).toHaveLength(0);

    // A deletion and a new contact go as a Delete and an Add.
    userDelete(ds, 'contacts', a!);
    userPut(ds, 'contacts', 'BEGIN:VCARD\r\nVERSION:3.0\r\nN:Newcomer;Nia;;;\r\nFN:Nia Newcomer\r\nEND:VCARD\r\n');
    const third = await runDsSession(config('basic-xml', 'secret-1', { stores: ['contacts'] }), ds);
    expect(third.ok, third.error).toBe(true);
    expect(third.stores[0]).toMatchObject({ sent: 2, added: 1, deleted: 1 });
    ds = third.ds!;
    expect(await serverFieldSets('basic-xml', 'contacts')).toEqual(fieldSets(ds, 'contacts'));

    // Refresh-from-server into an emptied handset: everything back, field by field.
    const empty = emptyHandsetDs('nimbus-n1');
    const restored = await runDsSession(config('basic-xml', 'secret-1', { syncType: 'refresh-from-server' }), empty);
    expect(restored.ok, restored.error).toBe(true);
    expect(fieldSets(restored.ds!, 'contacts')).toEqual(fieldSets(ds, 'contacts'));
    expect(fieldSets(restored.ds!, 'calendar')).toEqual(fieldSets(ds, 'calendar'));
    expect(restored.stores.find((s) => s.store === 'contacts')!.added).toBe(
      Object.keys(ds.stores.contacts.items).length,
    );
    // The Map went in: a two-way sync afterwards has nothing to send either way.
    const after = await runDsSession(config('basic-xml', 'secret-1'), restored.ds!);
    expect(after.ok, after.error).toBe(true);
    expect(after.stores.map((s) => [s.syncType, s.sent, s.received])).toEqual([
      ['two-way', 0, 0],
      ['two-way', 0, 0],
    ]);
    expect(
      (await dsItemsOf(t.ctx.db, (await getDsAccountByUser(t.ctx.db, 'basic-xml'))!.id)).every((i) => i.luid),
    ).toBe(true);
  });

  it('MD5 in WBXML: the challenge is answered once, and the next session uses the nonce it was given', async () => {
    const ds = generatedHandsetDs(8, 'korra-k7');
    let posts = 0;
    const counting: Transport = (req) => {
      posts++;
      return httpTransport(req);
    };
    const first = await runDsSession(
      config('md5-wbxml', 'secret-2', { scheme: 'md5', encoding: 'wbxml', transport: counting }),
      ds,
    );
    expect(first.ok, first.error).toBe(true);
    expect(first.ds!.nonces['md5-wbxml']).toBeTruthy();
    const firstPosts = posts;
    posts = 0;
    // A basic-first client against an MD5 account is challenged and switches.
    const again = await runDsSession(
      config('md5-wbxml', 'secret-2', { scheme: 'md5', encoding: 'wbxml', transport: counting }),
      first.ds!,
    );
    expect(again.ok, again.error).toBe(true);
    expect(posts).toBe(firstPosts - 1);
    expect(Object.values(first.ds!.stores.contacts.items)[0]!.type).toBe('text/x-vcard');
    expect(await serverFieldSets('md5-wbxml', 'calendar')).toEqual(fieldSets(first.ds!, 'calendar'));

    const wrong = await runDsSession(config('md5-wbxml', 'not-it', { scheme: 'md5', encoding: 'wbxml' }), first.ds!);
    expect(wrong).toMatchObject({ ok: false, result: 410 });
    expect(wrong.ds).toBeUndefined();
  });

  it('multi-message packages both ways under a 16 KB MaxMsgSize', async () => {
    const ds = generatedHandsetDs(9, 'nimbus-n2');
    const n = Object.keys(ds.stores.contacts.items).length + Object.keys(ds.stores.calendar.items).length;
    const up = await runDsSession(
      config('small', 'secret-3', { maxMsgSize: 16 * 1024, syncType: 'refresh-from-client' }),
      ds,
    );
    expect(up.ok, up.error).toBe(true);
    expect(up.messagesOut).toBeGreaterThan(4);
    expect(up.stores.reduce((s, x) => s + x.added, 0)).toBe(n);
    const down = await runDsSession(
      config('small', 'secret-3', { maxMsgSize: 16 * 1024, syncType: 'refresh-from-server', encoding: 'wbxml' }),
      emptyHandsetDs('nimbus-n2'),
    );
    expect(down.ok, down.error).toBe(true);
    expect(down.messagesIn).toBeGreaterThan(4);
    expect(fieldSets(down.ds!, 'contacts')).toEqual(fieldSets(ds, 'contacts'));
    expect(fieldSets(down.ds!, 'calendar')).toEqual(fieldSets(ds, 'calendar'));
  });

  it('an unreachable server is 411 and leaves the stores as they were', async () => {
    const ds = generatedHandsetDs(10, 'nimbus-n1');
    const out = await runDsSession(
      config('basic-xml', 'secret-1', { serverUrl: 'http://127.0.0.1:1/ds', timeoutMs: 2000 }),
      ds,
    );
    expect(out).toMatchObject({ ok: false, result: 411 });
  });
});
