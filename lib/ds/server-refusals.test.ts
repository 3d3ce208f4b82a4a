/**
 * What the DS flood (lib/gateway/ds-fuzz.test.ts) found the server answering wrongly, each
 * case on its own over real HTTP: a store named after an Object member, an Alert without an
 * Item, an over-long LUID, a Large Object announced too big, content of the wrong kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dsItemsOf, getDsAccountByUser } from '@/db/queries/ds';
import { provisionDevice } from '../devices/devices';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import { AUTH_TYPE, basicCredential } from '../omadm/auth';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { MIME, type Command, type Item, type Status, type SyncMLMessage } from '../omadm/message';
import { addDsAccount } from './accounts';
import { storeOfUri } from './protocol';
import { DS_MAX_OBJ_SIZE } from './session';

let srv: TestServer;
let url: string;
let accountId: string;

beforeAll(async () => {
  srv = await startTestServer();
  url = `http://127.0.0.1:${srv.server.port}/ds`;
  await provisionDevice(srv.ctx.db, {
    devId: 'IMEI:356938035643809',
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
  accountId = (await addDsAccount(srv.ctx.db, { devId: 'IMEI:356938035643809', user: 'ada', pass: 'ada-secret' }))
    .account.id;
});

afterAll(async () => {
  await srv?.close();
});

const VCARD = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\nEND:VCARD\r\n';
/** A vCard of its own: a slow sync matches an unmapped item by content, which these cases must not meet. */
let cards = 0;
const vcard = () => VCARD.replace('FN:Ada Lovelace', `FN:Ada Lovelace ${++cards}`);
const VEVENT =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Dentist\r\nDTSTART:20260105T080000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

let sessions = 0;
/** One session: Pkg #1 with the given Alerts, then each of `messages` in turn; the statuses of each answer. */
async function session(alerts: Command[], ...messages: Command[][]): Promise<Status[][]> {
  const sessionId = `r${++sessions}`;
  const out: Status[][] = [];
  const all = [alerts, ...messages];
  for (const [i, commands] of all.entries()) {
    const msg: SyncMLMessage = {
      hdr: {
        verDTD: '1.2',
        verProto: 'SyncML/1.2',
        sessionId,
        msgId: i + 1,
        target: { locURI: url },
        source: { locURI: 'refusals-client' },
        ...(i === 0
          ? { cred: { meta: { type: AUTH_TYPE.basic, format: 'b64' }, data: basicCredential('ada', 'ada-secret') } }
          : {}),
      },
      body: { commands, final: i === 0 },
    };
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': MIME.dsXml },
      body: new Uint8Array(encodeMessage(msg, 'xml')),
    });
    expect(r.status).toBe(200);
    out.push(
      decodeMessage(new Uint8Array(await r.arrayBuffer()), 'xml').body.commands.filter(
        (c): c is Status => c.kind === 'Status',
      ),
    );
  }
  return out;
}

const alert = (cmdId: number, target: string): Command => ({
  kind: 'Alert',
  cmdId,
  data: '201',
  items: [{ target: { locURI: target }, source: { locURI: './contacts' }, meta: { anchor: { next: '1' } } }],
});
const sync = (cmdId: number, target: string, commands: Command[]): Command => ({
  kind: 'Sync',
  cmdId,
  target: { locURI: target },
  source: { locURI: './contacts' },
  commands,
});
const add = (cmdId: number, item: Item, type = 'text/vcard'): Command => ({
  kind: 'Add',
  cmdId,
  meta: { type },
  items: [item],
});
const codeOf = (st: Status[], cmdRef: number) => st.filter((s) => s.cmdRef === cmdRef).map((s) => s.data);

describe('the DS server answers with a status, and keeps nothing, for', () => {
  it('a datastore named constructor, __proto__ or toString (404, not a failed request)', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty'])
      expect(storeOfUri(name), name).toBeUndefined();
    const [init, next] = await session(
      [alert(1, 'constructor'), alert(2, '__proto__'), alert(3, 'card')],
      [sync(4, 'toString', [add(5, { source: { locURI: 'c1' }, data: VCARD })])],
    );
    expect(codeOf(init!, 1)).toEqual(['404']);
    expect(codeOf(init!, 2)).toEqual(['404']);
    expect(codeOf(init!, 3)).toEqual(['200']);
    expect(codeOf(next!, 4)).toEqual(['404']);
    expect(await dsItemsOf(srv.ctx.db, accountId)).toHaveLength(0);
  });

  it('a sync Alert without an Item (412: every command gets its status)', async () => {
    const [init] = await session([{ kind: 'Alert', cmdId: 1, data: '200', items: [] }, alert(2, 'card')]);
    expect(codeOf(init!, 1)).toEqual(['412']);
    expect(codeOf(init!, 2)).toEqual(['200']);
  });

  it('a LUID over 256 characters (414), which was cut short and then not found again by its Delete', async () => {
    const long = `c-${'x'.repeat(300)}`;
    const [, put, del] = await session(
      [alert(1, 'card')],
      [
        sync(2, 'card', [
          add(3, { source: { locURI: long }, data: VCARD }),
          add(4, { source: { locURI: 'c-short' }, data: vcard() }),
        ]),
      ],
      [sync(5, 'card', [{ kind: 'Delete', cmdId: 6, items: [{ source: { locURI: long } }] }])],
    );
    expect(codeOf(put!, 3)).toEqual(['414']);
    expect(codeOf(put!, 4)).toEqual(['201']);
    expect(codeOf(del!, 6)).toEqual(['414']);
    expect((await dsItemsOf(srv.ctx.db, accountId)).map((i) => i.luid)).toEqual(['c-short']);
  });

  it('a Large Object announced bigger than MaxObjSize (413 with its first chunk)', async () => {
    const before = (await dsItemsOf(srv.ctx.db, accountId)).length;
    const [, first, next] = await session(
      [alert(1, 'card')],
      [
        sync(2, 'card', [
          {
            kind: 'Replace',
            cmdId: 3,
            items: [
              {
                source: { locURI: 'lo' },
                meta: { type: 'text/vcard', size: DS_MAX_OBJ_SIZE + 1 },
                data: 'BEGIN:VCARD\r\n',
                moreData: true,
              },
            ],
          },
        ]),
      ],
      [sync(4, 'card', [add(5, { source: { locURI: 'after-lo' }, data: vcard() })])],
    );
    expect(codeOf(first!, 3)).toEqual(['413']);
    expect(codeOf(next!, 5)).toEqual(['201']); // nothing of the refused object was kept to get in its way
    expect(await dsItemsOf(srv.ctx.db, accountId)).toHaveLength(before + 1);
  });

  it("content that is not the store's kind: an event in contacts, no vObject at all, a stray Large Object tail (415, was stored or 500)", async () => {
    const before = (await dsItemsOf(srv.ctx.db, accountId)).length;
    const half = Math.floor(VCARD.length / 2);
    const [, st, tail] = await session(
      [alert(1, 'card')],
      [
        sync(2, 'card', [
          add(3, { source: { locURI: 'k1' }, data: VEVENT }),
          add(4, { source: { locURI: 'k2' }, data: 'hello world' }),
          add(5, { source: { locURI: 'k3' }, data: 'X-JUNK:1\r\nY-JUNK:2\r\n' }),
          add(6, { source: { locURI: 'k4' }, data: VCARD.slice(0, half), moreData: true }),
          add(7, { source: { locURI: 'k5' }, data: vcard() }), // interrupts k4
        ]),
      ],
      [sync(8, 'card', [add(9, { source: { locURI: 'k4' }, data: VCARD.slice(half) })])],
    );
    expect(codeOf(st!, 3)).toEqual(['415']);
    expect(codeOf(st!, 4)).toEqual(['415']);
    expect(codeOf(st!, 5)).toEqual(['415']);
    expect(codeOf(st!, 6)).toEqual(['213']);
    expect(codeOf(st!, 7)).toEqual(['201']);
    expect(codeOf(tail!, 9)).toEqual(['415']);
    expect((await dsItemsOf(srv.ctx.db, accountId)).map((i) => i.luid)).toContain('k5');
    expect(await dsItemsOf(srv.ctx.db, accountId)).toHaveLength(before + 1);
    expect(await getDsAccountByUser(srv.ctx.db, 'ada')).toBeDefined();
  });

  it('an Alert 223 (no end of data) mid-session: acknowledged, and the session goes on (it is not an abort)', async () => {
    const before = (await dsItemsOf(srv.ctx.db, accountId)).length;
    const [, mid, next] = await session(
      [alert(1, 'card')],
      [{ kind: 'Alert', cmdId: 2, data: '223', items: [] }],
      [sync(3, 'card', [add(4, { source: { locURI: 'after-223' }, data: vcard() })])],
    );
    expect(codeOf(mid!, 2)).toEqual(['200']);
    expect(codeOf(next!, 4)).toEqual(['201']);
    expect(await dsItemsOf(srv.ctx.db, accountId)).toHaveLength(before + 1);
  });
});
