/**
 * POST /dm under a deterministic flood of generated malformed and hostile DM messages:
 * real HTTP on loopback (keep-alive, 8 in flight) to the real node:http front, whose
 * sessions live in a real SQLite file (a PostgreSQL database in the PostgreSQL pass), with two real virtual handsets provisioned (one
 * md5, one HMAC) so that part of the flood names a real DevId with wrong, replayed or
 * forged credentials.
 *
 * The rule every answer is held to (judgeUnauthenticated, judgeSession):
 *  - HTTP 4xx (400 undecodable, 413 too large, 415 wrong type, 405 wrong method, 404
 *    outside /dm, 431 header too large, 429 with Retry-After from a rate limit); or
 *  - 200 with a SyncML body of the family asked for, whose SyncHdr Status is 401 or 407
 *    (with a Chal) or 5xx, and which carries nothing but Status: nothing in the flood can
 *    authenticate, so nothing may be executed for it or sent to it; or
 *  - 200 with an empty body, which the protocol allows only as the answer to a client's
 *    late closing statuses (Final, Status commands only) for a session of that device that
 *    is already complete: checked against the decoded request and the database; or
 *  - in the authenticated Large Object phase, 200 with SyncHdr 200 and a 4xx/5xx Status for
 *    a command of the message (each message carries a Delete, which a DM server refuses with
 *    405, besides the Large Object commands, whose expected codes are checked as well).
 * And for all of them: no 5xx, no dropped connection (except where the server refuses a
 * too-large upload or header and may reset), no secret of a handset in any answer.
 *
 * Afterwards: both handsets still complete real sessions, no unhandled rejection, memory
 * bounded, and the database holds rows for the two provisioned devices only.
 *
 * Everything is generated from SEED (xorshift + fast-check's seeded sample), so a run is
 * reproducible; a violation is reported with the start of the request and of the answer.
 * A replayed HMAC message (from an earlier session) is refused: the server hands out a
 * new nonce with every answer to an HMAC-checked message.
 */
import { ATTEMPTS_KEPT } from '@/db/queries/device-attempts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { getDeviceByDevId } from '@/db/queries/devices';
import { findSession } from '@/db/queries/sessions';
import { devices } from '@/db/schema';
import { column, rows, value } from '@/db/sql';
import { resetEnvCache } from '../core/env';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { httpTransport, type Transport } from '../../sim/transport';
import { provisionFleet } from '../../sim/provision';
import { arbMessage } from '../../test/support/arbitrary-message';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { messageToElement, NS_METINF } from '../omadm/codec/syncml';
import { AUTH_TYPE, basicCredential, hmacHeader, md5Derived, md5Digest, nonceBytes, type Secret } from '../omadm/auth';
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
import { DM_DECODE_LIMITS, DM_MAX_BODY } from './dm-http';
import { SERVER_MAX_OBJ_SIZE } from './dm-session';
import {
  encodeTree,
  findAll,
  FuzzClient,
  garbageBody,
  hostileUri,
  deepNestingCase,
  entityCase,
  wrongTypesCase,
  mutate,
  oddEncoding,
  columnNames,
  Rng,
  settleHeap,
  shuffle,
  tableCounts as countRows,
  tableNames,
  type Answer,
  type FuzzCase,
} from '../../test/support/fuzz-kit';
import { startTestServer, type TestServer } from '../../test/support/test-server';

const SEED = 0x5eed_2025;
const CONCURRENCY = 8;
const REQUEST_TIMEOUT_MS = 20_000;
/** Flood size per category (the authenticated Large Object phase adds about 600). */
const COUNTS = {
  'xml-mutation': 2000,
  'wbxml-mutation': 2000,
  'arb-valid': 800,
  'wrong-types': 1200,
  'huge-counts': 36,
  'deep-nesting': 400,
  entities: 800,
  auth: 1600,
  'locuri-encoding': 1200,
  'large-object': 400,
  garbage: 400,
  http: 160,
} as const;
type FloodCategory = keyof typeof COUNTS;
type Category = FloodCategory | 'lo-session';

// ---------------------------------------------------------------------------------------
// World: server, handsets, what we captured of their real sessions

interface Captured {
  headers: Record<string, string>;
  body: Uint8Array;
}
interface Target {
  h: VirtualHandset;
  devId: string;
  scheme: 'md5' | 'hmac';
  encoding: Encoding;
  secret: Secret;
  /** The nonce the device was provisioned with: stale once the first session has run. */
  staleNonce: string;
  /** Every request of the handset's first real session, in order (Pkg1 first). */
  captured: Captured[];
  /** Strings that must never appear in an answer. */
  secrets: string[];
}

let srv: TestServer;
let stateDir: string;
let port: number;
let A: Target; // md5, XML
let B: Target; // HMAC, WBXML
let fz: FuzzClient<Category>;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};

/** SessionIDs the handsets will use next: the flood never names them, so a later real session starts clean. */
const reserved = new Set<string>();
const provisionedIds = () => [A.devId, B.devId];
const db = () => srv.ctx.db;

interface Baseline {
  rss: number;
  heap?: number;
  tableCounts: Map<string, number>;
  devices: Map<string, Record<string, unknown>>;
}
let baseline: Baseline;

const tableCounts = () => countRows(db());

/** Each device's client nonce as the database has it: read before each flood message is made (a challenge renews it). */
const nonces = new Map<string, string>();
async function readNonces(): Promise<void> {
  for (const d of await db().select({ devId: devices.devId, nonce: devices.clientNonce }).from(devices))
    nonces.set(d.devId, d.nonce);
}

async function deviceRows(): Promise<Map<string, Record<string, unknown>>> {
  const all = await rows(db(), sql`select * from devices`);
  return new Map(all.map((r) => [String(r.dev_id), r]));
}

const recording =
  (sink: Captured[]): Transport =>
  async (req) => {
    sink.push({ headers: { ...req.headers }, body: new Uint8Array(req.body ?? new Uint8Array(0)) });
    return httpTransport(req);
  };

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // The whole flood comes from one address: with the failed-authentication limits on, all
  // but its first few messages would get 429 before the protocol code they aim at.
  process.env.AUTH_RATE_LIMIT = '0';
  resetEnvCache();
  srv = await startTestServer();
  port = Number(new URL(srv.dmUrl).port);
  fz = new FuzzClient<Category>({ port, defaultPath: '/dm', concurrency: CONCURRENCY, timeoutMs: REQUEST_TIMEOUT_MS });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-fuzz-'));
  const [ha] = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir: path.join(stateDir, 'md5'),
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.01,
    seed: 4101,
  });
  const [hb] = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir: path.join(stateDir, 'hmac'),
    encoding: 'wbxml',
    auth: 'hmac',
    mediaScale: 0.01,
    seed: 4202,
  });
  const hs = [ha!, hb!];
  await provisionFleet(
    srv.ctx.db,
    hs.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
  );
  const target = (h: VirtualHandset, scheme: 'md5' | 'hmac'): Target => {
    const id = h.identity;
    const secret: Secret = { user: id.clientUser, password: id.clientPassword };
    return {
      h,
      devId: h.devId,
      scheme,
      encoding: id.encoding,
      secret,
      staleNonce: h.state.nonces.clientNonce,
      captured: [],
      secrets: [id.clientPassword, id.serverPassword, md5Derived(id.clientUser, id.clientPassword)],
    };
  };
  A = target(ha!, 'md5');
  B = target(hb!, 'hmac');
  // One real session each, recorded: the source of replays (valid credentials of an earlier session).
  for (const t of [A, B]) {
    const s = await t.h.connect({ initiator: 'client', transport: recording(t.captured) });
    expect(s.ok, s.error?.message).toBe(true);
    expect(t.captured.length).toBeGreaterThan(1);
    expect((await getDeviceByDevId(srv.ctx.db, t.devId))!.clientNonce).not.toBe(t.staleNonce);
    for (let n = t.h.state.nextSessionId, k = 0; k < 32; k++, n++) reserved.add(n.toString(16).toUpperCase());
  }
  baseline = {
    rss: process.memoryUsage().rss,
    heap: settleHeap(),
    tableCounts: await tableCounts(),
    devices: await deviceRows(),
  };
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  fz?.agent.destroy();
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------
// Requests

interface Case extends FuzzCase<Category> {
  /** Authenticated-session checks (lo-session only). */
  session?: SessionCheck;
}

// ---------------------------------------------------------------------------------------
// Judging answers

const hdrStatusOf = (m: SyncMLMessage): Status | undefined =>
  m.body.commands.find((c): c is Status => c.kind === 'Status' && (c.cmdRef === 0 || c.cmd === 'SyncHdr'));

function requestEncoding(c: Case): Encoding | undefined {
  return encodingOf(c.contentType);
}

/** An empty 200 is the answer to late statuses of a session of that device that is over (§8.4). */
async function isLateStatusesOfCompleteSession(c: Case): Promise<boolean> {
  const enc = requestEncoding(c);
  if (!enc) return false;
  let msg: SyncMLMessage;
  try {
    msg = decodeMessage(c.body, enc, DM_DECODE_LIMITS);
  } catch {
    return false;
  }
  const dev = await getDeviceByDevId(srv.ctx.db, msg.hdr.source.locURI);
  if (!dev || !provisionedIds().includes(dev.devId)) return false;
  const onlyStatuses =
    msg.body.final && msg.body.commands.length > 0 && msg.body.commands.every((x) => x.kind === 'Status');
  return onlyStatuses && (await findSession(srv.ctx.db, dev.id, msg.hdr.sessionId, 'complete')) !== undefined;
}

function checkNoLeak(a: Answer): void {
  for (const t of [A, B])
    for (const s of t.secrets) if (a.body.includes(s)) throw new Error('an answer carries a handset secret');
  if (a.body.includes('root:x:0:0')) throw new Error('an answer carries /etc/passwd');
}

function decodeReply(c: Case, a: Answer): { reply: SyncMLMessage; enc: Encoding } {
  const ct = String(a.headers['content-type'] ?? '');
  const enc = encodingOf(ct);
  if (!enc) throw new Error(`200 with content type ${ct}`);
  const asked = requestEncoding(c);
  if (asked && enc !== asked) throw new Error(`answered in ${enc} to ${asked}`);
  return { reply: decodeMessage(new Uint8Array(a.body), enc), enc };
}

/** The flood: nothing in it can authenticate (see the rule at the top). */
async function judgeUnauthenticated(c: Case, a: Answer): Promise<string> {
  checkNoLeak(a);
  if (a.status === 0) {
    if (c.mayReset && /^(ECONNRESET|EPIPE)$/.test(a.error ?? '')) return `reset (${a.error})`;
    throw new Error(`no answer: ${a.error}`);
  }
  if (c.expectHttp !== undefined && a.status !== c.expectHttp)
    throw new Error(`expected HTTP ${c.expectHttp}, got ${a.status}`);
  if (a.status === 429 && !a.headers['retry-after']) throw new Error('429 without Retry-After');
  if (a.status >= 400 && a.status < 500) return `http ${a.status}`;
  if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
  if (a.body.length === 0) {
    if (!(await isLateStatusesOfCompleteSession(c)))
      throw new Error('empty 200 that is not the answer to late statuses of a complete session');
    return '200 empty (late statuses)';
  }
  const { reply } = decodeReply(c, a);
  const hs = hdrStatusOf(reply);
  if (!hs) throw new Error('200 without a SyncHdr Status');
  const code = Number(hs.data);
  if (code === 401 || code === 407) {
    if (!hs.chal?.meta.nextNonce) throw new Error(`${code} without a Chal`);
  } else if (!(code >= 500 && code < 600)) {
    throw new Error(`SyncHdr Status ${hs.data} for a peer that cannot have authenticated`);
  }
  const other = reply.body.commands.find((x) => x.kind !== 'Status');
  if (other) throw new Error(`a ${other.kind} sent to an unauthenticated peer`);
  return `syncml ${code}`;
}

// ---------------------------------------------------------------------------------------
// Building blocks

const WRONG_DIGEST = 'bm90IGEgcmVhbCBkaWdlc3Q=';
const md5Cred = (data: string, type: string = AUTH_TYPE.md5, format = 'b64'): Cred => ({
  meta: { type, format },
  data,
});
const ctype = (enc: Encoding, rng?: Rng): string =>
  rng && rng.bool(0.1) ? (enc === 'xml' ? MIME.dsXml : MIME.dsWbxml) : enc === 'xml' ? MIME.dmXml : MIME.dmWbxml;

function unknownDevId(rng: Rng): string {
  return `IMEI:${rng.digits(15)}`;
}

function pickDevId(rng: Rng): string {
  const r = rng.int(10);
  return r < 4 ? A.devId : r < 7 ? B.devId : unknownDevId(rng);
}

function sessionIdFor(label: string): string {
  return reserved.has(label) ? `x${label}` : label;
}

/** A Package #1 like a handset's: Alert 1201 and its DevInfo, credentials in the header. */
function pkg1(
  devId: string,
  sessionId: string,
  o: { cred?: Cred | null; msgId?: number; extra?: Command[]; final?: boolean; items?: Item[] } = {},
): SyncMLMessage {
  const cred = o.cred === null ? undefined : (o.cred ?? md5Cred(WRONG_DIGEST));
  return {
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId,
      msgId: o.msgId ?? 1,
      target: { locURI: srv.dmUrl },
      source: { locURI: devId },
      ...(cred ? { cred } : {}),
      meta: { maxMsgSize: 16_384, maxObjSize: 1_048_576 },
    },
    body: {
      commands: [
        { kind: 'Alert', cmdId: 1, data: '1201', items: [] },
        {
          kind: 'Replace',
          cmdId: 2,
          items: o.items ?? [
            { source: { locURI: './DevInfo/DevId' }, data: devId },
            {
              source: { locURI: './DevInfo/Man' },
              meta: { format: 'chr', type: 'text/plain', size: 10 },
              data: 'Fuzz Corp.',
            },
            { source: { locURI: './DevInfo/Mod' }, data: 'F-1' },
          ],
        },
        ...(o.extra ?? []),
      ],
      final: o.final ?? true,
    },
  };
}

/** Every numeric and textual field SyncML has, to be broken one at a time. */
function richMessage(devId: string, sessionId: string): SyncMLMessage {
  const m = pkg1(devId, sessionId, {
    extra: [
      {
        kind: 'Status',
        cmdId: 3,
        msgRef: 1,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRef: [devId],
        sourceRef: ['srv'],
        data: '200',
      },
      {
        kind: 'Results',
        cmdId: 4,
        msgRef: 1,
        cmdRef: 2,
        items: [{ source: { locURI: './DevDetail/FwV' }, meta: { format: 'chr', size: 3 }, data: '1.0' }],
      },
      {
        kind: 'Sync',
        cmdId: 5,
        numberOfChanges: 1,
        target: { locURI: './x' },
        commands: [{ kind: 'Add', cmdId: 6, items: [{ target: { locURI: './x/1' }, data: 'v' }] }],
      },
      {
        kind: 'Replace',
        cmdId: 7,
        items: [{ source: { locURI: './Big' }, meta: { format: 'b64', size: 8 }, data: 'AAAA', moreData: true }],
      },
    ],
  });
  return m;
}

const fromCase = (cat: Category, msg: SyncMLMessage, enc: Encoding, rng: Rng, extra: Partial<Case> = {}): Case => ({
  cat,
  body: encodeMessage(msg, enc),
  contentType: ctype(enc, rng),
  ...extra,
});

// ---------------------------------------------------------------------------------------
// Generators, one per category

interface Bases {
  xml: Uint8Array[];
  wbxml: Uint8Array[];
}
let bases: Bases;

function buildBases(rng: Rng): Bases {
  const out: Bases = { xml: [], wbxml: [] };
  for (let i = 0; i < 24; i++) {
    const devId = pickDevId(rng);
    const msg = i % 2 ? richMessage(devId, sessionIdFor(`base-${i}`)) : pkg1(devId, sessionIdFor(`base-${i}`));
    out.xml.push(encodeMessage(msg, 'xml'));
    out.wbxml.push(encodeMessage(msg, 'wbxml'));
  }
  for (const [i, m] of fc.sample(arbMessage({ maxNesting: 2 }), { seed: SEED, numRuns: 24 }).entries()) {
    m.hdr.source = { locURI: i % 3 === 0 ? A.devId : i % 3 === 1 ? B.devId : m.hdr.source.locURI };
    m.hdr.sessionId = sessionIdFor(m.hdr.sessionId);
    out.xml.push(encodeMessage(m, 'xml'));
  }
  for (const [i, m] of fc
    .sample(arbMessage({ maxNesting: 2, opaque: true }), { seed: SEED + 1, numRuns: 24 })
    .entries()) {
    m.hdr.source = { locURI: i % 3 === 0 ? B.devId : i % 3 === 1 ? A.devId : m.hdr.source.locURI };
    m.hdr.sessionId = sessionIdFor(m.hdr.sessionId);
    out.wbxml.push(encodeMessage(m, 'wbxml'));
  }
  // The handsets' own messages (a replayed Pkg1 after a mutation is still a replay).
  for (const c of A.captured) out.xml.push(c.body);
  for (const c of B.captured) out.wbxml.push(c.body);
  return out;
}

function* mutations(cat: 'xml-mutation' | 'wbxml-mutation', n: number, rng: Rng): Generator<Case> {
  const enc: Encoding = cat === 'xml-mutation' ? 'xml' : 'wbxml';
  for (let i = 0; i < n; i++) yield { cat, body: mutate(rng, rng.pick(bases[enc]), enc), contentType: ctype(enc, rng) };
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
      const r = rng.int(3);
      if (r < 2) m.hdr.source = { locURI: r === 0 ? A.devId : B.devId };
      m.hdr.sessionId = sessionIdFor(m.hdr.sessionId);
      yield fromCase('arb-valid', m, enc, rng);
    }
  }
}

function* wrongTypes(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const devId = pickDevId(rng);
    const c = wrongTypesCase(rng, messageToElement(richMessage(devId, sessionIdFor(`wt-${i}`))));
    if (c) yield { cat: 'wrong-types', body: c.body, contentType: ctype(c.enc, rng) };
  }
}

function* hugeCounts(n: number, rng: Rng): Generator<Case> {
  const big = (count: number, make: (i: number) => Command, devId: string, enc: Encoding): Case => {
    const m = pkg1(devId, sessionIdFor(`huge-${rng.next()}`), {
      extra: Array.from({ length: count }, (_, i) => make(i + 3)),
    });
    return fromCase('huge-counts', m, enc, rng);
  };
  const rep = (i: number): Command => ({
    kind: 'Replace',
    cmdId: i,
    items: [{ source: { locURI: `./F/${i}` }, data: String(i) }],
  });
  const raw = (xml: string, extra: Partial<Case> = {}): Case => ({
    cat: 'huge-counts',
    body: utf8Encode(xml),
    contentType: MIME.dmXml,
    ...extra,
  });
  const wrap = (hdrExtra: string, body: string, devId = A.devId) =>
    `<?xml version="1.0"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>${sessionIdFor(`huge-${rng.next()}`)}</SessionID>` +
    `<MsgID>1</MsgID><Target><LocURI>${srv.dmUrl}</LocURI></Target><Source><LocURI>${devId}</LocURI></Source>${hdrExtra}</SyncHdr><SyncBody>${body}<Final/></SyncBody></SyncML>`;
  const builders: Array<() => Case> = [
    () => big(5_000, rep, A.devId, 'xml'),
    () => big(5_000, rep, B.devId, 'wbxml'),
    () => big(5_000, rep, unknownDevId(rng), 'wbxml'),
    () => ({ ...big(20_000, rep, A.devId, 'xml'), expectHttp: 400 }), // > 100,000 elements
    () => ({ ...big(20_000, rep, B.devId, 'wbxml'), expectHttp: 400 }),
    () =>
      big(10_000, (i) => ({ kind: 'Status', cmdId: i, msgRef: 1, cmdRef: i, cmd: 'Get', data: '200' }), A.devId, 'xml'),
    () =>
      big(
        10_000,
        (i) => ({ kind: 'Status', cmdId: i, msgRef: 1, cmdRef: i, cmd: 'Get', data: '200' }),
        B.devId,
        'wbxml',
      ),
    () => big(15_000, (i) => ({ kind: 'Alert', cmdId: i, data: '1226', items: [] }), A.devId, 'xml'),
    () =>
      big(
        8_000,
        () => ({ kind: 'Replace', cmdId: 9, items: [{ source: { locURI: './Dup' }, data: 'd' }] }),
        A.devId,
        'xml',
      ), // duplicate CmdIDs
    () =>
      big(
        1,
        () => ({
          kind: 'Replace',
          cmdId: 3,
          items: Array.from({ length: 10_000 }, (_, k) => ({ source: { locURI: `./I/${k}` }, data: 'v' })),
        }),
        A.devId,
        'xml',
      ),
    () =>
      big(
        1,
        () => ({
          kind: 'Replace',
          cmdId: 3,
          items: Array.from({ length: 10_000 }, (_, k) => ({
            source: { locURI: `./I/${k}` },
            data: 'v',
            moreData: true,
          })),
        }),
        B.devId,
        'wbxml',
      ),
    () =>
      big(
        1,
        () => ({
          kind: 'Replace',
          cmdId: 3,
          items: [{ source: { locURI: './Huge' }, data: 'A'.repeat(DM_MAX_BODY - 4096) }],
        }),
        A.devId,
        'xml',
      ),
    () =>
      big(
        1,
        () => ({
          kind: 'Replace',
          cmdId: 3,
          items: [{ source: { locURI: './Huge' }, data: rng.bytes(DM_MAX_BODY - 4096) }],
        }),
        B.devId,
        'wbxml',
      ),
    () =>
      big(
        1,
        () => ({ kind: 'Replace', cmdId: 3, items: [{ source: { locURI: `./${'L'.repeat(3_000_000)}` }, data: 'v' }] }),
        A.devId,
        'xml',
      ),
    () => ({
      ...big(
        1,
        () => ({ kind: 'Replace', cmdId: 3, items: [{ source: { locURI: './Huge' }, data: 'A'.repeat(DM_MAX_BODY) }] }),
        A.devId,
        'xml',
      ),
      expectHttp: 413,
      mayReset: true,
    }),
    () => ({
      ...big(
        1,
        () => ({ kind: 'Replace', cmdId: 3, items: [{ source: { locURI: './Huge' }, data: rng.bytes(DM_MAX_BODY) }] }),
        B.devId,
        'wbxml',
      ),
      expectHttp: 413,
      mayReset: true,
    }),
    () => {
      // Exactly DM_MAX_BODY bytes: accepted by size, padded with a comment.
      const head = wrap(
        '<Cred><Meta><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta><Data>AAAA</Data></Cred>',
        '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>',
      );
      const pad = DM_MAX_BODY - utf8Encode(head).length - 7;
      return raw(`${head}<!--${' '.repeat(pad)}-->`);
    },
    () => raw(wrap('', `<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>${'<Foo/>'.repeat(99_000)}`)),
    () => ({ ...raw(wrap('', `${'<Foo/>'.repeat(100_001)}`)), expectHttp: 400 }),
    () => ({ ...raw(wrap(`<SessionID>${'7'.repeat(1_000_000)}</SessionID>`, '')) }),
    () => ({
      ...raw(wrap('', `<Alert><CmdID>${'0'.repeat(2_000_000)}1</CmdID><Data>1201</Data></Alert>`)),
      expectHttp: 400,
    }),
    () =>
      raw(
        wrap(`${'<Cred><Data>AAAA</Data></Cred>'.repeat(2_000)}`, '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>'),
      ),
    () => raw(wrap('', `<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>${' \n\t'.repeat(1_000_000)}`)),
    () => raw(wrap('', `<!--${'c'.repeat(3_000_000)}--><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>`)),
    () =>
      raw(
        wrap(
          '',
          `<Replace><CmdID>2</CmdID><Item><Source><LocURI>./C</LocURI></Source><Data><![CDATA[${'<'.repeat(3_000_000)}]]></Data></Item></Replace>`,
        ),
      ),
    () => raw(wrap('', `<?pi ${'p'.repeat(3_000_000)}?><Alert><CmdID>1</CmdID><Data>1201</Data></Alert>`)),
    () =>
      raw(
        wrap('', '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>').replace(
          '<SyncML xmlns="SYNCML:SYNCML1.2">',
          `<SyncML xmlns="SYNCML:SYNCML1.2" ${Array.from({ length: 63 }, (_, k) => `xmlns:p${k}="u${k}"`).join(' ')}>`,
        ),
      ),
    () =>
      raw(
        wrap('', '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>').replace(
          '<SyncML xmlns="SYNCML:SYNCML1.2">',
          `<SyncML xmlns="SYNCML:SYNCML1.2" ${Array.from({ length: 200 }, (_, k) => `xmlns:p${k}="u${k}"`).join(' ')}>`,
        ),
      ),
    () =>
      raw(
        wrap('', '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>').replace(
          '<SyncML xmlns="SYNCML:SYNCML1.2">',
          `<SyncML xmlns="SYNCML:SYNCML1.2" ${Array.from({ length: 50_000 }, (_, k) => `a${k}="v"`).join(' ')}>`,
        ),
      ),
    () =>
      raw(
        wrap('', '<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>').replace(
          '<SyncML xmlns="SYNCML:SYNCML1.2">',
          `<SyncML xmlns="SYNCML:SYNCML1.2" ${'a="1" '.repeat(1000)}>`,
        ),
      ),
    () => raw(wrap('', `${'&amp;'.repeat(500_000)}<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>`)),
    () => raw(wrap('', `<Alert><CmdID>1</CmdID><Data>${'&#x41;'.repeat(500_000)}</Data></Alert>`)),
    () =>
      raw(
        wrap(
          '',
          `${'<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>'.repeat(12_000)}`,
          B.devId,
        ),
      ),
    () => {
      // WBXML with a 3 MiB string table that one element points into, far out.
      const m = encodeMessage(pkg1(B.devId, sessionIdFor('huge-strtbl')), 'wbxml');
      const table = rng.bytes(3 * 1024 * 1024).map((x) => (x === 0 ? 1 : x));
      const len = [0x81, 0x80, 0x80, 0x00]; // 2 MiB... as mb_u_int32 (0x81 0x80 0x80 0x00 = 2,097,152)
      return {
        cat: 'huge-counts',
        body: Buffer.concat([m.subarray(0, 4), Uint8Array.from(len), table.subarray(0, 2_097_152), m.subarray(5)]),
        contentType: MIME.dmWbxml,
      };
    },
    () => {
      const m = encodeMessage(pkg1(B.devId, sessionIdFor('huge-opaque')), 'wbxml');
      return {
        cat: 'huge-counts',
        body: Buffer.concat([
          m.subarray(0, m.length - 2),
          Uint8Array.from([0xc3, 0x81, 0xff, 0xff, 0x7f]),
          rng.bytes(1000),
          Uint8Array.from([0x01, 0x01]),
        ]),
        contentType: MIME.dmWbxml,
      };
    },
    () =>
      big(
        3_000,
        (i) => ({ kind: 'Get', cmdId: i, items: [{ target: { locURI: `./${'..'.repeat(i % 50)}/${i}` } }] }),
        A.devId,
        'xml',
      ),
  ];
  for (let i = 0; i < n; i++) yield builders[i % builders.length]!();
}

function* deepNesting(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const devId = pickDevId(rng);
    const { body, enc, expectHttp } = deepNestingCase(rng, () =>
      messageToElement(pkg1(devId, sessionIdFor(`nest-${i}`))),
    );
    yield { cat: 'deep-nesting', body, contentType: ctype(enc, rng), ...(expectHttp ? { expectHttp } : {}) };
  }
}

function* entities(n: number, rng: Rng): Generator<Case> {
  const MARK = 'ZZENTZZ';
  for (let i = 0; i < n; i++) {
    const devId = pickDevId(rng);
    const msg = pkg1(devId, sessionIdFor(`ent-${i}`), {
      items: [
        { source: { locURI: './DevInfo/Man' }, data: MARK },
        { source: { locURI: `./DevInfo/${MARK}` }, data: 'x' },
      ],
    });
    const c = entityCase(rng, messageToElement(msg), MARK, (payload) =>
      pkg1(devId, sessionIdFor(`ent-w${i}`), {
        items: [{ source: { locURI: `./DevInfo/${payload}` }, data: payload }],
      }),
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

/**
 * The handsets' earlier sessions replayed verbatim. First, before anything else names that
 * SessionID, closing statuses for A's session that is over: the protocol's empty answer.
 */
function* replays(): Generator<Case> {
  const sessionId = decodeMessage(A.captured[0]!.body, 'xml').hdr.sessionId;
  const late: SyncMLMessage = {
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId,
      msgId: A.captured.length + 1,
      target: { locURI: srv.dmUrl },
      source: { locURI: A.devId },
    },
    body: {
      commands: [
        {
          kind: 'Status',
          cmdId: 1,
          msgRef: A.captured.length,
          cmdRef: 0,
          cmd: 'SyncHdr',
          targetRef: [A.devId],
          sourceRef: ['rewind'],
          data: '200',
        },
      ],
      final: true,
    },
  };
  yield { cat: 'auth', body: encodeMessage(late, 'xml'), contentType: MIME.dmXml };
  for (const t of [A, B]) {
    for (const c of [...t.captured].reverse()) {
      const headers = c.headers['x-syncml-hmac'] ? { 'x-syncml-hmac': c.headers['x-syncml-hmac'] } : undefined;
      yield {
        cat: 'auth',
        body: c.body,
        contentType: c.headers['content-type'] ?? ctype(t.encoding),
        ...(headers ? { headers } : {}),
      };
    }
  }
}

function* auth(n: number, rng: Rng): Generator<Case> {
  const nonceOf = (t: Target) => nonces.get(t.devId)!;
  const derivedA = md5Derived(A.secret.user, A.secret.password!);
  const derivedB = md5Derived(B.secret.user, B.secret.password!);
  const pkg1A = A.captured[0]!;
  const pkg1B = B.captured[0]!;
  for (let i = 0; i < n; i++) {
    const sid = sessionIdFor(`auth-${i}`);
    if (rng.bool(0.5)) {
      // md5 handset A: wrong, forged, mistyped and replayed Creds.
      const enc: Encoding = rng.bool(0.7) ? 'xml' : 'wbxml';
      const v = rng.int(20);
      let cred: Cred | null;
      switch (v) {
        case 0:
          cred = null;
          break;
        case 1:
          cred = md5Cred(base64Encode(rng.bytes(16)));
          break;
        case 2:
          cred = md5Cred('');
          break;
        case 3:
          cred = md5Cred('not base64 !!');
          break;
        case 4:
          cred = md5Cred('A'.repeat(10_000));
          break;
        case 5:
          cred = md5Cred(base64Encode(rng.bytes(225)));
          break;
        case 6:
          cred = md5Cred(md5Digest(md5Derived(A.secret.user, 'guess'), nonceBytes(nonceOf(A))));
          break; // knows the nonce, not the secret
        case 7:
          cred = md5Cred(md5Digest(derivedA, nonceBytes(A.staleNonce)));
          break; // right secret, a nonce already used
        case 8:
          cred = md5Cred(basicCredential(A.secret.user, A.secret.password!), AUTH_TYPE.basic);
          break; // the right password, as Basic
        case 9:
          cred = md5Cred(md5Digest(derivedA, nonceBytes(A.staleNonce)), AUTH_TYPE.hmac);
          break;
        case 10:
          cred = md5Cred(base64Encode(rng.bytes(16)), ' SYNCML:AUTH-MD5 ');
          break;
        case 11:
          cred = md5Cred(md5Digest(derivedA, new Uint8Array(0)));
          break; // empty nonce
        case 12:
          cred = md5Cred(derivedA);
          break; // the stored secret itself
        case 13:
          cred = md5Cred(A.secret.password!, AUTH_TYPE.md5, 'chr');
          break;
        case 14:
          cred = md5Cred(md5Digest(derivedA, nonceBytes(A.staleNonce)), 'syncml:auth-x509');
          break;
        case 15: {
          // Credentials in the Alert instead of the header.
          const m = pkg1(A.devId, sid, { cred: null });
          (m.body.commands[0] as { cred?: Cred }).cred = md5Cred(md5Digest(derivedA, nonceBytes(A.staleNonce)));
          yield fromCase('auth', m, enc, rng);
          continue;
        }
        case 16:
          yield {
            cat: 'auth',
            body: pkg1A.body,
            contentType: MIME.dmXml,
            headers: { 'x-syncml-hmac': 'algorithm=MD5, username="x", mac=AAAA' },
          };
          continue;
        case 17:
        case 18: {
          // The valid Pkg1 of the earlier session, as sent or under another SessionID.
          if (v === 17) {
            yield { cat: 'auth', body: pkg1A.body, contentType: MIME.dmXml };
            continue;
          }
          const m = decodeMessage(pkg1A.body, 'xml');
          m.hdr.sessionId = sid;
          yield fromCase('auth', m, enc, rng);
          continue;
        }
        default: {
          const c = rng.pick(A.captured);
          yield { cat: 'auth', body: c.body, contentType: MIME.dmXml };
          continue;
        }
      }
      yield fromCase('auth', pkg1(A.devId, sid, { cred }), enc, rng);
    } else {
      // HMAC handset B: missing, malformed, forged and replayed x-syncml-hmac headers.
      const enc: Encoding = rng.bool(0.7) ? 'wbxml' : 'xml';
      const body = encodeMessage(pkg1(B.devId, sid, { cred: null }), enc);
      const user = B.secret.user;
      const v = rng.int(18);
      let header: string | string[] | undefined;
      let extra: Partial<Case> = {};
      switch (v) {
        case 0:
          header = undefined;
          break;
        case 1:
          header = `algorithm=MD5, username="${user}", mac=${base64Encode(rng.bytes(16))}`;
          break;
        case 2:
          header = `algorithm=MD5, username="someone", mac=${base64Encode(rng.bytes(16))}`;
          break;
        case 3:
          header = hmacHeader(B.secret, nonceBytes(B.staleNonce), body);
          break; // right secret, used nonce
        case 4:
          header = hmacHeader({ user, password: 'guess' }, nonceBytes(nonceOf(B)), body);
          break;
        case 5:
          header = hmacHeader(B.secret, nonceBytes(B.staleNonce), rng.bytes(64));
          break; // MAC of another body
        case 6:
          header = rng.pick([
            'algorithm=SHA1, username="u", mac=abc=',
            'username="unterminated, mac=AAAA',
            'username="a", username="b", mac=AAAA',
            'mac=',
            'username="u", mac=@@@@',
            'username = "u" , mac = AAAA====',
            'algorithm=MD5;username="u";mac=AAAA',
            '=',
            ',,,,',
            '"',
            'mac=AAAA',
          ]);
          break;
        case 7:
          header = `algorithm=MD5, username="${user}", mac=${'A'.repeat(3000)}`;
          break;
        case 8:
          header = `algorithm=MD5, username="${'u'.repeat(20_000)}", mac=AAAA`;
          extra = { mayReset: true };
          break; // beyond Node's header limit
        case 9:
          header = [
            `algorithm=MD5, username="${user}", mac=AAAA`,
            hmacHeader(B.secret, nonceBytes(B.staleNonce), body),
          ];
          break;
        case 10:
          header = `algorithm=SHA-256, username="${user}", mac=${hmacHeader(B.secret, nonceBytes(B.staleNonce), body).split('mac=')[1]}`;
          break;
        case 11: {
          // md5 Cred in the header for a handset that must use HMAC.
          const m = pkg1(B.devId, sid, { cred: md5Cred(md5Digest(derivedB, nonceBytes(B.staleNonce))) });
          yield fromCase('auth', m, enc, rng);
          continue;
        }
        case 12:
        case 13: {
          // The earlier session's first request with its valid header, verbatim or its header on a changed body.
          const replayBody = v === 12 ? pkg1B.body : mutate(rng, pkg1B.body, 'wbxml');
          yield {
            cat: 'auth',
            body: replayBody,
            contentType: pkg1B.headers['content-type'] ?? MIME.dmWbxml,
            headers: { 'x-syncml-hmac': pkg1B.headers['x-syncml-hmac'] ?? '' },
          };
          continue;
        }
        case 14: {
          const c = rng.pick(B.captured);
          yield {
            cat: 'auth',
            body: c.body,
            contentType: c.headers['content-type'] ?? MIME.dmWbxml,
            headers: { 'x-syncml-hmac': c.headers['x-syncml-hmac'] ?? '' },
          };
          continue;
        }
        case 15:
          header = '';
          break;
        case 16:
          header = `algorithm=MD5, username="${user}", mac=${base64Encode(rng.bytes(16))}, extra="\\"quoted\\""`;
          break;
        default:
          header = `algorithm=md5, username=${user}, mac=${md5Digest(derivedB, nonceBytes(nonceOf(B)))}`; // digest, not a MAC
      }
      yield {
        cat: 'auth',
        body,
        contentType: ctype(enc, rng),
        ...(header !== undefined ? { headers: { 'x-syncml-hmac': header } } : {}),
        ...extra,
      };
    }
  }
}

function devIdVariant(rng: Rng): string {
  const d = rng.bool() ? A.devId : B.devId;
  return rng.pick([
    d.toLowerCase(),
    ` ${d} `,
    `${d}\u0000`,
    `\t${d}\r\n`,
    `${d}/`,
    `${d}/..`,
    d.replace('IMEI:', 'imei:'),
    d.replace(':', '%3A'),
    `\ufeff${d}`,
    `${d}\u200b`,
    d.replace(/[0-9]/g, (c) => String.fromCharCode(0xff10 + Number(c))),
    `${d}${d}`,
    d.slice(0, -1),
    `./${d}`,
  ]);
}

function* locUris(n: number, rng: Rng): Generator<Case> {
  const MARK = 'QQBADQQ';
  for (let i = 0; i < n; i++) {
    const sid = sessionIdFor(`loc-${i}`);
    const where = rng.int(8);
    let devId = pickDevId(rng);
    if (where === 0) devId = hostileUri(rng, [A.devId, B.devId]);
    if (where === 1) devId = devIdVariant(rng);
    const msg = pkg1(devId, sid);
    const uri = where >= 6 ? `./DevInfo/${MARK}` : hostileUri(rng, [A.devId, B.devId]);
    if (where === 2) msg.hdr.target = { locURI: uri };
    if (where === 3)
      msg.body.commands[1] = {
        kind: 'Replace',
        cmdId: 2,
        items: [
          { source: { locURI: uri }, data: 'x' },
          { target: { locURI: uri }, data: uri },
        ],
      };
    if (where === 4)
      msg.body.commands.push({
        kind: 'Status',
        cmdId: 3,
        msgRef: 1,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRef: [uri],
        sourceRef: [uri],
        data: '200',
      });
    if (where === 5) msg.hdr.respURI = uri;
    if (where >= 6) {
      msg.body.commands[1] = { kind: 'Replace', cmdId: 2, items: [{ source: { locURI: uri }, data: 'x' }] };
      // Byte-level encodings of the whole message, or bad UTF-8 inside the LocURI.
      const enc: Encoding = rng.bool(0.7) ? 'xml' : 'wbxml';
      const plain = encodeMessage(msg, enc);
      const { body, expectHttp } = oddEncoding(rng, enc, plain, () => messageToElement(msg), MARK, `./DevInfo/${MARK}`);
      yield { cat: 'locuri-encoding', body, contentType: ctype(enc, rng), ...(expectHttp ? { expectHttp } : {}) };
      continue;
    }
    yield fromCase('locuri-encoding', msg, rng.bool(0.6) ? 'xml' : 'wbxml', rng);
  }
}

const ABSURD_SIZES = [
  '-1',
  '1e15',
  '9007199254740993',
  '0',
  String(SERVER_MAX_OBJ_SIZE + 1),
  'abc',
  '4294967296',
  '99999999999',
  '',
  '1.5',
  '-0',
  String(Number.MAX_SAFE_INTEGER),
  '18446744073709551615',
  ' 12 ',
];

/** Large Object abuse without credentials: nothing of it may be buffered or executed. */
function* largeObjectsUnauthenticated(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const devId = pickDevId(rng);
    const sid = sessionIdFor(`lo-${Math.floor(i / 3)}`); // three messages per session, like a real chunked upload
    const chunk = rng.bool(0.2) ? 'C'.repeat(1 + rng.int(200_000)) : 'C'.repeat(1 + rng.int(64));
    const more = rng.bool(0.8);
    const items: Item[] = [
      {
        source: { locURI: rng.pick(['./LO/a', './LO/b', hostileUri(rng, [A.devId, B.devId]).slice(0, 200)]) },
        meta: { format: rng.pick(['chr', 'b64', 'bin']), size: 1 },
        data: chunk,
        ...(more ? { moreData: true } : {}),
      },
    ];
    if (rng.bool(0.3)) items.push({ source: { locURI: './LO/a' }, data: 'more', moreData: true });
    const kind = rng.pick(['Replace', 'Add', 'Results'] as const);
    const cmd: Command =
      kind === 'Results' ? { kind, cmdId: 3, cmdRef: 1, msgRef: 1, items } : { kind, cmdId: 3, items };
    const msg = pkg1(devId, sid, { msgId: 1 + (i % 3), extra: [cmd], final: rng.bool(0.3) });
    const root = messageToElement(msg);
    for (const el of findAll(root, 'Size')) el.children = [rng.pick(ABSURD_SIZES)];
    const enc: Encoding = rng.bool(0.6) ? 'xml' : 'wbxml';
    yield { cat: 'large-object', body: encodeTree(root, enc), contentType: ctype(enc, rng) };
  }
}

function* garbage(n: number, rng: Rng): Generator<Case> {
  for (let i = 0; i < n; i++) {
    const enc: Encoding = rng.bool() ? 'xml' : 'wbxml';
    const body = garbageBody(rng, i);
    yield { cat: 'garbage', body, contentType: ctype(enc, rng) };
  }
}

function* httpOddities(n: number, rng: Rng): Generator<Case> {
  const valid = encodeMessage(pkg1(A.devId, sessionIdFor('http')), 'xml');
  const types = [
    'text/xml',
    'application/xml',
    'application/json',
    '',
    'multipart/form-data; boundary=x',
    `${MIME.dmXml}, application/json`,
    `${MIME.dmXml}x`,
    MIME.dmXml.toUpperCase(),
    `${MIME.dmXml}; charset=utf-16`,
    ` ${MIME.dmWbxml} ; x=y`,
    MIME.notification,
    'application/vnd.syncml.dm+xml\t',
    undefined,
  ];
  for (let i = 0; i < n; i++) {
    const k = rng.int(6);
    if (k === 0)
      yield {
        cat: 'http',
        body: valid,
        method: rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']),
        contentType: MIME.dmXml,
        expectHttp: 405,
      };
    else if (k === 1) {
      const ct = rng.pick(types);
      yield { cat: 'http', body: valid, ...(ct !== undefined ? { contentType: ct } : {}) };
    } else if (k === 2)
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dmXml,
        path: rng.pick([
          '/dm?x=../../etc/passwd',
          '/dm/../../etc/passwd',
          '/dm/%2e%2e/%2e%2e/',
          '/dm//',
          `/dm/${'a'.repeat(4000)}`,
          '/dm?' + 'q=1&'.repeat(1000),
        ]),
      };
    else if (k === 3)
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dmXml,
        path: rng.pick(['/dmx', '/DM', '/dm%00', '/%64m', '/']),
      };
    else if (k === 4)
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dmXml,
        headers: { host: rng.pick(['evil.example/../', 'a'.repeat(300), '[::1', '127.0.0.1:99999', 'x y']) },
      };
    else
      yield {
        cat: 'http',
        body: valid,
        contentType: MIME.dmXml,
        headers: {
          'x-syncml-hmac': rng.pick(['', 'x', 'mac=AAAA', 'username="u", mac=AAAA']),
          'accept-encoding': 'gzip',
          expect: rng.pick(['', '100-continue']),
        },
      };
  }
}

// ---------------------------------------------------------------------------------------
// Large Objects inside authenticated sessions

interface SessionCheck {
  msgId: number;
  /** Status codes acceptable for these CmdIDs of ours. */
  expect: Array<{ cmdId: number; codes: number[] }>;
  alert1225?: boolean;
  /** The message is undecodable by design: 400 is the answer. */
  http400?: boolean;
}

interface Step {
  commands: Command[];
  final?: boolean;
  expect?: number[];
  alert1225?: boolean;
  http400?: boolean;
}

const DELETE_CMD_ID = 1;
const LO_CMD_ID = 2;

function loScenarios(rng: Rng, enc: Encoding, withOverflow: boolean): Step[][] {
  const uri = () => `./Fuzz/LO/${rng.int(1000)}`;
  const rep = (o: {
    uri: string;
    data?: Item['data'];
    size?: number;
    more?: boolean;
    format?: string;
    kind?: 'Replace' | 'Add' | 'Results';
    cmdId?: number;
  }): Command => {
    const item: Item = {
      source: { locURI: o.uri },
      ...(o.data !== undefined ? { data: o.data } : {}),
      ...(o.more ? { moreData: true } : {}),
    };
    if (o.size !== undefined || o.format)
      item.meta = { ...(o.format ? { format: o.format } : {}), ...(o.size !== undefined ? { size: o.size } : {}) };
    const kind = o.kind ?? 'Replace';
    const cmdId = o.cmdId ?? LO_CMD_ID;
    return kind === 'Results' ? { kind, cmdId, cmdRef: 99, msgRef: 1, items: [item] } : { kind, cmdId, items: [item] };
  };
  const text = (len: number) => 'D'.repeat(len);
  const s: Step[][] = [];
  const add = (steps: Step[]) => s.push(steps);
  for (const size of [SERVER_MAX_OBJ_SIZE + 1, 2 ** 31, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    add([{ commands: [rep({ uri: uri(), data: text(10), size, more: true })], expect: [413] }]);
  }
  {
    const k = 1 + rng.int(50);
    add([{ commands: [rep({ uri: uri(), data: text(k + 1 + rng.int(100)), size: k, more: true })], expect: [424] }]);
  }
  {
    const u = uri();
    add([
      { commands: [rep({ uri: u, data: text(100), size: 1000, more: true })], expect: [213] },
      { commands: [rep({ uri: u, data: text(100) })], expect: [424] },
    ]);
  }
  {
    const u = uri();
    add([
      { commands: [rep({ uri: u, data: text(100), size: 150, more: true })], expect: [213] },
      { commands: [rep({ uri: u, data: text(100) })], expect: [424] },
    ]);
  }
  add([
    { commands: [rep({ uri: uri(), data: text(100), size: 300, more: true })], expect: [213] },
    { commands: [], alert1225: true },
  ]);
  {
    const a = uri();
    const b = `${a}/other`;
    add([
      { commands: [rep({ uri: a, data: text(10), more: true })], expect: [213] },
      { commands: [rep({ uri: b, data: text(10), more: true })], expect: [213], alert1225: true },
      { commands: [rep({ uri: b, data: text(10) })], expect: [200] },
    ]);
  }
  add([
    {
      commands: [
        rep({
          uri: uri(),
          data: [{ name: 'Anchor', ns: NS_METINF, children: [{ name: 'Last', children: ['1'] }] }],
          more: true,
        }),
      ],
      expect: [424],
    },
  ]);
  {
    const bytes = rng.bytes(300);
    const b64 = base64Encode(bytes);
    const u = uri();
    add([
      {
        commands: [rep({ uri: u, data: b64.slice(0, 200), size: bytes.length, format: 'b64', more: true })],
        expect: [213],
      },
      { commands: [rep({ uri: u, data: b64.slice(200) })], expect: [200] },
    ]);
    const u2 = uri();
    add([
      {
        commands: [rep({ uri: u2, data: b64.slice(0, 200), size: bytes.length + 5, format: 'b64', more: true })],
        expect: [213],
      },
      { commands: [rep({ uri: u2, data: b64.slice(200) })], expect: [424] },
    ]);
  }
  {
    const u = uri();
    add([
      ...Array.from({ length: 20 }, (): Step => ({ commands: [rep({ uri: u, data: '', more: true })], expect: [213] })),
      { commands: [rep({ uri: u, data: 'x' })], expect: [200] },
    ]);
  }
  {
    const u = uri();
    add([
      { commands: [rep({ uri: u, data: text(50), more: true, kind: 'Results' })], expect: [213] },
      { commands: [rep({ uri: u, data: text(5), kind: 'Results' })], expect: [200] },
    ]);
  }
  add([
    { commands: [rep({ uri: uri(), data: text(64), size: 640, more: true })], final: true, expect: [213] },
    { commands: [], alert1225: true },
  ]);
  {
    const u = uri();
    add([
      { commands: [rep({ uri: u, data: text(10), more: true })], expect: [213] },
      { commands: [rep({ uri: u, data: text(10), more: true, kind: 'Add' })], expect: [213], alert1225: true },
      { commands: [rep({ uri: u, data: text(10), kind: 'Add' })], expect: [200] },
    ]);
  }
  add([{ commands: [rep({ uri: uri(), data: text(10), size: 0, more: true })], expect: [424] }]);
  {
    // Two chunked objects in one command: the second Item starts another object.
    const u = uri();
    add([
      {
        commands: [
          {
            kind: 'Replace',
            cmdId: LO_CMD_ID,
            items: [
              { source: { locURI: u }, data: 'a', moreData: true },
              { source: { locURI: `${u}/2` }, data: 'b', moreData: true },
            ],
          },
        ],
        expect: [213],
        alert1225: true,
      },
      { commands: [rep({ uri: `${u}/2`, data: 'c' })], expect: [200] },
    ]);
  }
  // The same Large Object command twice under one CmdID: the second is refused.
  {
    const u = uri();
    add([
      { commands: [rep({ uri: u, data: text(5), more: true }), rep({ uri: u, data: text(5) })], expect: [213, 400] },
      { commands: [rep({ uri: u, data: 'z' })], expect: [200] },
    ]);
  }
  // Sizes the wire cannot carry: the decoder refuses them.
  if (enc === 'xml')
    for (const size of [-1, 1.5])
      add([{ commands: [rep({ uri: uri(), data: 'x', size, more: true })], http400: true }]);
  if (withOverflow) {
    // No Size announced: chunks of 3.5 MB until more than our MaxObjSize (16 MiB) has come.
    const u = uri();
    const chunk = text(3_500_000);
    const steps: Step[] = [];
    for (let k = 0; k * 3_500_000 <= SERVER_MAX_OBJ_SIZE; k++)
      steps.push({
        commands: [rep({ uri: u, data: chunk, more: true })],
        expect: (k + 1) * 3_500_000 > SERVER_MAX_OBJ_SIZE ? [413] : [213],
      });
    add(steps);
  }
  // Shuffled, deterministically.
  return shuffle(rng, s);
}

function judgeSession(c: Case, a: Answer): string {
  checkNoLeak(a);
  const chk = c.session!;
  if (chk.http400) {
    if (a.status !== 400) throw new Error(`expected 400, got ${a.status}`);
    return 'http 400';
  }
  if (a.status !== 200) throw new Error(`HTTP ${a.status} in an authenticated session`);
  const { reply } = decodeReply(c, a);
  const hs = hdrStatusOf(reply);
  if (hs?.data !== '200') throw new Error(`SyncHdr Status ${hs?.data} in an authenticated session`);
  const statuses = reply.body.commands.filter((x): x is Status => x.kind === 'Status' && x.msgRef === chk.msgId);
  const codeOf = (cmdId: number) => statuses.filter((x) => x.cmdRef === cmdId).map((x) => Number(x.data));
  if (!codeOf(DELETE_CMD_ID).includes(405))
    throw new Error(`Delete answered ${codeOf(DELETE_CMD_ID).join(',') || 'not at all'}`);
  for (const e of chk.expect) {
    const got = codeOf(e.cmdId);
    if (!got.length || !got.every((g) => e.codes.includes(g)))
      throw new Error(`CmdID ${e.cmdId}: expected ${e.codes.join('|')}, got ${got.join(',') || 'nothing'}`);
  }
  const has1225 = reply.body.commands.some((x) => x.kind === 'Alert' && x.data === '1225');
  if (chk.alert1225 !== undefined && has1225 !== chk.alert1225)
    throw new Error(`Alert 1225 ${has1225 ? 'sent' : 'missing'}`);
  if (!statuses.some((x) => Number(x.data) >= 400)) throw new Error('no error Status');
  const lo = codeOf(LO_CMD_ID);
  return `syncml 200 + 405${lo.length ? ` + ${[...new Set(lo)].join('/')}` : ''}${has1225 ? ' + 1225' : ''}`;
}

// ---------------------------------------------------------------------------------------

describe('POST /dm under a generated flood of hostile messages', () => {
  // KNOWN BUG, found by this file and reported, not fixed here (the fix belongs in
  // lib/omadm/session/server.ts). With HMAC every message of a session is signed with the
  // nonce the session's 212 Chal handed over, later messages get a 200 without a new Chal,
  // and that nonce is still the device's clientNonce once the session is over: any message
  // of the last session, replayed verbatim with its x-syncml-hmac header, authenticates a
  // new session as the handset (212, and the server's commands go to the replayer).
  // Recorded first, while the nonce is still the one the handset's session used.
  let replayedHmacStatus: string | undefined;
  it("replays the HMAC handset's last message of its earlier session (answer recorded below)", async () => {
    const last = B.captured.at(-1)!;
    const a = await fz.send({
      cat: 'auth',
      body: last.body,
      contentType: last.headers['content-type'] ?? MIME.dmWbxml,
      headers: { 'x-syncml-hmac': last.headers['x-syncml-hmac']! },
    });
    expect(a.status).toBe(200);
    replayedHmacStatus = hdrStatusOf(decodeMessage(new Uint8Array(a.body), 'wbxml'))?.data;
    console.log(`replayed HMAC message of the last session: SyncHdr Status ${replayedHmacStatus}`);
    expect(replayedHmacStatus).toBeDefined();
  });
  // Every answer to an HMAC-checked message hands out a new nonce, so this replay is refused.
  it('refuses that replay with 401/407', () => {
    expect(['401', '407']).toContain(replayedHmacStatus);
  });

  it('answers every one with a 4xx or a SyncML error status, and runs nothing for any of them', async () => {
    fz.resetFailures();
    const rng = new Rng(SEED);
    await readNonces();
    bases = buildBases(rng);
    const before = await tableCounts();
    const started = performance.now();
    const gens: Array<[FloodCategory, Iterable<Case>]> = [
      ['auth', replays()],
      ['xml-mutation', mutations('xml-mutation', COUNTS['xml-mutation'], rng)],
      ['wbxml-mutation', mutations('wbxml-mutation', COUNTS['wbxml-mutation'], rng)],
      ['arb-valid', arbValid(COUNTS['arb-valid'], rng)],
      ['wrong-types', wrongTypes(COUNTS['wrong-types'], rng)],
      ['huge-counts', hugeCounts(COUNTS['huge-counts'], rng)],
      ['deep-nesting', deepNesting(COUNTS['deep-nesting'], rng)],
      ['entities', entities(COUNTS.entities, rng)],
      ['auth', auth(COUNTS.auth, rng)],
      ['locuri-encoding', locUris(COUNTS['locuri-encoding'], rng)],
      ['large-object', largeObjectsUnauthenticated(COUNTS['large-object'], rng)],
      ['garbage', garbage(COUNTS.garbage, rng)],
      ['http', httpOddities(COUNTS.http, rng)],
    ];
    for (const [, g] of gens) await fz.runPool(g, judgeUnauthenticated, { beforeNext: readNonces });
    fz.report('flood', [...new Set(gens.map(([c]) => c))], performance.now() - started);
    expect(fz.failures, `${fz.failureCount} violations`).toEqual([]);
    // The protocol's one empty answer came up (the handsets' closing statuses, replayed).
    expect(fz.outcomes('auth').get('200 empty (late statuses)')).toBeGreaterThan(0);
    expect(fz.totalSent()).toBeGreaterThanOrEqual(Object.values(COUNTS).reduce((a, b) => a + b, 0) - 50);

    // Nobody authenticated, so nothing but session rows may have appeared, for the two devices
    // only, and the failed attempts on their DevIds (the device page's history), a bounded few.
    const after = await tableCounts();
    for (const [table, n] of before)
      if (table === 'device_attempts')
        expect(after.get(table), table).toBeLessThanOrEqual(baseline.devices.size * ATTEMPTS_KEPT);
      else if (table !== 'dm_sessions' && table !== 'dm_session_values') expect(after.get(table), table).toBe(n);
    const devs = await deviceRows();
    for (const [devId, row] of baseline.devices) {
      const now = devs.get(devId)!;
      for (const [k, v] of Object.entries(row))
        if (!['client_nonce', 'last_seen_at', 'encoding'].includes(k)) expect(now[k], `${devId} ${k}`).toEqual(v);
    }
  }, 120_000);

  it('keeps Large Object abuse inside authenticated sessions to error statuses', async () => {
    fz.resetFailures();
    const rng = new Rng(SEED ^ 0x10);
    const started = performance.now();
    const sessions: Array<{ sid: string; enc: Encoding; scenarios: Step[][] }> = [];
    for (let k = 0; k < 10; k++) {
      const enc: Encoding = k % 2 === 0 ? 'xml' : 'wbxml';
      sessions.push({ sid: sessionIdFor(`lo-auth-${k}`), enc, scenarios: loScenarios(rng, enc, k === 0) });
    }
    // Sessions open one at a time: each Pkg1 needs the nonce its predecessor's 212 handed out.
    for (const s of sessions) {
      const nonce = (await getDeviceByDevId(srv.ctx.db, A.devId))!.clientNonce;
      const cred = md5Cred(md5Digest(md5Derived(A.secret.user, A.secret.password!), nonceBytes(nonce)));
      const res = await fz.send({
        cat: 'lo-session',
        body: encodeMessage(pkg1(A.devId, s.sid, { cred, final: false }), s.enc),
        contentType: ctype(s.enc),
      });
      expect(res.status).toBe(200);
      const reply = decodeMessage(new Uint8Array(res.body), s.enc);
      expect(hdrStatusOf(reply)?.data).toBe('212');
    }
    // Then the sessions run side by side, each one message at a time.
    await Promise.all(
      sessions.map(async (s) => {
        let msgId = 1;
        const steps = s.scenarios.flat();
        steps.push({ commands: [{ kind: 'Alert', cmdId: LO_CMD_ID, data: '1223', items: [] }], expect: [200] });
        const cases = (function* () {
          for (const st of steps) {
            msgId++;
            const msg: SyncMLMessage = {
              hdr: {
                verDTD: '1.2',
                verProto: 'DM/1.2',
                sessionId: s.sid,
                msgId,
                target: { locURI: srv.dmUrl },
                source: { locURI: A.devId },
              },
              body: {
                commands: [
                  { kind: 'Delete', cmdId: DELETE_CMD_ID, items: [{ target: { locURI: './Fuzz/Nope' } }] },
                  ...st.commands,
                ],
                final: st.final ?? false,
              },
            };
            let body: Uint8Array;
            try {
              body = encodeMessage(msg, s.enc);
            } catch {
              continue;
            }
            const expectList = st.expect ? [{ cmdId: LO_CMD_ID, codes: st.expect }] : [];
            yield {
              cat: 'lo-session' as const,
              body,
              contentType: ctype(s.enc),
              session: {
                msgId,
                expect: expectList,
                ...(st.alert1225 !== undefined ? { alert1225: st.alert1225 } : {}),
                ...(st.http400 ? { http400: true } : {}),
              },
            };
          }
        })();
        // One worker per session keeps its messages in order.
        for (const c of cases) await fz.exchange(c, judgeSession, `lo-session ${s.sid} msg ${c.session!.msgId}`);
      }),
    );
    fz.report('authenticated Large Object abuse', ['lo-session'], performance.now() - started);
    expect(fz.failures, `${fz.failureCount} violations`).toEqual([]);
    for (const s of sessions) {
      const dev = (await getDeviceByDevId(srv.ctx.db, A.devId))!;
      expect(await findSession(srv.ctx.db, dev.id, s.sid, 'complete'), s.sid).toBeDefined();
    }
  }, 90_000);

  it('still serves the real handsets afterwards, with bounded memory, no unhandled rejection and no stray rows', async () => {
    expect(fz.totalSent()).toBeGreaterThanOrEqual(10_000);
    // The handsets' nonces went stale under the flood: each is challenged once, then succeeds.
    for (const t of [A, B]) {
      const s = await t.h.connect({ initiator: 'client' });
      expect(s.ok, `${t.devId}: ${s.error?.message}`).toBe(true);
      expect(s.statusesReceived['212'], t.devId).toBe(1);
    }
    expect(unhandled).toEqual([]);

    const rss = process.memoryUsage().rss;
    const heap = settleHeap();
    console.log(
      `memory: rss ${(baseline.rss / 2 ** 20).toFixed(0)} -> ${(rss / 2 ** 20).toFixed(0)} MiB (peak ${(fz.peakRss / 2 ** 20).toFixed(0)} MiB)` +
        (heap !== undefined && baseline.heap !== undefined
          ? `, heap after GC ${(baseline.heap / 2 ** 20).toFixed(1)} -> ${(heap / 2 ** 20).toFixed(1)} MiB`
          : ', heap: no forced GC available, heap check skipped'),
    );
    // Resident memory is what the allocator keeps as well as what is live: the same code grew it by
    // 98 to 251 MiB from run to run (the flood's peak is 300 to 400 MiB above the start), so the
    // bound is that it comes back well below the peak; the heap after GC is the exact check.
    expect(rss - baseline.rss).toBeLessThan(300 * 2 ** 20);
    if (heap !== undefined && baseline.heap !== undefined) expect(heap - baseline.heap).toBeLessThan(64 * 2 ** 20);

    // The database knows the two provisioned devices and nothing else.
    const ids = await rows<{ id: string; dev_id: string }>(db(), sql`select id, dev_id from devices`);
    expect(ids.map((r) => r.dev_id).sort()).toEqual(provisionedIds().sort());
    const known = new Set(ids.map((r) => r.id));
    for (const table of await tableNames(db())) {
      const cols = (await columnNames(db(), table)).filter((n) => n.endsWith('device_id'));
      for (const col of cols) {
        const stray = (
          await column<string>(db(), sql.raw(`select distinct "${col}" from "${table}" where "${col}" is not null`))
        ).filter((v) => !known.has(v));
        expect(stray, `${table}.${col}`).toEqual([]);
      }
    }
    const orphanValues = await value(
      db(),
      sql`select count(*) from dm_session_values where session_row_id not in (select id from dm_sessions)`,
    );
    expect(orphanValues).toBe(0);
    const final = await tableCounts();
    for (const table of ['snapshots', 'jobs', 'subscribers', 'msisdns', 'blobs']) {
      if (baseline.tableCounts.has(table)) expect(final.get(table), table).toBe(baseline.tableCounts.get(table));
    }
    const bySession = await rows(
      db(),
      sql`select status, count(*) as n from dm_sessions group by status order by status`,
    );
    console.log(`dm_sessions after the flood: ${JSON.stringify(bySession)}; total messages ${fz.totalSent()}`);
  }, 60_000);
});
