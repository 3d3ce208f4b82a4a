/**
 * POST /ds against hostile and broken clients, over real HTTP: every case gets a clear error
 * (an HTTP 4xx, or a SyncML status) and touches nothing outside the client's own account.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { AUTH_TYPE, basicCredential } from '../omadm/auth';
import { MIME, type Command, type Status, type SyncMLMessage } from '../omadm/message';
import { sql } from 'drizzle-orm';
import { dsItemsOf, getDsAccountByUser } from '@/db/queries/ds';
import { value } from '@/db/sql';
import { provisionDevice } from '../devices/devices';
import { addDsAccount } from '../ds/accounts';
import { startTestServer, type TestServer } from '../../test/support/test-server';

let srv: TestServer;
let url: string;
const unhandled: unknown[] = [];
const onUnhandled = (r: unknown) => {
  unhandled.push(r);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  srv = await startTestServer();
  url = `http://127.0.0.1:${srv.server.port}/ds`;
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  await provisionDevice(srv.ctx.db, { ...base, devId: 'IMEI:356938035643809' });
  await provisionDevice(srv.ctx.db, { ...base, devId: 'IMEI:490154203237518' });
  await addDsAccount(srv.ctx.db, { devId: 'IMEI:356938035643809', user: 'ada', pass: 'ada-secret' });
  await addDsAccount(srv.ctx.db, { devId: 'IMEI:490154203237518', user: 'bob', pass: 'bob-secret' });
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await srv?.close();
});

async function post(
  body: Uint8Array | string,
  type: string = MIME.dsXml,
  method = 'POST',
): Promise<{ status: number; text: string; bytes: Uint8Array }> {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': type },
    ...(method === 'POST' ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}),
  });
  const bytes = new Uint8Array(await r.arrayBuffer());
  return { status: r.status, text: new TextDecoder().decode(bytes), bytes };
}

let session = 0;
function message(
  commands: Command[],
  opts: { user?: string; pass?: string; sessionId?: string; msgId?: number; final?: boolean } = {},
): SyncMLMessage {
  return {
    hdr: {
      verDTD: '1.2',
      verProto: 'SyncML/1.2',
      sessionId: opts.sessionId ?? String(++session),
      msgId: opts.msgId ?? 1,
      target: { locURI: url },
      source: { locURI: 'hostile-client' },
      ...(opts.user
        ? {
            cred: { meta: { type: AUTH_TYPE.basic, format: 'b64' }, data: basicCredential(opts.user, opts.pass ?? '') },
          }
        : {}),
    },
    body: { commands, final: opts.final ?? true },
  };
}

async function exchange(msg: SyncMLMessage): Promise<Status[]> {
  const r = await post(encodeMessage(msg, 'xml'));
  expect(r.status).toBe(200);
  return decodeMessage(r.bytes, 'xml').body.commands.filter((c): c is Status => c.kind === 'Status');
}

const alert = (cmdId: number, code: number, target = 'card'): Command => ({
  kind: 'Alert',
  cmdId,
  data: String(code),
  items: [{ target: { locURI: target }, source: { locURI: './contacts' }, meta: { anchor: { next: '1' } } }],
});

describe('the DS endpoint refuses', () => {
  it('other methods, other content types, garbage, entities and the DM protocol with plain 4xx answers', async () => {
    expect((await post('', MIME.dsXml, 'GET')).status).toBe(405);
    expect((await post('hello', 'text/plain')).status).toBe(415);
    expect((await post('<SyncML><SyncHdr>')).status).toBe(400);
    const entities = '<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY x "xxxxxxxx">]><SyncML>&x;</SyncML>';
    expect((await post(entities)).status).toBe(400);
    expect((await post(Uint8Array.from([0x02, 0x00, 0x00, 0x6a, 0xff, 0xff, 0xff]), MIME.dsWbxml)).status).toBe(400);
    const dm = message([]);
    dm.hdr.verProto = 'DM/1.2';
    expect((await post(encodeMessage(dm, 'xml'))).status).toBe(400);
    expect((await post(new Uint8Array(3 * 1024 * 1024))).status).toBe(413);
  });

  it('a client without credentials, or with a wrong password, with 407/401 and a challenge, keeping no session', async () => {
    const none = await exchange(message([alert(1, 201)]));
    expect(none[0]).toMatchObject({ cmd: 'SyncHdr', data: '407' });
    expect(none[0]!.chal?.meta.type).toBe(AUTH_TYPE.basic);
    const wrong = await exchange(message([alert(1, 201)], { user: 'ada', pass: 'not-it' }));
    expect(wrong[0]).toMatchObject({ cmd: 'SyncHdr', data: '401' });
    expect(wrong.find((s) => s.cmd === 'Alert')?.data).toBe('401');
    const unknown = await exchange(message([alert(1, 201)], { user: 'nobody', pass: 'x' }));
    expect(unknown[0]!.data).toBe('401');
    expect(await value(srv.ctx.db, sql`select count(*) from ds_sessions`)).toBe(0);
  });

  it('unknown datastores, sync types and content types with SyncML statuses, storing nothing', async () => {
    const sid = 'bad-stores';
    const init = await exchange(
      message(
        [alert(1, 201, './../../etc/passwd'), { kind: 'Alert', cmdId: 2, data: '299', items: [] }, alert(3, 201)],
        { user: 'ada', pass: 'ada-secret', sessionId: sid },
      ),
    );
    expect(init[0]!.data).toBe('212');
    expect(init.find((s) => s.cmdRef === 1)?.data).toBe('404');
    expect(init.find((s) => s.cmdRef === 2)?.data).toBe('406');
    expect(init.find((s) => s.cmdRef === 3)?.data).toBe('200');
    const sync = await exchange(
      message(
        [
          { kind: 'Sync', cmdId: 1, target: { locURI: 'cal' }, source: { locURI: './calendar' }, commands: [] },
          {
            kind: 'Sync',
            cmdId: 2,
            target: { locURI: 'card' },
            source: { locURI: './contacts' },
            commands: [
              {
                kind: 'Add',
                cmdId: 3,
                items: [{ source: { locURI: '../x' }, meta: { type: 'text/html' }, data: '<script>alert(1)</script>' }],
              },
              {
                kind: 'Add',
                cmdId: 4,
                items: [
                  { source: { locURI: 'big' }, meta: { type: 'text/vcard' }, data: 'x'.repeat(1024 * 1024 + 10) },
                ],
              },
              { kind: 'Add', cmdId: 5, items: [{ source: { locURI: 'nul\u0000' }, meta: { type: 'text/vcard' } }] },
              { kind: 'Delete', cmdId: 6, items: [{ source: { locURI: 'never-added' } }] },
            ],
          },
        ],
        { sessionId: sid, msgId: 2 },
      ),
    );
    expect(sync.find((s) => s.cmdRef === 1)?.data).toBe('404'); // the calendar was never alerted
    expect(sync.find((s) => s.cmdRef === 3)?.data).toBe('415');
    expect(sync.find((s) => s.cmdRef === 4)?.data).toBe('413');
    expect(sync.find((s) => s.cmdRef === 5)?.data).toBe('412');
    expect(sync.find((s) => s.cmdRef === 6)?.data).toBe('211');
    expect(await dsItemsOf(srv.ctx.db, (await getDsAccountByUser(srv.ctx.db, 'ada'))!.id)).toHaveLength(0);
  });

  it('a session another client tries to continue: it is found by its own Source and SessionID only', async () => {
    const sid = 'ada-session';
    await exchange(message([alert(1, 201)], { user: 'ada', pass: 'ada-secret', sessionId: sid }));
    // The same SessionID from another client, without credentials: a new session, which needs them.
    const other = message(
      [
        {
          kind: 'Sync',
          cmdId: 1,
          target: { locURI: 'card' },
          source: { locURI: './contacts' },
          commands: [
            {
              kind: 'Add',
              cmdId: 2,
              items: [
                {
                  source: { locURI: 'evil' },
                  meta: { type: 'text/vcard' },
                  data: 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Evil\r\nEND:VCARD\r\n',
                },
              ],
            },
          ],
        },
      ],
      { sessionId: sid, msgId: 2 },
    );
    other.hdr.source.locURI = 'another-client';
    const st = await exchange(other);
    expect(st[0]!.data).toBe('407');
    for (const u of ['ada', 'bob'])
      expect(await dsItemsOf(srv.ctx.db, (await getDsAccountByUser(srv.ctx.db, u))!.id)).toHaveLength(0);
    expect(unhandled).toEqual([]);
  });
});
