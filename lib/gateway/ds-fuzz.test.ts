/**
 * POST /ds under a deterministic flood of generated malformed and hostile DS messages: real
 * HTTP on loopback (keep-alive, 8 in flight) to the real node:http front over a real SQLite
 * file (a PostgreSQL database in the PostgreSQL pass), with three real DS accounts (fz-basic and fz-other with basic credentials, fz-md5
 * with MD5), each first synced by the virtual handsets' DS client so that each holds a
 * phonebook, a calendar, anchors and a snapshot, and so that their sessions can be replayed.
 *
 * The flood (judgeRefused): nothing in it can authenticate (wrong, forged, mistyped and
 * replayed credentials; captured messages of finished sessions; everything mutated, broken,
 * nested, entity-laden, oddly encoded). Every answer is an HTTP 4xx (429 with Retry-After
 * from a rate limit included), or a 200 whose SyncML says 401/407 with a Chal for the header
 * and for every command, and carries nothing but Status. No session row may appear, no
 * account's data change. A replayed basic Pkg #1 is left out: basic credentials are the
 * password itself, so a replay is a login (MD5 accounts are the answer to that).
 *
 * The sessions (judgeSession): fz-basic signs in correctly, many sessions side by side, each
 * message at a time, and sends hostile Sync content: LUIDs like `../other`, foreign LUIDs,
 * over-long LUIDs, wrong MIME types, content that is no vCard or belongs to the other store,
 * missing data, commands a Sync cannot hold, Syncs to unknown, unalerted or prototype-named
 * stores, huge NumberOfChanges, Large Objects whose Size lies or is too big or that another
 * item interrupts, Maps of unknown and foreign ids, a session continued from another Source.
 * Every command gets the status we expect; the account's data must afterwards equal what
 * the accepted commands alone make of it (a model applied from the statuses), the other two
 * accounts must be byte-identical (rows and content), and each real client still syncs.
 *
 * Afterwards: bounded memory, no unhandled rejection, DS rows for the three accounts only.
 */
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ATTEMPTS_KEPT } from '@/db/queries/device-attempts';
import { dsItemsOf, getDsStore } from '@/db/queries/ds';
import { dsAccounts } from '@/db/schema';
import { column, row, rows, value } from '@/db/sql';
import { runDsSession, type DsClientConfig } from '../../sim/ds-client';
import { generatedHandsetDs, userPut, type HandsetDs } from '../../sim/ds-store';
import { httpTransport, type Transport } from '../../sim/transport';
import { provisionDevice } from '../devices/devices';
import { addDsAccount } from '../ds/accounts';
import { generateContacts, generateEvents } from '../../sim/ds-generate';
import { buildDevInf, DEVINF_TYPE_XML, DEVINF_URI_12, type DsStoreName } from '../ds/protocol';
import { DS_MAX_OBJ_SIZE } from '../ds/session';
import { resetEnvCache } from '../core/env';
import { arbMessage } from '../../test/support/arbitrary-message';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { messageToElement, NS_METINF } from '../omadm/codec/syncml';
import { AUTH_TYPE, basicCredential, md5Derived, md5Digest, nonceBytes } from '../omadm/auth';
import {
  encodingOf,
  MIME,
  type Command,
  type Cred,
  type Encoding,
  type Item,
  type Status,
  type SyncMLMessage,
} from '../omadm/message';
import { base64Encode, utf8Encode } from '../omadm/util/bytes';
import { DS_MAX_BODY } from './ds-http';
import {
  FuzzClient,
  garbageBody,
  hostileUri,
  deepNestingCase,
  entityCase,
  wrongTypesCase,
  mib,
  mutate,
  oddEncoding,
  Rng,
  settleHeap,
  shuffle,
  tableCounts,
  type Answer,
  type FuzzCase,
} from '../../test/support/fuzz-kit';
import { startTestServer, type TestServer } from '../../test/support/test-server';

const SEED = 0xd5_f022;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 20_000;
const COUNTS = {
  auth: 1500,
  'xml-mutation': 2000,
  'wbxml-mutation': 2000,
  'arb-valid': 600,
  'wrong-types': 1000,
  'deep-nesting': 400,
  entities: 700,
  'locuri-encoding': 900,
  garbage: 300,
  http: 150,
} as const;
/** Authenticated sessions of fz-basic with hostile content, and their hostile Pkg #3 messages each. */
const SESSIONS = 24;
const SYNC_MESSAGES = 16;
type FloodCategory = keyof typeof COUNTS | 'huge-counts';
type Category = FloodCategory | 'session' | 'hijack';

// ---------------------------------------------------------------------------------------
// World: server, accounts, their real sessions

interface Captured {
  headers: Record<string, string>;
  body: Uint8Array;
}
interface Acc {
  user: string;
  pass: string;
  auth: 'basic' | 'md5';
  devId: string;
  model: string;
  enc: Encoding;
  ds: HandsetDs;
  accountId: string;
  /** Every request of the account's first real session (Pkg #1 first). */
  captured: Captured[];
}

let srv: TestServer;
let url: string;
let fz: FuzzClient<Category>;
const accs: Record<'basic' | 'md5' | 'other', Acc> = {
  basic: {
    user: 'fz-basic',
    pass: 'basic-secret-1',
    auth: 'basic',
    devId: 'IMEI:356938035643809',
    model: 'nimbus-n1',
    enc: 'xml',
    ds: undefined!,
    accountId: '',
    captured: [],
  },
  md5: {
    user: 'fz-md5',
    pass: 'md5-secret-22',
    auth: 'md5',
    devId: 'IMEI:490154203237518',
    model: 'korra-k7',
    enc: 'wbxml',
    ds: undefined!,
    accountId: '',
    captured: [],
  },
  other: {
    user: 'fz-other',
    pass: 'other-secret-333',
    auth: 'basic',
    devId: 'IMEI:356938035643817',
    model: 'nimbus-n2',
    enc: 'wbxml',
    ds: undefined!,
    accountId: '',
    captured: [],
  },
};
const all = () => [accs.basic, accs.md5, accs.other];
/** Strings no answer may carry: passwords, the stored derived secrets, the basic credentials. */
let secrets: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};
const db = () => srv.ctx.db;

interface Baseline {
  rss: number;
  heap?: number;
  counts: Map<string, number>;
  images: Map<string, string>;
}
let baseline: Baseline;

const recording =
  (sink: Captured[]): Transport =>
  async (req) => {
    sink.push({ headers: { ...req.headers }, body: new Uint8Array(req.body ?? new Uint8Array(0)) });
    return httpTransport(req);
  };

function clientConfig(a: Acc, over: Partial<DsClientConfig> = {}): DsClientConfig {
  return {
    serverUrl: url,
    user: a.user,
    password: a.pass,
    scheme: a.auth,
    devId: a.devId,
    man: 'Fuzz',
    mod: a.model,
    swV: '1.0',
    encoding: a.enc,
    maxMsgSize: 64 * 1024,
    stores: ['contacts', 'calendar'],
    syncType: 'two-way',
    transport: httpTransport,
    ...over,
  };
}

/** Everything the server keeps of an account, its content included, as one string: equal means byte-identical. */
async function accountImage(accountId: string): Promise<string> {
  const c = db();
  const account = await row(
    c,
    sql`select id, device_id, username, derived, auth, created_at from ds_accounts where id = ${accountId}`,
  );
  const items = await rows<{ hash: string }>(
    c,
    sql`select * from ds_items where account_id = ${accountId} order by id`,
  );
  const stores = await rows(c, sql`select * from ds_stores where account_id = ${accountId} order by store`);
  const snapshots = await rows(c, sql`select * from ds_snapshots where account_id = ${accountId} order by id`);
  const content: string[] = [];
  for (const i of items)
    content.push(Buffer.from((await srv.ctx.blobs.get(i.hash)) ?? new Uint8Array()).toString('base64'));
  return JSON.stringify({ account, items, stores, snapshots, content });
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // The whole flood comes from one address: with the failed-authentication limits on, all
  // but its first few messages would get 429 before the protocol code they aim at.
  process.env.AUTH_RATE_LIMIT = '0';
  resetEnvCache();
  srv = await startTestServer();
  url = `http://127.0.0.1:${srv.server.port}/ds`;
  fz = new FuzzClient<Category>({
    port: srv.server.port,
    defaultPath: '/ds',
    concurrency: CONCURRENCY,
    timeoutMs: REQUEST_TIMEOUT_MS,
  });
  for (const [i, a] of all().entries()) {
    await provisionDevice(srv.ctx.db, {
      devId: a.devId,
      manufacturer: 'Fuzz',
      model: a.model,
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: `p${i}`,
      serverPass: `s${i}`,
    });
    a.accountId = (
      await addDsAccount(srv.ctx.db, { devId: a.devId, user: a.user, pass: a.pass, auth: a.auth })
    ).account.id;
    // A first two-way sync: 508 and slow, every item up; recorded, the source of replays.
    const out = await runDsSession(
      clientConfig(a, { transport: recording(a.captured) }),
      generatedHandsetDs(600 + i, a.model),
    );
    expect(out.ok, out.error).toBe(true);
    a.ds = out.ds!;
  }
  secrets = all().flatMap((a) => [a.pass, md5Derived(a.user, a.pass), basicCredential(a.user, a.pass)]);
  const images = new Map<string, string>();
  for (const a of all()) images.set(a.user, await accountImage(a.accountId));
  baseline = { rss: process.memoryUsage().rss, heap: settleHeap(), counts: await tableCounts(db()), images };
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  fz?.agent.destroy();
  await srv?.close();
});

// ---------------------------------------------------------------------------------------
// Judging answers

interface Case extends FuzzCase<Category> {
  session?: SessionCheck;
}

const hdrStatusOf = (m: SyncMLMessage): Status | undefined =>
  m.body.commands.find((c): c is Status => c.kind === 'Status' && (c.cmdRef === 0 || c.cmd === 'SyncHdr'));

function checkNoLeak(a: Answer): void {
  for (const s of secrets) if (a.body.includes(s)) throw new Error('an answer carries an account secret');
  if (a.body.includes('root:x:0:0')) throw new Error('an answer carries /etc/passwd');
}

function decodeReply(c: Case, a: Answer): SyncMLMessage {
  const ct = String(a.headers['content-type'] ?? '');
  const enc = encodingOf(ct);
  if (!enc) throw new Error(`200 with content type ${ct}`);
  const asked = encodingOf(c.contentType);
  if (asked && enc !== asked) throw new Error(`answered in ${enc} to ${asked}`);
  return decodeMessage(new Uint8Array(a.body), enc);
}

function judgeHttp(c: Case, a: Answer): string | undefined {
  checkNoLeak(a);
  if (a.status === 0) {
    if (c.mayReset && /^(ECONNRESET|EPIPE)$/.test(a.error ?? '')) return `reset (${a.error})`;
    throw new Error(`no answer: ${a.error}`);
  }
  if (a.status === 429) {
    if (!a.headers['retry-after']) throw new Error('429 without Retry-After');
    return 'http 429';
  }
  if (c.expectHttp !== undefined && a.status !== c.expectHttp)
    throw new Error(`expected HTTP ${c.expectHttp}, got ${a.status}`);
  if (a.status >= 400 && a.status < 500) return `http ${a.status}`;
  if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
  return undefined;
}

/** The flood: nothing in it can authenticate (see the rule at the top). */
function judgeRefused(c: Case, a: Answer): string {
  const h = judgeHttp(c, a);
  if (h) return h;
  const reply = decodeReply(c, a);
  const hs = hdrStatusOf(reply);
  if (!hs) throw new Error('200 without a SyncHdr Status');
  const code = Number(hs.data);
  if (code !== 401 && code !== 407)
    throw new Error(`SyncHdr Status ${hs.data} for a client that cannot have authenticated`);
  if (!hs.chal?.meta.type || !hs.chal.meta.nextNonce) throw new Error(`${code} without a Chal`);
  for (const x of reply.body.commands) {
    if (x.kind !== 'Status') throw new Error(`a ${x.kind} sent to an unauthenticated client`);
    if (x.data !== hs.data) throw new Error(`${x.cmd} answered ${x.data} for a client refused with ${hs.data}`);
  }
  return `syncml ${code}`;
}

interface Expect {
  cmdId: number;
  codes: number[];
  apply?: (code: number) => void;
}
interface SessionCheck {
  msgId: number;
  hdr: number;
  expect: Expect[];
  /** The message is undecodable by design, or may be (then nothing of it applies). */
  http400?: 'must' | 'may';
}

function judgeSession(c: Case, a: Answer): string {
  const chk = c.session!;
  checkNoLeak(a);
  if (chk.http400 === 'must' || (chk.http400 === 'may' && a.status === 400)) {
    if (a.status !== 400) throw new Error(`expected 400, got ${a.status}`);
    return 'http 400';
  }
  if (a.status !== 200) throw new Error(`HTTP ${a.status} in an authenticated session`);
  const reply = decodeReply(c, a);
  const hs = hdrStatusOf(reply);
  if (Number(hs?.data) !== chk.hdr) throw new Error(`SyncHdr Status ${hs?.data}, expected ${chk.hdr}`);
  const statuses = reply.body.commands.filter(
    (x): x is Status => x.kind === 'Status' && x.msgRef === chk.msgId && x.cmdRef !== 0,
  );
  const seen = new Set<number>();
  for (const e of chk.expect) {
    const got = statuses.filter((x) => x.cmdRef === e.cmdId).map((x) => Number(x.data));
    if (got.length !== 1)
      throw new Error(
        `CmdID ${e.cmdId}: ${got.length} statuses (${got.join(',')}), expected one of ${e.codes.join('|')}`,
      );
    if (!e.codes.includes(got[0]!)) throw new Error(`CmdID ${e.cmdId}: expected ${e.codes.join('|')}, got ${got[0]}`);
    e.apply?.(got[0]!);
    seen.add(got[0]!);
  }
  return `syncml ${chk.hdr}${seen.size ? ` + ${[...seen].sort().join('/')}` : ''}`;
}

// ---------------------------------------------------------------------------------------
// Building blocks

const ctype = (enc: Encoding, rng?: Rng): string =>
  rng && rng.bool(0.1) ? (enc === 'xml' ? MIME.dmXml : MIME.dmWbxml) : enc === 'xml' ? MIME.dsXml : MIME.dsWbxml;
const WRONG_DIGEST = 'bm90IGEgcmVhbCBkaWdlc3Q=';
const cred = (data: string, type: string = AUTH_TYPE.basic, format = 'b64'): Cred => ({ meta: { type, format }, data });
const phoneDevInf = (devId: string) =>
  buildDevInf({ man: 'Fuzz', mod: 'F-1', devId, devTyp: 'phone', swV: '1.0' }, [
    { store: 'contacts', uri: './contacts' },
    { store: 'calendar', uri: './calendar' },
  ]);
const alertItem = (target: string, source: string, last?: string, next = '1'): Item => ({
  target: { locURI: target },
  source: { locURI: source },
  meta: { anchor: { ...(last !== undefined ? { last } : {}), next } },
});

interface Who {
  source: string;
  user?: string;
  cred?: Cred | null;
}

/** A Package #1 like a DS client's: DevInf Put, a two-way Alert per store; credentials in the header. */
function pkg1(
  who: Who,
  sessionId: string,
  o: { msgId?: number; extra?: Command[]; final?: boolean; putItems?: Item[] } = {},
): SyncMLMessage {
  const c = who.cred === null ? undefined : (who.cred ?? cred(WRONG_DIGEST));
  return {
    hdr: {
      verDTD: '1.2',
      verProto: 'SyncML/1.2',
      sessionId,
      msgId: o.msgId ?? 1,
      target: { locURI: url },
      source: { locURI: who.source, ...(who.user ? { locName: who.user } : {}) },
      ...(c ? { cred: c } : {}),
      meta: { maxMsgSize: 65_536, maxObjSize: 1_048_576 },
    },
    body: {
      commands: [
        {
          kind: 'Put',
          cmdId: 1,
          meta: { type: DEVINF_TYPE_XML },
          items: o.putItems ?? [{ source: { locURI: DEVINF_URI_12 }, data: [phoneDevInf(who.source)] }],
        },
        { kind: 'Alert', cmdId: 2, data: '200', items: [alertItem('card', './contacts', '1', '2')] },
        { kind: 'Alert', cmdId: 3, data: '200', items: [alertItem('cal', './calendar', '1', '2')] },
        ...(o.extra ?? []),
      ],
      final: o.final ?? true,
    },
  };
}

const VCARD =
  'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Fuzz Person\r\nN:Person;Fuzz;;;\r\nTEL;TYPE=CELL:+44 7700 900000\r\nEND:VCARD\r\n';

/** Every numeric and textual field DS uses, to be broken one at a time. */
function richMessage(who: Who, sessionId: string): SyncMLMessage {
  return pkg1(who, sessionId, {
    extra: [
      {
        kind: 'Status',
        cmdId: 4,
        msgRef: 1,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRef: [url],
        sourceRef: [who.source],
        data: '200',
      },
      { kind: 'Get', cmdId: 5, meta: { type: DEVINF_TYPE_XML }, items: [{ target: { locURI: DEVINF_URI_12 } }] },
      {
        kind: 'Sync',
        cmdId: 6,
        numberOfChanges: 3,
        target: { locURI: 'card' },
        source: { locURI: './contacts' },
        commands: [
          { kind: 'Add', cmdId: 7, meta: { type: 'text/vcard' }, items: [{ source: { locURI: 'c1' }, data: VCARD }] },
          {
            kind: 'Replace',
            cmdId: 8,
            items: [
              { source: { locURI: 'c2' }, meta: { type: 'text/x-vcard', size: 400 }, data: VCARD, moreData: true },
            ],
          },
          { kind: 'Delete', cmdId: 9, items: [{ source: { locURI: 'c3' } }] },
        ],
      },
      {
        kind: 'Map',
        cmdId: 10,
        target: { locURI: 'card' },
        source: { locURI: './contacts' },
        mapItems: [{ target: { locURI: 'server-1' }, source: { locURI: 'c4' } }],
      },
    ],
  });
}

/** Whose name a flood message carries: mostly the real accounts, sometimes nobody's. */
function pickAcc(rng: Rng): Acc | undefined {
  const r = rng.int(10);
  return r < 4 ? accs.basic : r < 7 ? accs.md5 : r < 9 ? accs.other : undefined;
}

/** Each account's MD5 nonce as the database has it: read before each flood message is made (every challenge renews it). */
const nonces = new Map<string, string>();
async function readNonces(): Promise<void> {
  for (const a of await srv.ctx.db.select({ user: dsAccounts.username, nonce: dsAccounts.nonce }).from(dsAccounts))
    nonces.set(a.user, a.nonce ?? '');
}
const currentNonce = (a: Acc): string => nonces.get(a.user) ?? '';
const staleNonce = (a: Acc): string => a.ds.nonces[a.user] ?? 'c3RhbGU=';

/** Credentials for `a` (or a user nobody has) that are wrong, forged, mistyped or replayed: never the right ones. */
function wrongWho(rng: Rng, a: Acc | undefined): Who {
  if (!a) {
    const user = rng.pick([
      'nobody',
      'admin',
      'root',
      '',
      'fz-basic ',
      'FZ-BASIC',
      'fz-basic\u0000',
      "' OR 1=1 --",
      'x'.repeat(300),
    ]);
    return {
      source: `IMEI:${rng.digits(15)}`,
      user,
      cred: rng.bool() ? cred(basicCredential(user, 'guess')) : cred(WRONG_DIGEST, AUTH_TYPE.md5),
    };
  }
  const derived = md5Derived(a.user, a.pass);
  const other = a === accs.other ? accs.basic : accs.other;
  const who = (c: Cred | null, user: string | undefined = a.user): Who => ({
    source: a.devId,
    ...(user !== undefined ? { user } : {}),
    cred: c,
  });
  switch (rng.int(22)) {
    case 0:
      return who(null);
    case 1:
      return who(cred(basicCredential(a.user, `${a.pass}x`)));
    case 2:
      return who(cred(basicCredential(a.user, '')));
    case 3:
      return who(cred(base64Encode(utf8Encode(a.user)))); // no colon
    case 4:
      return who(cred('not base64 !!'));
    case 5:
      return who(cred('A'.repeat(10_000)));
    case 6:
      return who(cred(basicCredential(other.user, a.pass))); // this password, another account
    case 7:
      return who(cred(basicCredential(a.user.toUpperCase(), a.pass)));
    case 8:
      return who(cred(a.pass, AUTH_TYPE.basic, 'chr'));
    case 9:
      return who(cred(md5Digest(derived, nonceBytes(staleNonce(a))), AUTH_TYPE.md5)); // the right secret, a nonce already used
    case 10:
      return who(cred(md5Digest(md5Derived(a.user, 'guess'), nonceBytes(currentNonce(a))), AUTH_TYPE.md5)); // knows the nonce, not the secret
    case 11:
      return who(cred(md5Digest(md5Derived(other.user, other.pass), nonceBytes(currentNonce(a))), AUTH_TYPE.md5)); // another account's secret
    case 12:
      return who(cred(derived, AUTH_TYPE.md5)); // the stored secret itself
    case 13:
      return who(cred(md5Digest(derived, new Uint8Array(0)), AUTH_TYPE.md5));
    case 14:
      return who(cred(base64Encode(rng.bytes(16)), AUTH_TYPE.md5), undefined); // no user name in the LocName
    case 15:
      return who(cred(base64Encode(rng.bytes(16)), AUTH_TYPE.md5), other.user);
    case 16:
      return who(cred(basicCredential(a.user, 'guess'), ' SYNCML:AUTH-BASIC '));
    case 17:
      return who(cred(basicCredential(a.user, 'guess'), 'syncml:auth-x509'));
    case 18:
      return who(cred(basicCredential(a.user, 'guess'), AUTH_TYPE.hmac));
    case 19:
      return who(cred(base64Encode(rng.bytes(225)), AUTH_TYPE.md5));
    case 20:
      return a.auth === 'md5'
        ? who(cred(basicCredential(a.user, a.pass)))
        : who(cred(md5Digest(derived, nonceBytes('')), AUTH_TYPE.md5)); // md5 accounts refuse basic
    default:
      return who(cred(basicCredential(a.user, a.pass.slice(0, -1))));
  }
}

const fromCase = (cat: Category, msg: SyncMLMessage, enc: Encoding, rng: Rng, extra: Partial<Case> = {}): Case => ({
  cat,
  body: encodeMessage(msg, enc),
  contentType: ctype(enc, rng),
  ...extra,
});

/** A captured request with its credentials (if any) replaced by wrong ones: a basic Pkg #1 verbatim would be a login. */
function withoutValidCred(c: Captured, a: Acc): Uint8Array {
  const enc: Encoding = a.enc;
  const m = decodeMessage(c.body, enc);
  if (!m.hdr.cred || a.auth === 'md5') return c.body; // MD5 credentials of a finished session are stale
  m.hdr.cred = cred(basicCredential(a.user, 'guess'));
  return encodeMessage(m, enc);
}

// ---------------------------------------------------------------------------------------
// Flood generators

interface Bases {
  xml: Uint8Array[];
  wbxml: Uint8Array[];
}
let bases: Bases;

function buildBases(rng: Rng): Bases {
  const out: Bases = { xml: [], wbxml: [] };
  for (let i = 0; i < 24; i++) {
    const who = wrongWho(rng, pickAcc(rng));
    const msg = i % 2 ? richMessage(who, `base-${i}`) : pkg1(who, `base-${i}`);
    out.xml.push(encodeMessage(msg, 'xml'));
    out.wbxml.push(encodeMessage(msg, 'wbxml'));
  }
  // The real sessions' messages: the small ones all, of the Pkg #3 parts (up to 64 KB each) one per account, to keep the flood quick.
  for (const a of all())
    for (const [i, c] of a.captured.entries())
      if (c.body.length <= 16_384 || i === 1) out[a.enc].push(withoutValidCred(c, a));
  return out;
}

function* mutations(cat: 'xml-mutation' | 'wbxml-mutation', n: number, rng: Rng): Generator<Case> {
  const enc: Encoding = cat === 'xml-mutation' ? 'xml' : 'wbxml';
  for (let i = 0; i < n; i++) yield { cat, body: mutate(rng, rng.pick(bases[enc]), enc), contentType: ctype(enc, rng) };
}

/** The real sessions replayed: MD5 ones whole (their nonce is used up), every later message of all (their session is over). */
function* replays(): Generator<Case> {
  for (const a of all()) {
    for (const [i, c] of a.captured.entries()) {
      if (i === 0 && a.auth === 'basic') continue;
      yield { cat: 'auth', body: c.body, contentType: c.headers['content-type'] ?? ctype(a.enc) };
    }
  }
}

function* auth(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const a = pickAcc(rng);
    const enc: Encoding = rng.bool(0.6) ? 'xml' : 'wbxml';
    const v = rng.int(10);
    if (v === 0 && a) {
      // Credentials in an Alert instead of the header.
      const m = pkg1({ source: a.devId, user: a.user, cred: null }, `auth-${i}`);
      (m.body.commands[1] as { cred?: Cred }).cred = cred(basicCredential(a.user, a.pass));
      yield fromCase('auth', m, enc, rng);
    } else if (v === 1 && a) {
      // A captured message, its credentials made wrong, under a new SessionID.
      const c = rng.pick(a.captured);
      const m = decodeMessage(withoutValidCred(c, a), a.enc);
      m.hdr.sessionId = `auth-${i}`;
      yield fromCase('auth', m, enc, rng);
    } else if (v === 2 && a) {
      // A real session's Pkg #3 (a Sync full of Adds) as the first message of a new session.
      const c = a.captured[Math.min(1, a.captured.length - 1)]!;
      const m = decodeMessage(c.body, a.enc);
      m.hdr.sessionId = `auth-${i}`;
      m.hdr.cred = wrongWho(rng, a).cred ?? undefined;
      if (!m.hdr.cred) delete m.hdr.cred;
      yield fromCase('auth', m, enc, rng);
    } else {
      yield fromCase(
        'auth',
        rng.bool(0.3) ? richMessage(wrongWho(rng, a), `auth-${i}`) : pkg1(wrongWho(rng, a), `auth-${i}`),
        enc,
        rng,
      );
    }
  }
}

function* arbValid(n: number, rng: Rng): Generator<Case> {
  const half = Math.ceil(n / 2);
  const xml = fc.sample(arbMessage({ maxNesting: 3 }), { seed: SEED + 2, numRuns: half });
  const wbxml = fc.sample(arbMessage({ maxNesting: 3, opaque: true }), { seed: SEED + 3, numRuns: n - half });
  for (const [enc, list] of [
    ['xml', xml],
    ['wbxml', wbxml],
  ] as const) {
    for (const m of list) {
      if (rng.bool(0.85)) m.hdr.verProto = 'SyncML/1.2';
      const a = pickAcc(rng);
      if (a && rng.bool(0.7)) m.hdr.source = { locURI: a.devId, locName: a.user };
      yield fromCase('arb-valid', m, enc, rng);
    }
  }
}

function* wrongTypes(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const c = wrongTypesCase(rng, messageToElement(richMessage(wrongWho(rng, pickAcc(rng)), `wt-${i}`)));
    if (c) yield { cat: 'wrong-types', body: c.body, contentType: ctype(c.enc, rng) };
  }
}

function* deepNesting(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const who = wrongWho(rng, pickAcc(rng));
    const { body, enc, expectHttp } = deepNestingCase(rng, () =>
      messageToElement(rng.bool(0.3) ? richMessage(who, `nest-${i}`) : pkg1(who, `nest-${i}`)),
    );
    yield { cat: 'deep-nesting', body, contentType: ctype(enc, rng), ...(expectHttp ? { expectHttp } : {}) };
  }
}

function* entities(n: number, rng: Rng): Generator<Case> {
  const MARK = 'ZZENTZZ';
  for (let i = 0; i < n; i++) {
    const who = wrongWho(rng, pickAcc(rng));
    const msg = pkg1(who, `ent-${i}`, {
      putItems: [
        { source: { locURI: DEVINF_URI_12 }, data: MARK },
        { source: { locURI: `./${MARK}` }, data: 'x' },
      ],
    });
    const c = entityCase(rng, messageToElement(msg), MARK, (payload) =>
      pkg1(who, `ent-w${i}`, { putItems: [{ source: { locURI: `./${payload}` }, data: payload }] }),
    );
    if ('wbxml' in c) yield fromCase('entities', c.wbxml, 'wbxml', rng);
    else
      yield {
        cat: 'entities',
        body: c.xml,
        contentType: ctype('xml', rng),
        ...(c.expectHttp ? { expectHttp: c.expectHttp } : {}),
      };
  }
}

function* locUris(n: number, rng: Rng): Generator<Case> {
  const MARK = 'QQBADQQ';
  const targets: [string, string] = [accs.basic.devId, accs.other.devId];
  for (let i = 0; i < n; i++) {
    const a = pickAcc(rng);
    const who = wrongWho(rng, a);
    const where = rng.int(8);
    if (where === 0) who.source = hostileUri(rng, targets);
    if (where === 1)
      who.user = rng.pick([
        `../${accs.other.user}`,
        `${accs.basic.user}/..`,
        `${accs.basic.user}\u0000`,
        ` ${accs.md5.user}`,
        `./${accs.other.user}`,
      ]);
    const msg = pkg1(who, `loc-${i}`);
    // Short enough that a message naming it three times still fits under DS_MAX_BODY.
    const uri = where >= 6 ? `./${MARK}` : hostileUri(rng, targets).slice(0, 200_000);
    if (where === 2) msg.hdr.target = { locURI: uri };
    if (where === 3)
      msg.body.commands[1] = {
        kind: 'Alert',
        cmdId: 2,
        data: '200',
        items: [alertItem(uri, uri, uri, uri.slice(0, 100))],
      };
    if (where === 4)
      msg.body.commands.push({
        kind: 'Sync',
        cmdId: 4,
        target: { locURI: uri },
        source: { locURI: uri },
        commands: [{ kind: 'Add', cmdId: 5, items: [{ source: { locURI: uri }, data: VCARD }] }],
      });
    if (where === 5) msg.hdr.respURI = uri;
    if (where >= 6) {
      msg.body.commands[1] = { kind: 'Alert', cmdId: 2, data: '200', items: [alertItem(uri, './contacts')] };
      const enc: Encoding = rng.bool(0.7) ? 'xml' : 'wbxml';
      const { body, expectHttp } = oddEncoding(
        rng,
        enc,
        encodeMessage(msg, enc),
        () => messageToElement(msg),
        MARK,
        `./${MARK}`,
      );
      yield { cat: 'locuri-encoding', body, contentType: ctype(enc, rng), ...(expectHttp ? { expectHttp } : {}) };
      continue;
    }
    yield fromCase('locuri-encoding', msg, rng.bool(0.6) ? 'xml' : 'wbxml', rng);
  }
}

function* hugeCounts(rng: Rng): Generator<Case> {
  const who = () => wrongWho(rng, pickAcc(rng));
  const big = (count: number, make: (i: number) => Command, enc: Encoding, extra: Partial<Case> = {}): Case =>
    fromCase(
      'huge-counts',
      pkg1(who(), `huge-${rng.next()}`, { extra: Array.from({ length: count }, (_, i) => make(i + 4)) }),
      enc,
      rng,
      extra,
    );
  const add = (i: number): Command => ({ kind: 'Add', cmdId: i, items: [{ source: { locURI: `c${i}` }, data: 'v' }] });
  const sync = (cmds: Command[], numberOfChanges?: number): Command => ({
    kind: 'Sync',
    cmdId: 4,
    target: { locURI: 'card' },
    source: { locURI: './contacts' },
    ...(numberOfChanges !== undefined ? { numberOfChanges } : {}),
    commands: cmds,
  });
  const raw = (xml: string, extra: Partial<Case> = {}): Case => ({
    cat: 'huge-counts',
    body: utf8Encode(xml),
    contentType: MIME.dsXml,
    ...extra,
  });
  const wrap = (body: string) =>
    `<?xml version="1.0"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto><SessionID>huge-${rng.next()}</SessionID>` +
    `<MsgID>1</MsgID><Target><LocURI>${url}</LocURI></Target><Source><LocURI>${accs.basic.devId}</LocURI><LocName>${accs.basic.user}</LocName></Source>` +
    `<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-basic</Type></Meta><Data>${basicCredential(accs.basic.user, 'guess')}</Data></Cred></SyncHdr><SyncBody>${body}<Final/></SyncBody></SyncML>`;
  const wbxmlPkg1 = () => encodeMessage(pkg1(who(), `huge-${rng.next()}`), 'wbxml');
  const builders: Array<() => Case> = [
    () =>
      big(4_000, (i) => ({ kind: 'Alert', cmdId: i, data: '200', items: [alertItem('card', './contacts')] }), 'xml'),
    () =>
      big(8_000, (i) => ({ kind: 'Alert', cmdId: i, data: '201', items: [alertItem('cal', './calendar')] }), 'wbxml', {
        mayReset: true,
      }),
    () =>
      big(
        1,
        () =>
          sync(
            Array.from({ length: 10_000 }, (_, k) => add(k + 5)),
            2 ** 31 - 1,
          ),
        'xml',
      ),
    () =>
      big(
        1,
        () =>
          sync(
            Array.from({ length: 10_000 }, (_, k) => add(k + 5)),
            Number.MAX_SAFE_INTEGER,
          ),
        'wbxml',
      ),
    () => big(1, () => sync([], 4_294_967_295), 'xml'),
    () => big(20_000, (i) => ({ kind: 'Status', cmdId: i, msgRef: 1, cmdRef: i, cmd: 'Add', data: '201' }), 'wbxml'),
    () =>
      big(
        1,
        () => ({
          kind: 'Map',
          cmdId: 4,
          target: { locURI: 'card' },
          source: { locURI: './contacts' },
          mapItems: Array.from({ length: 6_000 }, (_, k) => ({
            target: { locURI: `s${k}` },
            source: { locURI: `c${k}` },
          })),
        }),
        'xml',
      ),
    () =>
      big(
        1,
        () =>
          sync([
            { kind: 'Add', cmdId: 5, items: [{ source: { locURI: 'big' }, data: 'A'.repeat(DS_MAX_BODY - 4096) }] },
          ]),
        'xml',
      ),
    () =>
      big(
        1,
        () =>
          sync([
            { kind: 'Add', cmdId: 5, items: [{ source: { locURI: 'big' }, data: rng.bytes(DS_MAX_BODY - 4096) }] },
          ]),
        'wbxml',
      ),
    () =>
      big(
        1,
        () => sync([{ kind: 'Add', cmdId: 5, items: [{ source: { locURI: 'big' }, data: 'A'.repeat(DS_MAX_BODY) }] }]),
        'xml',
        { expectHttp: 413, mayReset: true },
      ),
    () =>
      big(
        1,
        () => sync([{ kind: 'Add', cmdId: 5, items: [{ source: { locURI: `${'L'.repeat(900_000)}` }, data: 'v' }] }]),
        'xml',
      ),
    () =>
      big(
        1,
        () =>
          sync([
            {
              kind: 'Replace',
              cmdId: 5,
              items: [{ source: { locURI: 'lo' }, meta: { size: Number.MAX_SAFE_INTEGER }, data: 'x', moreData: true }],
            },
          ]),
        'wbxml',
      ),
    () => raw(wrap('<a/>'.repeat(200_001)), { expectHttp: 400 }),
    () => raw(wrap(`${'&amp;'.repeat(200_000)}<Alert><CmdID>1</CmdID><Data>200</Data></Alert>`)),
    () => raw(wrap(`<Alert><CmdID>${'0'.repeat(900_000)}1</CmdID><Data>200</Data></Alert>`)),
    () => raw(wrap(`<Sync><CmdID>1</CmdID><NumberOfChanges>${'9'.repeat(400)}</NumberOfChanges></Sync>`)),
    () => raw(wrap(`<!--${'c'.repeat(1_000_000)}--><Alert><CmdID>1</CmdID><Data>200</Data></Alert>`)),
    () => {
      // Exactly DS_MAX_BODY bytes: accepted by size, padded with a comment.
      const head = wrap('<Alert><CmdID>1</CmdID><Data>200</Data></Alert>');
      return raw(`${head}<!--${' '.repeat(DS_MAX_BODY - utf8Encode(head).length - 7)}-->`);
    },
    () => {
      // WBXML with a 900 KiB string table and a reference far past its end.
      const m = wbxmlPkg1();
      const table = rng.bytes(900 * 1024).map((x) => (x === 0 ? 1 : x));
      return {
        cat: 'huge-counts',
        body: Buffer.concat([
          m.subarray(0, 4),
          Uint8Array.from([0xb8, 0xa0, 0x00]),
          table,
          Uint8Array.from([0x6d, 0x83, 0xff, 0xff, 0xff, 0x7f, 0x01]),
          m.subarray(5),
        ]),
        contentType: MIME.dsWbxml,
      };
    },
    () => {
      // An OPAQUE whose length runs past the end of the message.
      const m = wbxmlPkg1();
      return {
        cat: 'huge-counts',
        body: Buffer.concat([
          m.subarray(0, m.length - 2),
          Uint8Array.from([0xc3, 0x81, 0xff, 0xff, 0x7f]),
          rng.bytes(1000),
          Uint8Array.from([0x01, 0x01]),
        ]),
        contentType: MIME.dsWbxml,
      };
    },
    ...[0x1203, 0x1202, 0x0fd3, 0x7f, 0x00].map((pid) => () => {
      // Another public id: DevInf's, MetInf's, SyncML 1.1's, an unknown one, a string-table index.
      const m = wbxmlPkg1();
      const id = pid > 0x7f ? [0x80 | (pid >> 7), pid & 0x7f] : [pid];
      return {
        cat: 'huge-counts' as const,
        body: Buffer.concat([m.subarray(0, 1), Uint8Array.from(pid === 0 ? [0x00, 0x7f] : id), m.subarray(3)]),
        contentType: MIME.dsWbxml,
      };
    }),
  ];
  for (const b of builders) yield b();
}

function* garbage(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const enc: Encoding = rng.bool() ? 'xml' : 'wbxml';
    yield { cat: 'garbage', body: garbageBody(rng, i), contentType: ctype(enc, rng) };
  }
}

function* httpOddities(n: number, rng: Rng): Generator<Case> {
  const valid = encodeMessage(pkg1(wrongWho(rng, accs.basic), 'http'), 'xml');
  const types = [
    'text/xml',
    'application/xml',
    'application/json',
    '',
    'multipart/form-data; boundary=x',
    `${MIME.dsXml}, application/json`,
    `${MIME.dsXml}x`,
    MIME.dsXml.toUpperCase(),
    `${MIME.dsXml}; charset=utf-16`,
    ` ${MIME.dsWbxml} ; x=y`,
    MIME.notification,
    `${MIME.dsXml}\t`,
    undefined,
  ];
  for (let i = 0; i < n; i++) {
    const k = rng.int(5);
    if (k === 0)
      yield {
        cat: 'http',
        body: valid,
        method: rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']),
        contentType: MIME.dsXml,
        expectHttp: 405,
      };
    else if (k === 1) {
      const ct = rng.pick(types);
      yield { cat: 'http', body: valid, ...(ct !== undefined ? { contentType: ct } : {}) };
    } else if (k === 2)
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dsXml,
        path: rng.pick([
          '/ds?x=../../etc/passwd',
          '/ds/../../etc/passwd',
          '/ds/%2e%2e/%2e%2e/',
          '/ds//',
          `/ds/${'a'.repeat(4000)}`,
          `/ds?${'q=1&'.repeat(1000)}`,
          '/ds/../dm',
        ]),
      };
    else if (k === 3)
      yield { cat: 'http', body: valid, contentType: MIME.dsXml, path: rng.pick(['/dsx', '/DS', '/ds%00', '/%64s']) };
    else
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dsXml,
        headers: {
          host: rng.pick(['evil.example/../', 'a'.repeat(300), '[::1', 'x y']),
          'x-forwarded-for': '10.0.0.1',
          expect: rng.pick(['', '100-continue']),
        },
      };
  }
}

// ---------------------------------------------------------------------------------------
// Authenticated sessions: hostile Sync content, and a model of what the account must hold

/** fz-basic's items with a LUID as the accepted commands leave them: store -> LUID -> content (items without one must stay as they are). */
const model: Record<DsStoreName, Map<string, Uint8Array>> = { contacts: new Map(), calendar: new Map() };
/** What valid Adds and Replaces carry. */
const CONTACTS = generateContacts(9001, 300).map((c) => c.text);
const EVENTS = generateEvents(9001, 150).map((e) => e.text);
const TYPE: Record<DsStoreName, string[]> = {
  contacts: ['text/vcard', 'text/x-vcard'],
  calendar: ['text/calendar', 'text/x-vcalendar'],
};
const OTHER_STORE: Record<DsStoreName, DsStoreName> = { contacts: 'calendar', calendar: 'contacts' };
const MAX_LUID = 256;

interface Step {
  commands: Command[];
  expect: Expect[];
  final?: boolean;
  http400?: 'must' | 'may';
}

/** One session's generator state: its own LUIDs (so sessions side by side never race on an item), its CmdIDs. */
class SessionPlan {
  private cmdId = 1;
  private n = 0;
  /** Baseline LUIDs this session may replace or delete, and the ones it added. */
  readonly own: Record<DsStoreName, string[]> = { contacts: [], calendar: [] };
  constructor(
    readonly k: number,
    readonly rng: Rng,
    readonly enc: Encoding,
  ) {}

  id(): number {
    return this.cmdId++;
  }
  luid(tag = 'n'): string {
    return `s${this.k}-${tag}${this.n++}`;
  }
  content(store: DsStoreName): string {
    return this.rng.pick(store === 'contacts' ? CONTACTS : EVENTS);
  }
  type(store: DsStoreName): string {
    return this.rng.pick(TYPE[store]);
  }

  /** An Add or Replace the account must take: the model follows its status. */
  put(
    kind: 'Add' | 'Replace',
    store: DsStoreName,
    luid: string,
    data: string | Uint8Array,
    codes: number[],
    track = true,
  ): { cmd: Command; e: Expect } {
    const cmdId = this.id();
    const bytes = typeof data === 'string' ? utf8Encode(data) : data;
    return {
      cmd: { kind, cmdId, meta: { type: this.type(store) }, items: [{ source: { locURI: luid }, data }] },
      e: {
        cmdId,
        codes,
        apply: (code) => {
          if (code !== 200 && code !== 201) return;
          if (code === 201 && model[store].has(luid)) throw new Error(`${luid} added again`);
          model[store].set(luid, bytes);
          if (track && !this.own[store].includes(luid)) this.own[store].push(luid);
        },
      },
    };
  }

  /** A refused command: its codes, and nothing may change. */
  refused(cmd: Command, codes: number[]): { cmd: Command; e: Expect } {
    return { cmd, e: { cmdId: (cmd as { cmdId: number }).cmdId, codes } };
  }

  /** One hostile or valid operation inside a Sync for `store`. */
  op(store: DsStoreName): { cmd: Command; e: Expect } {
    const r = this.rng;
    const own = this.own[store];
    switch (r.int(20)) {
      case 0:
      case 1:
        return this.put('Add', store, this.luid(), this.content(store), [201]);
      case 2: {
        if (!own.length) return this.put('Add', store, this.luid(), this.content(store), [201]);
        return this.put('Replace', store, r.pick(own), this.content(store), [200]);
      }
      case 3: {
        if (!own.length) return this.put('Replace', store, this.luid('r'), this.content(store), [201]);
        const luid = own.splice(r.int(own.length), 1)[0]!;
        const cmdId = this.id();
        return {
          cmd: { kind: 'Delete', cmdId, items: [{ source: { locURI: luid } }] },
          e: {
            cmdId,
            codes: [200],
            apply: (code) => {
              if (code === 200) model[store].delete(luid);
            },
          },
        };
      }
      case 4: {
        // LUIDs of another account's items, or paths at them: nothing of this account has them.
        const foreign = Object.keys(accs.other.ds.stores[store].items);
        const luid = r.pick([
          `../${accs.other.user}/${r.pick(foreign)}`,
          `./${store}/../../${r.pick(foreign)}`,
          `${r.pick(foreign)}\u202e`,
          '../../etc/passwd',
          `s${this.k}-never`,
        ]);
        const cmdId = this.id();
        return this.refused({ kind: 'Delete', cmdId, items: [{ source: { locURI: luid } }] }, [211]);
      }
      case 5: {
        // A LUID that looks like a path is still only the client's name for its item.
        const hostile = r.pick([
          '../other',
          './contacts/../../x',
          '../../../../etc/passwd',
          `../${accs.other.user}/card/c1`,
          '..\\..\\win.ini',
          '%2e%2e%2f',
          "' OR '1'='1",
          '🙂/../🙂',
          '\u202e/..',
        ]);
        return this.put('Add', store, `${hostile}#s${this.k}-${this.n++}`, this.content(store), [201]);
      }
      case 6: {
        const luid = `s${this.k}-${'L'.repeat(MAX_LUID + r.int(2000))}${this.n++}`;
        return this.refused(
          {
            kind: 'Add',
            cmdId: this.id(),
            meta: { type: this.type(store) },
            items: [{ source: { locURI: luid }, data: this.content(store) }],
          },
          [414],
        );
      }
      case 7: {
        const type = r.pick([
          'text/html',
          'application/octet-stream',
          'text/plain',
          'image/jpeg',
          'text/vcard-x',
          r.pick(TYPE[OTHER_STORE[store]]),
          'application/vnd.syncml-devinf+xml',
        ]);
        const onCommand = r.bool();
        const cmdId = this.id();
        return this.refused(
          {
            kind: 'Add',
            cmdId,
            ...(onCommand ? { meta: { type } } : {}),
            items: [
              {
                source: { locURI: this.luid('t') },
                ...(onCommand ? {} : { meta: { type } }),
                data: this.content(store),
              },
            ],
          },
          [415],
        );
      }
      case 8: {
        // The other store's kind of content, or no vCard/iCalendar at all, under a right type.
        const data = r.pick([
          this.content(OTHER_STORE[store]),
          'hello world',
          '<script>alert(1)</script>',
          'X-JUNK:1\r\nY-JUNK:2\r\n',
          'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n',
          ':\r\n:',
        ]);
        return this.refused(
          {
            kind: 'Add',
            cmdId: this.id(),
            meta: { type: this.type(store) },
            items: [{ source: { locURI: this.luid('k') }, data }],
          },
          [415],
        );
      }
      case 9: {
        const cmdId = this.id();
        const item: Item = r.pick<Item>([
          { source: { locURI: this.luid('d') } },
          {
            source: { locURI: this.luid('d') },
            data: [{ name: 'Anchor', ns: NS_METINF, children: [{ name: 'Last', children: ['1'] }] }],
          },
          { data: this.content(store) },
        ]);
        return this.refused(
          { kind: r.pick(['Add', 'Replace'] as const), cmdId, meta: { type: this.type(store) }, items: [item] },
          [412],
        );
      }
      case 10: {
        const cmdId = this.id();
        const cmd: Command = r.pick<Command>([
          { kind: 'Copy', cmdId, items: [{ source: { locURI: 'c1' }, target: { locURI: 'c2' } }] },
          { kind: 'Get', cmdId, items: [{ target: { locURI: `../${accs.other.user}/card` } }] },
          { kind: 'Exec', cmdId, items: [{ target: { locURI: './rm-rf' } }] },
          {
            kind: 'Atomic',
            cmdId,
            commands: [
              {
                kind: 'Add',
                cmdId: this.id(),
                items: [{ source: { locURI: this.luid('a') }, data: this.content(store) }],
              },
            ],
          },
          {
            kind: 'Sync',
            cmdId,
            target: { locURI: 'card' },
            commands: [
              {
                kind: 'Add',
                cmdId: this.id(),
                items: [{ source: { locURI: this.luid('a') }, data: this.content(store) }],
              },
            ],
          },
        ]);
        return this.refused(cmd, [406]);
      }
      case 11: {
        // Several items in one Add: all taken.
        const cmdId = this.id();
        const luids = Array.from({ length: 2 + r.int(20) }, () => this.luid('m'));
        const texts = luids.map(() => this.content(store));
        return {
          cmd: {
            kind: 'Add',
            cmdId,
            meta: { type: this.type(store) },
            items: luids.map((l, i) => ({ source: { locURI: l }, data: texts[i]! })),
          },
          e: {
            cmdId,
            codes: [201],
            apply: (code) => {
              if (code === 201)
                luids.forEach((l, i) => {
                  model[store].set(l, utf8Encode(texts[i]!));
                  this.own[store].push(l);
                });
            },
          },
        };
      }
      case 12: {
        if (this.enc !== 'wbxml') return this.put('Add', store, this.luid(), this.content(store), [201]);
        // Opaque bytes: NULs inside a vCard, or bytes that are not UTF-8. Either taken as they are, or refused.
        const base = utf8Encode(this.content(store));
        const at = base.indexOf(0x0a) + 1;
        const bad = r.bool() ? Uint8Array.from([0x00, 0x00]) : Uint8Array.from([0xff, 0xfe, 0xc0, 0xaf]);
        const bytes = new Uint8Array([
          ...base.subarray(0, at),
          ...utf8Encode('NOTE:'),
          ...bad,
          0x0d,
          0x0a,
          ...base.subarray(at),
        ]);
        return this.put('Add', store, this.luid('o'), bytes, [201, 415]);
      }
      default:
        return this.put(r.bool() ? 'Add' : 'Replace', store, this.luid(), this.content(store), [201]);
    }
  }

  /** A Sync for an alerted store (named by any of its URIs), with a batch of operations. */
  syncStep(): Step {
    const r = this.rng;
    const store: DsStoreName = r.bool(0.6) ? 'contacts' : 'calendar';
    const target =
      store === 'contacts'
        ? r.pick([
            'card',
            './card',
            'CARD',
            'card/',
            'contacts',
            `../${accs.other.user}/card`,
            `/ds/${accs.other.user}/contacts?x=1`,
          ])
        : r.pick(['cal', './cal', 'calendar', 'events', `../${accs.other.user}/cal`]);
    const syncId = this.id();
    const ops = Array.from({ length: 3 + r.int(10) }, () => this.op(store));
    const numberOfChanges = r.pick([undefined, ops.length, 0, 2 ** 31 - 1, 4_294_967_295, Number.MAX_SAFE_INTEGER]);
    const commands: Command[] = [
      {
        kind: 'Sync',
        cmdId: syncId,
        target: { locURI: target },
        source: { locURI: `./${store}` },
        ...(numberOfChanges !== undefined ? { numberOfChanges } : {}),
        commands: ops.map((o) => o.cmd),
      },
    ];
    const expect: Expect[] = [{ cmdId: syncId, codes: [200] }, ...ops.map((o) => o.e)];
    // Sometimes also a Sync to a store that is not there (or was not alerted): refused whole.
    if (r.bool(0.3)) {
      const bad = this.id();
      const uri = r.pick([
        'constructor',
        '__proto__',
        'toString',
        'hasOwnProperty',
        './contacts/../../x',
        '../other',
        'notes',
        'card\\..',
        `./${accs.other.devId}`,
        'valueOf',
      ]);
      commands.push({
        kind: 'Sync',
        cmdId: bad,
        target: { locURI: uri },
        source: { locURI: './x' },
        commands: [{ kind: 'Add', cmdId: this.id(), items: [{ source: { locURI: this.luid('x') }, data: VCARD }] }],
      });
      expect.push({ cmdId: bad, codes: [404] });
    }
    // And other commands between the Syncs.
    if (r.bool(0.3)) {
      const id = this.id();
      const extra = r.pick<[Command, number[]]>([
        [
          {
            kind: 'Alert',
            cmdId: id,
            data: r.pick(['299', '0', '-1', '1201', '206']),
            items: [alertItem('card', './contacts')],
          },
          [406],
        ],
        [
          {
            kind: 'Get',
            cmdId: id,
            items: [{ target: { locURI: r.pick(['./devinf13', `../${accs.other.user}/card`, '../../etc/passwd']) } }],
          },
          [404],
        ],
        [
          {
            kind: 'Put',
            cmdId: id,
            meta: { type: DEVINF_TYPE_XML },
            items: [{ source: { locURI: DEVINF_URI_12 }, data: 'not devinf' }],
          },
          [200],
        ],
        [
          {
            kind: 'Map',
            cmdId: id,
            target: { locURI: 'notes' },
            source: { locURI: './notes' },
            mapItems: [{ target: { locURI: 'x' }, source: { locURI: 'y' } }],
          },
          [404],
        ],
        [{ kind: 'Exec', cmdId: id, items: [{ target: { locURI: './x' } }] }, [406]],
      ]);
      commands.push(extra[0]);
      expect.push({ cmdId: id, codes: extra[1] });
    }
    // A NumberOfChanges past what the decoder takes makes the whole message undecodable: nothing of it applies.
    return { commands, expect, ...(numberOfChanges === Number.MAX_SAFE_INTEGER ? { http400: 'must' as const } : {}) };
  }

  /** Large Objects, one chunk per message: honest, lying Sizes, too big, interrupted. */
  loSteps(withOverflow: boolean): Step[][] {
    const r = this.rng;
    const out: Step[][] = [];
    const store: DsStoreName = r.bool() ? 'contacts' : 'calendar';
    const target = store === 'contacts' ? 'card' : 'cal';
    const text = (): string => {
      const t = this.content(store);
      const at = t.indexOf('\n') + 1;
      return `${t.slice(0, at)}NOTE:${'n'.repeat(3000 + r.int(3000))}\r\n${t.slice(at)}`;
    };
    const chunkStep = (
      luid: string,
      data: string,
      o: { size?: number; more: boolean; codes: number[]; whole?: string; type?: string },
    ): Step => {
      const cmdId = this.id();
      const syncId = this.id();
      const item: Item = {
        source: { locURI: luid },
        data,
        ...(o.more ? { moreData: true } : {}),
        ...(o.size !== undefined ? { meta: { size: o.size } } : {}),
      };
      const apply =
        o.whole === undefined
          ? undefined
          : (code: number) => {
              if (code === 201 || code === 200) {
                model[store].set(luid, utf8Encode(o.whole!));
                this.own[store].push(luid);
              }
            };
      return {
        commands: [
          {
            kind: 'Sync',
            cmdId: syncId,
            target: { locURI: target },
            source: { locURI: `./${store}` },
            commands: [{ kind: 'Replace', cmdId, meta: { type: o.type ?? this.type(store) }, items: [item] }],
          },
        ],
        expect: [
          { cmdId: syncId, codes: [200] },
          { cmdId, codes: o.codes, ...(apply ? { apply } : {}) },
        ],
      };
    };
    const split = (t: string, parts: number): string[] => {
      const size = Math.ceil(t.length / parts);
      return Array.from({ length: parts }, (_, i) => t.slice(i * size, (i + 1) * size));
    };
    const len = (s: string) => utf8Encode(s).length;
    const honest = (sizeOf: (t: string) => number | undefined, lastCodes: number[]) => {
      const t = text();
      const luid = this.luid('lo');
      const parts = split(t, 2 + r.int(3));
      out.push(
        parts.map((p, i) =>
          chunkStep(luid, p, {
            ...(i === 0 && sizeOf(t) !== undefined ? { size: sizeOf(t)! } : {}),
            more: i < parts.length - 1,
            codes: i < parts.length - 1 ? [213] : lastCodes,
            ...(i === parts.length - 1 && lastCodes.includes(201) ? { whole: t } : {}),
          }),
        ),
      );
    };
    honest((t) => len(t), [201]);
    honest(() => undefined, [201]);
    honest((t) => len(t) - 1 - r.int(50), [424]);
    honest((t) => len(t) + 1 + r.int(5000), [424]);
    // Announced bigger than our MaxObjSize: refused at once.
    out.push([
      chunkStep(this.luid('lo'), 'BEGIN:VCARD\r\n', {
        size: r.pick([DS_MAX_OBJ_SIZE + 1, 2 ** 31, Number.MAX_SAFE_INTEGER]),
        more: true,
        codes: [413],
      }),
    ]);
    {
      // Interrupted by another item: the first is dropped, the tail that comes later is no vCard of its own.
      const t = text();
      const luid = this.luid('lo');
      const [head, tail] = split(t, 2);
      const syncId = this.id();
      const other = this.put('Add', store, this.luid(), this.content(store), [201]);
      out.push([
        chunkStep(luid, head!, { size: len(t), more: true, codes: [213] }),
        {
          commands: [
            {
              kind: 'Sync',
              cmdId: syncId,
              target: { locURI: target },
              source: { locURI: `./${store}` },
              commands: [other.cmd],
            },
          ],
          expect: [{ cmdId: syncId, codes: [200] }, other.e],
        },
        chunkStep(luid, tail!, { more: false, codes: [415] }),
      ]);
    }
    // A chunk of nested XML, a chunk of a wrong type.
    {
      const cmdId = this.id();
      const syncId = this.id();
      out.push([
        {
          commands: [
            {
              kind: 'Sync',
              cmdId: syncId,
              target: { locURI: target },
              commands: [
                {
                  kind: 'Replace',
                  cmdId,
                  items: [
                    {
                      source: { locURI: this.luid('lo') },
                      moreData: true,
                      data: [{ name: 'Anchor', ns: NS_METINF, children: [{ name: 'Next', children: ['1'] }] }],
                    },
                  ],
                },
              ],
            },
          ],
          expect: [
            { cmdId: syncId, codes: [200] },
            { cmdId, codes: [412] },
          ],
        },
      ]);
    }
    out.push([
      chunkStep(this.luid('lo'), 'BEGIN:VCARD\r\n', { more: true, codes: [415], type: 'application/octet-stream' }),
    ]);
    if (withOverflow) {
      // No Size: chunks of 400 KB until more than MaxObjSize has come.
      const luid = this.luid('lo');
      const chunk = 'N'.repeat(400_000);
      out.push([0, 1, 2].map((i) => chunkStep(luid, chunk, { more: true, codes: i < 2 ? [213] : [413] })));
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------

describe('POST /ds under a generated flood of hostile messages', () => {
  it('answers every unauthenticated one with a 4xx or a SyncML 401/407, and keeps nothing for any of them', async () => {
    fz.resetFailures();
    const rng = new Rng(SEED);
    await readNonces();
    bases = buildBases(rng);
    const started = performance.now();
    const gens: Array<[FloodCategory, Iterable<Case>]> = [
      ['auth', replays()],
      ['xml-mutation', mutations('xml-mutation', COUNTS['xml-mutation'], rng)],
      ['wbxml-mutation', mutations('wbxml-mutation', COUNTS['wbxml-mutation'], rng)],
      ['arb-valid', arbValid(COUNTS['arb-valid'], rng)],
      ['wrong-types', wrongTypes(COUNTS['wrong-types'], rng)],
      ['huge-counts', hugeCounts(rng)],
      ['deep-nesting', deepNesting(COUNTS['deep-nesting'], rng)],
      ['entities', entities(COUNTS.entities, rng)],
      ['auth', auth(COUNTS.auth, rng)],
      ['locuri-encoding', locUris(COUNTS['locuri-encoding'], rng)],
      ['garbage', garbage(COUNTS.garbage, rng)],
      ['http', httpOddities(COUNTS.http, rng)],
    ];
    for (const [, g] of gens) await fz.runPool(g, judgeRefused, { beforeNext: readNonces });
    fz.report('DS flood', [...new Set(gens.map(([c]) => c))], performance.now() - started);
    expect(fz.failures, `${fz.failureCount} violations`).toEqual([]);
    expect(fz.totalSent()).toBeGreaterThanOrEqual(Object.values(COUNTS).reduce((a, b) => a + b, 0) - 50);

    // Nobody authenticated: no session kept, no row of any account changed (MD5 nonces apart, which every challenge renews),
    // and the failed sign-ins of the known accounts kept in their handsets' history, a bounded few.
    const after = await tableCounts(db());
    for (const [table, n] of baseline.counts)
      if (table === 'device_attempts')
        expect(after.get(table), table).toBeLessThanOrEqual(n + all().length * ATTEMPTS_KEPT);
      else expect(after.get(table), table).toBe(n);
    for (const a of all()) expect(await accountImage(a.accountId), a.user).toBe(baseline.images.get(a.user));
  }, 120_000);

  it('keeps hostile Sync content inside authenticated sessions to error statuses, changing the account only as the accepted commands say', async () => {
    fz.resetFailures();
    const rng = new Rng(SEED ^ 0x5e55);
    const started = performance.now();
    const c = db();
    for (const item of await dsItemsOf(srv.ctx.db, accs.basic.accountId)) {
      if (item.luid) model[item.store].set(item.luid, (await srv.ctx.blobs.get(item.hash))!);
    }
    const unmapped = await column<string>(
      c,
      sql`select id from ds_items where account_id = ${accs.basic.accountId} and luid is null order by id`,
    );
    const anchors = {
      contacts: (await getDsStore(srv.ctx.db, accs.basic.accountId, 'contacts'))!.clientAnchor!,
      calendar: (await getDsStore(srv.ctx.db, accs.basic.accountId, 'calendar'))!.clientAnchor!,
    };
    const foreignIds = await column<string>(
      c,
      sql`select id from ds_items where account_id != ${accs.basic.accountId} limit 200`,
    );
    const plans: SessionPlan[] = [];
    for (let k = 0; k < SESSIONS; k++)
      plans.push(new SessionPlan(k, new Rng(rng.next()), k % 2 === 0 ? 'xml' : 'wbxml'));
    // The baseline items are shared out, so that only one session replaces or deletes each.
    for (const store of ['contacts', 'calendar'] as const)
      [...model[store].keys()].forEach((luid, i) => plans[i % SESSIONS]!.own[store].push(luid));

    const hdr = (
      p: SessionPlan,
      msgId: number,
      withCred: boolean,
      source = `fuzz-client-${p.k}`,
    ): SyncMLMessage['hdr'] => ({
      verDTD: '1.2',
      verProto: 'SyncML/1.2',
      sessionId: `fz-${p.k}`,
      msgId,
      target: { locURI: url },
      source: { locURI: source, locName: accs.basic.user },
      ...(withCred ? { cred: cred(basicCredential(accs.basic.user, accs.basic.pass)) } : {}),
      meta: { maxMsgSize: 1_048_576, maxObjSize: DS_MAX_OBJ_SIZE },
    });

    await Promise.all(
      plans.map(async (p) => {
        // Pkg #1: right credentials, two-way Alerts with the anchors the last sync left (Next = Last, so they stay), hostile Alerts.
        const steps: Step[] = [];
        const putId = p.id();
        const cardId = p.id();
        const calId = p.id();
        const first: Step = {
          commands: [
            {
              kind: 'Put',
              cmdId: putId,
              meta: { type: DEVINF_TYPE_XML },
              items: [{ source: { locURI: DEVINF_URI_12 }, data: [phoneDevInf(`fuzz-client-${p.k}`)] }],
            },
            {
              kind: 'Alert',
              cmdId: cardId,
              data: '200',
              items: [alertItem('card', './contacts', anchors.contacts, anchors.contacts)],
            },
            {
              kind: 'Alert',
              cmdId: calId,
              data: '200',
              items: [alertItem('cal', './calendar', anchors.calendar, anchors.calendar)],
            },
          ],
          expect: [
            { cmdId: putId, codes: [200] },
            { cmdId: cardId, codes: [200] },
            { cmdId: calId, codes: [200] },
          ],
        };
        for (const [uri, codes] of [
          [p.rng.pick(['constructor', '__proto__', 'toString', '../other', './contacts/../../x', 'notes']), [404]],
          [null, [406]],
          ['', [412, 404]],
        ] as Array<[string | null, number[]]>) {
          const id = p.id();
          if (uri === null)
            first.commands.push({
              kind: 'Alert',
              cmdId: id,
              data: p.rng.pick(['299', '0', '1226', '-200']),
              items: [alertItem('card', './contacts')],
            });
          else if (uri === '') first.commands.push({ kind: 'Alert', cmdId: id, data: '200', items: [] });
          else first.commands.push({ kind: 'Alert', cmdId: id, data: '200', items: [alertItem(uri, './x')] });
          first.expect.push({ cmdId: id, codes });
        }
        steps.push(first);
        // Pkg #3 over many messages: Syncs of hostile content; Large Object scenarios in between.
        const lo = shuffle(p.rng, p.loSteps(p.k === 0));
        for (let m = 0; m < SYNC_MESSAGES; m++) {
          steps.push(p.syncStep());
          if (m % 3 === 2 && lo.length) steps.push(...lo.pop()!);
        }
        for (const rest of lo) steps.push(...rest);
        // The last message of Pkg #3, then Pkg #5: Maps of unknown and foreign ids (nothing to map them to).
        let last = p.syncStep();
        for (let tries = 0; last.http400 && tries < 50; tries++) last = p.syncStep(); // the package's end must be read
        last.final = true;
        steps.push(last);
        const mapId = p.id();
        steps.push({
          commands: [
            {
              kind: 'Map',
              cmdId: mapId,
              target: { locURI: 'card' },
              source: { locURI: './contacts' },
              mapItems: [
                ...foreignIds.slice(0, 20).map((id) => ({ target: { locURI: id }, source: { locURI: p.luid('map') } })),
                ...(unmapped.length
                  ? []
                  : [
                      { target: { locURI: 'no-such-item' }, source: { locURI: `s${p.k}-n0` } },
                      { target: { locURI: `../${accs.other.user}/x` }, source: { locURI: '../x' } },
                    ]),
              ],
            },
          ],
          expect: [{ cmdId: mapId, codes: [200] }],
          final: true,
        });

        let msgId = 0;
        for (const st of steps) {
          msgId++;
          const msg: SyncMLMessage = {
            hdr: hdr(p, msgId, msgId === 1),
            body: { commands: st.commands, final: st.final ?? msgId === 1 },
          };
          let body: Uint8Array;
          try {
            body = encodeMessage(msg, p.enc);
          } catch (err) {
            throw new Error(`session ${p.k} message ${msgId} does not encode: ${(err as Error).message}`);
          }
          const kase: Case = {
            cat: 'session',
            body,
            contentType: ctype(p.enc),
            session: {
              msgId,
              hdr: msgId === 1 ? 212 : 200,
              expect: st.expect,
              ...(st.http400 ? { http400: st.http400 } : {}),
            },
          };
          await fz.exchange(kase, judgeSession, `session ${p.k} msg ${msgId}`);
          // The same session continued from another Source (and without credentials): a new session, refused.
          if (msgId % 7 === 3) {
            const h = {
              hdr: hdr(
                p,
                msgId + 1,
                false,
                p.rng.pick([accs.other.devId, `fuzz-client-${(p.k + 1) % SESSIONS}x`, `fuzz-client-${p.k}/..`]),
              ),
              body: { commands: p.syncStep().commands, final: false },
            };
            await fz.exchange(
              { cat: 'hijack', body: encodeMessage(h, p.enc), contentType: ctype(p.enc) },
              judgeRefused,
            );
          }
        }
      }),
    );
    fz.report('authenticated DS sessions', ['session', 'hijack'], performance.now() - started);
    expect(fz.failures, `${fz.failureCount} violations`).toEqual([]);

    // Every session ran to its end.
    const done = await value(
      c,
      sql`select count(*) from ds_sessions where account_id = ${accs.basic.accountId} and status = 'complete' and session_id like 'fz-%'`,
    );
    expect(done).toBe(SESSIONS);
    // fz-basic holds exactly what the accepted commands made; the others are as they were, byte for byte.
    for (const store of ['contacts', 'calendar'] as const) {
      const mapped = (await dsItemsOf(srv.ctx.db, accs.basic.accountId, store)).filter((r) => r.luid !== null);
      const got = new Map<string, string>();
      for (const r of mapped) got.set(r.luid!, Buffer.from((await srv.ctx.blobs.get(r.hash))!).toString('base64'));
      const want = new Map([...model[store]].map(([l, b]) => [l, Buffer.from(b).toString('base64')]));
      const missing = [...want.keys()].filter((l) => got.get(l) !== want.get(l)).slice(0, 5);
      const extra = [...got.keys()].filter((l) => !want.has(l)).slice(0, 5);
      expect({ store, missing, extra }).toEqual({ store, missing: [], extra: [] });
      expect(got.size).toBe(want.size);
    }
    expect(
      await column<string>(
        c,
        sql`select id from ds_items where account_id = ${accs.basic.accountId} and luid is null order by id`,
      ),
    ).toEqual(unmapped);
    for (const a of [accs.md5, accs.other])
      expect(await accountImage(a.accountId), a.user).toBe(baseline.images.get(a.user));
  }, 120_000);

  it('still syncs the real clients afterwards, with bounded memory, no unhandled rejection and DS rows for the three accounts only', async () => {
    expect(fz.totalSent()).toBeGreaterThanOrEqual(10_000);
    for (const a of all()) {
      // A change on the handset, so the two-way sync has something to carry.
      userPut(
        a.ds,
        'contacts',
        'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:After The Flood\r\nN:Flood;After;;;\r\nEND:VCARD\r\n',
      );
      const out = await runDsSession(clientConfig(a), a.ds);
      expect(out.ok, `${a.user}: ${out.error}`).toBe(true);
      expect(out.stores.map((s) => s.syncType)).toEqual(['two-way', 'two-way']);
      expect(out.stores.find((s) => s.store === 'contacts')!.added).toBe(1);
      a.ds = out.ds!;
    }
    expect(unhandled).toEqual([]);

    // After a full GC: what the server still holds, not what the allocator kept of the 1 MiB messages' peak.
    const heap = settleHeap();
    const rss = process.memoryUsage().rss;
    console.log(
      `memory: rss ${mib(baseline.rss)} -> ${mib(rss)} MiB (peak ${mib(fz.peakRss)} MiB)` +
        (heap !== undefined && baseline.heap !== undefined
          ? `, heap after GC ${mib(baseline.heap)} -> ${mib(heap)} MiB`
          : ', no forced GC available: heap check skipped'),
    );
    expect(rss - baseline.rss).toBeLessThan(200 * 2 ** 20);
    if (heap !== undefined && baseline.heap !== undefined) expect(heap - baseline.heap).toBeLessThan(64 * 2 ** 20);

    const c = db();
    const ids = all()
      .map((a) => a.accountId)
      .sort();
    expect(await column<string>(c, sql`select id from ds_accounts order by id`)).toEqual(ids);
    for (const table of ['ds_items', 'ds_stores', 'ds_snapshots', 'ds_sessions']) {
      const stray = await value(
        c,
        sql.raw(
          `select count(*) from ${table} where account_id is null or account_id not in (select id from ds_accounts)`,
        ),
      );
      expect(stray, table).toBe(0);
    }
    expect(await column<string>(c, sql`select dev_id from devices order by dev_id`)).toEqual(
      all()
        .map((a) => a.devId)
        .sort(),
    );
    const sessions = await rows(
      c,
      sql`select a.username, s.status, count(*) as n from ds_sessions s join ds_accounts a on a.id = s.account_id group by 1, 2 order by 1, 2`,
    );
    console.log(`ds_sessions: ${JSON.stringify(sessions)}; total messages ${fz.totalSent()}`);
  }, 60_000);
});
