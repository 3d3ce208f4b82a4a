/**
 * The DS session without a database: each message's lookups given by hand, its effects read
 * as the glue (lib/gateway/ds-session.ts) would apply them. The endpoint's own tests
 * (server-refusals, ds-hostile, ds-fuzz, sim/ds-client) run the same code over HTTP.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AUTH_TYPE, basicCredential, md5Derived } from '../omadm/auth';
import type { Command, Status, SyncHdr, SyncMLMessage } from '../omadm/message';
import { utf8Encode } from '../omadm/util/bytes';
import { DS_STATUS, SYNC_TYPES } from './protocol';
import {
  authenticate,
  lookupPlan,
  nextReads,
  openSession,
  receive,
  refuse,
  respond,
  sendSelection,
  signInUser,
  withSendLists,
  type DsAccount,
  type DsEffect,
  type DsItemRef,
  type DsLookups,
  type DsState,
} from './session';

const account: DsAccount = { id: 'acc-1', auth: 'basic', derived: md5Derived('ada', 'ada-secret'), nonce: '' };
const ANNA = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Anna Bell\r\nN:Bell;Anna;;;\r\nEND:VCARD\r\n';
const BOB = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Bob Crane\r\nN:Crane;Bob;;;\r\nEND:VCARD\r\n';
const BOB2 = BOB.replace('Bob Crane', 'Bob Crane Jr');
const EVENT =
  'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:e1\r\nSUMMARY:Dentist\r\nDTSTART:20260105T080000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';

function hdr(msgId: number, cred?: SyncHdr['cred']): SyncHdr {
  return {
    verDTD: '1.2',
    verProto: 'SyncML/1.2',
    sessionId: 's1',
    msgId,
    target: { locURI: 'http://rewind.test/ds' },
    source: { locURI: 'client-1' },
    ...(cred ? { cred } : {}),
  };
}

function message(
  msgId: number,
  commands: Command[],
  opts: { final?: boolean; cred?: SyncHdr['cred'] } = {},
): SyncMLMessage {
  return { hdr: hdr(msgId, opts.cred), body: { commands, final: opts.final ?? true } };
}

const basic = (pass: string): SyncHdr['cred'] => ({
  meta: { type: AUTH_TYPE.basic, format: 'b64' },
  data: basicCredential('ada', pass),
});
const alert = (cmdId: number, code: number, anchor: { last?: string; next: string }, target = 'card'): Command => ({
  kind: 'Alert',
  cmdId,
  data: String(code),
  items: [{ target: { locURI: target }, source: { locURI: './contacts' }, meta: { anchor } }],
});
const add = (cmdId: number, luid: string, data: string): Command => ({
  kind: 'Add',
  cmdId,
  items: [{ source: { locURI: luid }, meta: { type: 'text/vcard' }, data }],
});
const replace = (cmdId: number, luid: string, data: string): Command => ({
  kind: 'Replace',
  cmdId,
  items: [{ source: { locURI: luid }, meta: { type: 'text/vcard' }, data }],
});
const sync = (cmdId: number, commands: Command[], target = 'card'): Command => ({
  kind: 'Sync',
  cmdId,
  target: { locURI: target },
  source: { locURI: './contacts' },
  commands,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const statuses = (m: SyncMLMessage) =>
  m.body.commands.filter((c): c is Status => c.kind === 'Status').map((s) => `${s.cmd} ${s.data}`);
const kinds = (effects: readonly DsEffect[]) => effects.map((e) => e.kind);

/** A new session signed in with basic credentials: its state after Pkg 1 and our Pkg 2. */
function signedIn(commands: Command[], anchors: DsLookups['anchors'] = {}): { state: DsState; pkg2: SyncMLMessage } {
  const pkg1 = message(1, commands, { cred: basic('ada-secret') });
  expect(signInUser(pkg1.hdr)).toBe('ada');
  const verdict = authenticate(pkg1.hdr, account);
  expect(verdict.code).toBe(DS_STATUS.AuthAccepted);
  const open = openSession(pkg1.hdr, account);
  expect(open.nextNonce).toBeUndefined();
  const got = receive({ state: open.state, message: pkg1, lookups: { anchors, items: {} }, now: 1000, opened: {} });
  expect(got.effects).toEqual([]);
  const out = respond(got, 'xml');
  return { state: out.state, pkg2: out.message };
}

describe('the DS session', () => {
  it('refuses wrong credentials with a challenge and a 401 for every command, and keeps no state', () => {
    const msg = message(1, [alert(1, SYNC_TYPES['two-way'], { next: '1' })], { cred: basic('wrong') });
    const verdict = authenticate(msg.hdr, account);
    expect(verdict.code).toBe(DS_STATUS.Unauthorized);
    const { answer, nonce } = refuse(msg, verdict);
    expect(statuses(answer.message)).toEqual(['SyncHdr 401', 'Alert 401']);
    expect((answer.message.body.commands[0] as Status).chal?.meta.type).toBe(AUTH_TYPE.basic);
    expect(answer).toMatchObject({ ended: { ok: false }, auth: 'failed' });
    expect(nonce).toBeUndefined();

    // No credentials at all is the ordinary first challenge: not counted as a failure.
    const bare = message(1, []);
    const first = refuse(bare, authenticate(bare.hdr, undefined));
    expect(statuses(first.answer.message)).toEqual(['SyncHdr 407']);
    expect(first.answer.auth).toBeUndefined();

    // An MD5 account is challenged for MD5, with a nonce to keep on the account.
    const md5Account = { ...account, auth: 'md5' as const };
    const asked = refuse(msg, authenticate(msg.hdr, md5Account));
    expect((asked.answer.message.body.commands[0] as Status).chal?.meta.type).toBe(AUTH_TYPE.md5);
    expect(asked.nonce?.accountId).toBe(account.id);
  });

  it('runs a two-way sync: Pkg 2 agrees, the client’s changes become effects, Pkg 4 sends the server’s change, Pkg 5 settles', () => {
    const { state, pkg2 } = signedIn([alert(1, SYNC_TYPES['two-way'], { last: 'c1', next: 'c2' })], {
      contacts: { clientAnchor: 'c1', serverAnchor: '500' },
    });
    expect(statuses(pkg2)).toEqual(['SyncHdr 212', 'Alert 200']);
    const back = pkg2.body.commands.find((c) => c.kind === 'Alert');
    expect(back).toMatchObject({
      data: String(SYNC_TYPES['two-way']),
      items: [{ meta: { anchor: { last: '500', next: '1000' } } }],
    });
    expect(pkg2.body.commands.some((c) => c.kind === 'Get')).toBe(true); // the client's DevInf, which it did not Put

    // Pkg 3: one known item replaced, one new.
    const bobRow: DsItemRef = { id: 'srv-bob', luid: 'L2', hash: 'old', contentType: 'text/vcard', uid: null };
    const pkg3 = message(2, [sync(1, [replace(2, 'L2', BOB2), add(3, 'L3', ANNA)])]);
    expect(lookupPlan(state, pkg3).items.contacts).toMatchObject({ all: false, unmapped: false, luids: ['L2', 'L3'] });
    const got = receive({ state, message: pkg3, lookups: { anchors: {}, items: { contacts: [bobRow] } }, now: 2000 });
    expect(kinds(got.effects)).toEqual(['store-content', 'update-item', 'store-content', 'insert-item']);
    expect(got.effects[1]).toMatchObject({
      kind: 'update-item',
      id: 'srv-bob',
      patch: { summary: 'Bob Crane Jr', pending: null },
    });
    expect(got.effects[3]).toMatchObject({
      kind: 'insert-item',
      store: 'contacts',
      item: { luid: 'L3', summary: 'Anna Bell' },
    });
    expect(got.pkg4).toBe('start');

    // The glue lists what the store sends (its pending items) and reads them.
    expect(sendSelection(got.state)).toEqual({ contacts: 'pending' });
    const listed = withSendLists(got.state, { contacts: ['srv-eve'] });
    expect(nextReads(listed).items).toEqual([{ store: 'contacts', id: 'srv-eve' }]);
    const batch = new Map([
      [
        'srv-eve',
        {
          row: { id: 'srv-eve', luid: 'L9', contentType: 'text/vcard', pending: 'replace' as const },
          content: utf8Encode(ANNA),
        },
      ],
    ]);
    const pkg4 = respond({ ...got, state: listed }, 'xml', batch);
    expect(statuses(pkg4.message)).toEqual(['SyncHdr 200', 'Sync 200', 'Replace 200', 'Add 201']);
    const serverSync = pkg4.message.body.commands.find((c) => c.kind === 'Sync');
    expect(serverSync).toMatchObject({
      numberOfChanges: 1,
      commands: [{ kind: 'Replace', items: [{ source: { locURI: 'srv-eve' }, target: { locURI: 'L9' } }] }],
    });
    expect(pkg4.message.body.final).toBe(true);
    expect(pkg4.state.phase).toBe('map');

    // Pkg 5: statuses and a Map; the session ends with the stores settled and a snapshot.
    const pkg5 = message(3, [
      {
        kind: 'Map',
        cmdId: 1,
        target: { locURI: 'card' },
        source: { locURI: './contacts' },
        mapItems: [{ target: { locURI: 'srv-eve' }, source: { locURI: 'L9' } }],
      },
    ]);
    const done = receive({
      state: pkg4.state,
      message: pkg5,
      lookups: {
        anchors: {},
        items: { contacts: [{ id: 'srv-eve', luid: 'L9', hash: 'h', contentType: 'text/vcard', uid: null }] },
      },
      now: 3000,
    });
    expect(done.end).toBe('complete');
    expect(kinds(done.effects)).toEqual(['update-item', 'settle-store', 'snapshot']);
    expect(done.effects[1]).toMatchObject({
      store: 'contacts',
      clientAnchor: 'c2',
      serverAnchor: '1000',
      lastSyncType: 'two-way',
      syncedAt: 3000,
    });
    expect(done.effects[2]).toMatchObject({
      syncType: 'two-way',
      changes: { contacts: { received: 2, added: 1, replaced: 1, sent: 1 } },
    });
  });

  it('turns a two-way sync whose anchors disagree into a slow sync that matches the server’s items by content', () => {
    const { state, pkg2 } = signedIn([alert(1, SYNC_TYPES['two-way'], { last: 'stale', next: 'c2' })], {
      contacts: { clientAnchor: 'c1', serverAnchor: '500' },
    });
    expect(statuses(pkg2)).toEqual(['SyncHdr 212', 'Alert 508']);
    expect(pkg2.body.commands.find((c) => c.kind === 'Alert')).toMatchObject({ data: String(SYNC_TYPES.slow) });

    // The server holds Anna and Bob under old LUIDs: the slow sync forgets them, then matches the client's Bob by content.
    const rows: DsItemRef[] = [
      { id: 'srv-anna', luid: 'OLD1', hash: sha256(ANNA.replace('Anna', 'Ann')), contentType: 'text/vcard', uid: null },
      { id: 'srv-bob', luid: 'OLD2', hash: sha256(BOB), contentType: 'text/vcard', uid: null },
    ];
    const pkg3 = message(2, [sync(1, [add(2, 'N1', BOB)])]);
    expect(lookupPlan(state, pkg3).items.contacts?.all).toBe(true);
    const got = receive({ state, message: pkg3, lookups: { anchors: {}, items: { contacts: rows } }, now: 2000 });
    expect(got.effects.slice(0, 2)).toEqual([
      { kind: 'update-item', id: 'srv-anna', patch: { luid: null } },
      { kind: 'update-item', id: 'srv-bob', patch: { luid: null } },
    ]);
    expect(got.effects.slice(2).map((e) => e.kind)).toEqual(['store-content', 'update-item']);
    expect(got.effects[3]).toMatchObject({ id: 'srv-bob', patch: { luid: 'N1', pending: null } });
    const pkg4 = respond(
      { ...got, state: withSendLists(got.state, { contacts: ['srv-anna'] }) },
      'xml',
      new Map([
        [
          'srv-anna',
          { row: { id: 'srv-anna', luid: null, contentType: 'text/vcard', pending: null }, content: utf8Encode(ANNA) },
        ],
      ]),
    );
    expect(sendSelection(got.state)).toEqual({ contacts: 'unmapped' });
    // An Add is answered 201 whether it was matched or added; the server kept one item, not two.
    expect(statuses(pkg4.message)).toEqual(['SyncHdr 200', 'Sync 200', 'Add 201']);
    expect(pkg4.message.body.commands.find((c) => c.kind === 'Sync')).toMatchObject({
      commands: [{ kind: 'Add', items: [{ source: { locURI: 'srv-anna' } }] }],
    });
  });

  it('answers a bad message command by command, and changes nothing', () => {
    const { state } = signedIn([alert(1, SYNC_TYPES['two-way'], { next: 'c1' })]);
    const bad = message(2, [
      { kind: 'Alert', cmdId: 1, data: '299', items: [] },
      { kind: 'Alert', cmdId: 2, data: String(SYNC_TYPES['two-way']), items: [] },
      sync(3, [add(4, 'X', ANNA)], 'nowhere'),
      sync(5, [add(6, 'E1', EVENT), add(7, 'E2', 'not a vCard'), { kind: 'Copy', cmdId: 8, items: [] }]),
      { kind: 'Exec', cmdId: 9, items: [{ target: { locURI: './x' } }] },
    ]);
    const got = receive({ state, message: bad, lookups: { anchors: {}, items: {} }, now: 2000 });
    expect(got.effects).toEqual([]);
    expect(statuses(respond(got, 'xml').message)).toEqual([
      'SyncHdr 200',
      'Alert 406',
      'Alert 412',
      'Sync 404',
      'Sync 200',
      'Add 415',
      'Add 415',
      'Copy 406',
      'Exec 406',
    ]);
    expect(got.state.stores.contacts?.counts.failed).toBe(2);
  });
});
