import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  hmacHeader,
  makeCred,
  newNonce,
  nonceBytes,
  verifyCred,
  verifyHmac,
  makeChal,
  type AuthScheme,
  type Secret,
} from '../auth';
import { decodeMessage, encodeMessage } from '../codec/index';
import type { Alert, Command, Encoding, Item, Results, Status, SyncHdr, SyncMLMessage } from '../message';
import { base64Decode, base64Encode, bytesEqual, utf8Decode, utf8Encode } from '../util/bytes';
import type { ClientHandler, CommandOutcome, UiAlertRequest, UiAlertResponse } from './client-handler';
import {
  enqueueWork,
  newServerSession,
  receive,
  respond,
  signResponse,
  type DeviceAuth,
  type SessionEvent,
  type WorkRequest,
} from './server';
import {
  ClientSession,
  ClientSessionError,
  parseUiAlert,
  type ClientConfig,
  type Outgoing,
  type StartOptions,
} from './client';

// ---------------------------------------------------------------------------------------
// An in-memory handset tree

interface Node {
  format: string;
  type?: string;
  value: Uint8Array;
}

function bytesOf(item: Item): Uint8Array {
  const d = item.data;
  if (d === undefined) return new Uint8Array(0);
  if (d instanceof Uint8Array) return d;
  if (typeof d !== 'string') return utf8Encode('<xml/>');
  return item.meta?.format === 'b64' ? base64Decode(d.trim()) : utf8Encode(d);
}

class MemHandler implements ClientHandler {
  tree = new Map<string, Node>();
  calls: string[] = [];
  execs: { path: string; correlator: string | undefined }[] = [];
  alerts: UiAlertRequest[] = [];
  answers: UiAlertResponse[] = [];
  private snapshot: Map<string, Node> | undefined;

  constructor(init: Record<string, string | Uint8Array> = {}) {
    for (const [p, v] of Object.entries(init)) {
      this.tree.set(
        p,
        typeof v === 'string'
          ? { format: 'chr', type: 'text/plain', value: utf8Encode(v) }
          : { format: 'bin', type: 'application/octet-stream', value: v },
      );
    }
  }

  text(path: string): string | undefined {
    const n = this.tree.get(path);
    return n ? utf8Decode(n.value) : undefined;
  }

  async get(item: Item): Promise<CommandOutcome> {
    const path = item.target?.locURI ?? '';
    this.calls.push(`get ${path}`);
    const n = this.tree.get(path);
    if (!n) return { status: 404 };
    const r: Item = {
      source: { locURI: path },
      meta: { format: n.format, ...(n.type ? { type: n.type } : {}) },
      data: n.value,
    };
    return { status: 200, results: [r] };
  }

  async add(item: Item): Promise<CommandOutcome> {
    const path = item.target?.locURI ?? '';
    this.calls.push(`add ${path}`);
    if (this.tree.has(path)) return { status: 418 };
    this.tree.set(path, { format: item.meta?.format ?? 'chr', value: bytesOf(item) });
    return { status: 200 };
  }

  async replace(item: Item): Promise<CommandOutcome> {
    const path = item.target?.locURI ?? '';
    this.calls.push(`replace ${path}`);
    if (path.startsWith('./ReadOnly')) return { status: 405 };
    this.tree.set(path, { format: item.meta?.format ?? 'chr', value: bytesOf(item) });
    return { status: 200 };
  }

  async delete(item: Item): Promise<CommandOutcome> {
    const path = item.target?.locURI ?? '';
    this.calls.push(`delete ${path}`);
    return this.tree.delete(path) ? { status: 200 } : { status: 404 };
  }

  async copy(item: Item): Promise<CommandOutcome> {
    const from = item.source?.locURI ?? '';
    const to = item.target?.locURI ?? '';
    this.calls.push(`copy ${from} ${to}`);
    const n = this.tree.get(from);
    if (!n) return { status: 404 };
    this.tree.set(to, { ...n });
    return { status: 200 };
  }

  async exec(item: Item, correlator: string | undefined): Promise<CommandOutcome> {
    const path = item.target?.locURI ?? '';
    this.calls.push(`exec ${path}`);
    this.execs.push({ path, correlator });
    if (path === './Boom') throw new Error('handler bug');
    return { status: 202 };
  }

  beginAtomic(): void {
    this.calls.push('begin');
    this.snapshot = new Map(this.tree);
  }

  commitAtomic(): void {
    this.calls.push('commit');
    this.snapshot = undefined;
  }

  rollbackAtomic(): void {
    this.calls.push('rollback');
    if (this.snapshot) this.tree = this.snapshot;
    this.snapshot = undefined;
  }

  async userAlert(req: UiAlertRequest): Promise<UiAlertResponse> {
    this.alerts.push(req);
    return this.answers.shift() ?? { status: 200 };
  }
}

// ---------------------------------------------------------------------------------------
// A scripted server: builds its messages by hand, signed as the client expects

const DEV_ID = 'IMEI:493005100592800';
const SERVER_URI = 'https://dm.example.com/dm';
const SESSION = '42';
const CLIENT: Secret = { user: 'alice', password: 'client-pass' };
const SERVER: Secret = { user: 'rewind', password: 'server-pass' };

function config(over: Partial<ClientConfig> = {}): ClientConfig {
  return {
    devId: DEV_ID,
    serverId: 'rewind',
    serverUri: SERVER_URI,
    encoding: 'xml',
    clientScheme: 'md5',
    client: CLIENT,
    serverScheme: 'md5',
    server: SERVER,
    maxMsgSize: 64 * 1024,
    maxObjSize: 4 * 1024 * 1024,
    devInfo: { man: 'Device Factory, Inc.', mod: 'SmartPhone2000', dmV: '1.2', lang: 'en-US' },
    ...over,
  };
}

function start(over: Partial<ClientConfig> = {}, opts: Partial<StartOptions> = {}, handler = new MemHandler()) {
  const cfg = config(over);
  const s = new ClientSession(
    cfg,
    {
      sessionId: SESSION,
      initiator: 'server',
      nonces: { clientNonce: base64Encode(utf8Encode('cn-0')), serverNonce: base64Encode(utf8Encode('sn-0')) },
      ...opts,
    },
    handler,
  );
  const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0 };
  return { s, cfg, handler, srv };
}

interface ServerSide {
  scheme: AuthScheme;
  msgId: number;
  /** Sign with these credentials (default: the right ones). */
  secret?: Secret;
  encoding?: Encoding;
}

function hdr(srv: ServerSide, over: Partial<SyncHdr> = {}): SyncHdr {
  return {
    verDTD: '1.2',
    verProto: 'DM/1.2',
    sessionId: SESSION,
    msgId: srv.msgId,
    target: { locURI: DEV_ID },
    source: { locURI: SERVER_URI },
    ...over,
  };
}

/** Encodes a server message; Cred/HMAC computed with the nonce the client currently expects. */
function serverMessage(
  s: ClientSession,
  srv: ServerSide,
  commands: Command[],
  opts: { final?: boolean; cred?: boolean; hdr?: Partial<SyncHdr> } = {},
): { body: Uint8Array; headers: Record<string, string> } {
  srv.msgId++;
  const h = hdr(srv, opts.hdr);
  const secret = srv.secret ?? SERVER;
  const nonce = nonceBytes(s.nonces.serverNonce);
  if (opts.cred !== false && srv.scheme !== 'hmac') {
    const c = makeCred(srv.scheme, secret, nonce);
    if (c) h.cred = c;
  }
  const enc = srv.encoding ?? 'xml';
  const body = encodeMessage({ hdr: h, body: { commands, final: opts.final ?? true } }, enc);
  const headers: Record<string, string> = {
    'Content-Type': enc === 'xml' ? 'application/vnd.syncml.dm+xml' : 'application/vnd.syncml.dm+wbxml',
  };
  if (srv.scheme === 'hmac' && opts.cred !== false) headers['X-SyncML-HMAC'] = hmacHeader(secret, nonce, body);
  return { body, headers };
}

function decode(out: Outgoing, enc: Encoding = 'xml'): SyncMLMessage {
  return decodeMessage(out.body, enc);
}

function st(msgRef: number, cmdRef: number, cmd: string, code: number, extra: Partial<Status> = {}): Status {
  return { kind: 'Status', cmdId: 100 + cmdRef, msgRef, cmdRef, cmd, data: String(code), ...extra };
}

/** The server's usual first answer: 212 for our header (+ a Chal for next time) and 200 for Pkg1. */
function acceptPkg1(m: SyncMLMessage, nextNonce = newNonce(), scheme: AuthScheme = 'md5'): Status[] {
  const out: Status[] = [st(m.hdr.msgId, 0, 'SyncHdr', 212, { chal: makeChal(scheme, nextNonce) })];
  for (const c of m.body.commands) if (c.kind !== 'Status') out.push(st(m.hdr.msgId, c.cmdId, c.kind, 200));
  return out;
}

function statuses(m: SyncMLMessage): Status[] {
  return m.body.commands.filter((c): c is Status => c.kind === 'Status');
}

function statusFor(m: SyncMLMessage, cmdRef: number): Status[] {
  return statuses(m).filter((x) => x.cmdRef === cmdRef);
}

function code(m: SyncMLMessage, cmdRef: number): string | undefined {
  return statusFor(m, cmdRef)[0]?.data;
}

function results(m: SyncMLMessage): Results[] {
  return m.body.commands.filter((c): c is Results => c.kind === 'Results');
}

function leaf(cmdId: number, kind: 'Add' | 'Replace', path: string, value: string, format = 'chr'): Command {
  return { kind, cmdId, items: [{ target: { locURI: path }, meta: { format }, data: value }] };
}

function get(cmdId: number, ...paths: string[]): Command {
  return { kind: 'Get', cmdId, items: paths.map((p) => ({ target: { locURI: p } })) };
}

function alert(cmdId: number, code: string, ...texts: string[]): Alert {
  return { kind: 'Alert', cmdId, data: code, items: texts.map((t) => ({ data: t })) };
}

/** Runs Package #1 and the server's accepting Pkg2 with `commands`; returns the client's Pkg3. */
async function openSession(
  over: Partial<ClientConfig> = {},
  commands: Command[] = [],
  handler = new MemHandler(),
  pkg2: { final?: boolean; hdr?: Partial<SyncHdr> } = {},
) {
  const { s, cfg } = start(over, {}, handler);
  const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0 };
  const p1 = decode(s.firstMessage());
  const reply = serverMessage(s, srv, [...acceptPkg1(p1), ...commands], pkg2);
  const out = await s.receive(reply.body, reply.headers);
  return { s, srv, handler, p1, out, p3: out ? decode(out) : undefined };
}

// ---------------------------------------------------------------------------------------

describe('Package #1', () => {
  it('carries header, md5 Cred, Alert 1200, DevInfo and Final for a server-initiated session', () => {
    const { s } = start();
    const out = s.firstMessage();
    expect(out.url).toBe(SERVER_URI);
    expect(out.contentType).toBe('application/vnd.syncml.dm+xml');
    expect(out.headers['x-syncml-hmac']).toBeUndefined();
    const m = decode(out);
    expect(m.hdr).toMatchObject({
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: SESSION,
      msgId: 1,
      target: { locURI: SERVER_URI },
      source: { locURI: DEV_ID, locName: 'alice' },
      meta: { maxMsgSize: 64 * 1024, maxObjSize: 4 * 1024 * 1024 },
    });
    expect(verifyCred(m.hdr.cred, 'md5', CLIENT, nonceBytes(base64Encode(utf8Encode('cn-0'))))).toBe(true);
    expect(verifyCred(m.hdr.cred, 'md5', CLIENT, utf8Encode('other'))).toBe(false);
    expect(m.body.final).toBe(true);
    const [a, r] = m.body.commands;
    expect(a).toMatchObject({ kind: 'Alert', data: '1200' });
    expect(r?.kind).toBe('Replace');
    const items = (r as { items: Item[] }).items;
    expect(items.map((i) => [i.source?.locURI, String(i.data).trim()])).toEqual([
      ['./DevInfo/DevId', DEV_ID],
      ['./DevInfo/Man', 'Device Factory, Inc.'],
      ['./DevInfo/Mod', 'SmartPhone2000'],
      ['./DevInfo/DmV', '1.2'],
      ['./DevInfo/Lang', 'en-US'],
    ]);
    expect(items[0]?.meta).toMatchObject({ format: 'chr', type: 'text/plain' });
    // CmdIDs unique within the message.
    const ids = m.body.commands.map((c) => c.cmdId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('uses 1201 for a client-initiated session and appends Generic Alerts', () => {
    const { s } = start(
      {},
      {
        initiator: 'client',
        genericAlerts: [
          {
            correlator: 'corr-7',
            items: [
              {
                source: './FwUpdate/x/Update',
                type: 'org.openmobilealliance.dm.firmwareupdate.update',
                format: 'int',
                mark: 'critical',
                data: '200',
              },
            ],
          },
        ],
      },
    );
    const m = decode(s.firstMessage());
    const alerts = m.body.commands.filter((c): c is Alert => c.kind === 'Alert');
    expect(alerts.map((a) => a.data)).toEqual(['1201', '1226']);
    const g = alerts[1]!;
    expect(g.correlator).toBe('corr-7');
    expect(g.items[0]).toMatchObject({
      source: { locURI: './FwUpdate/x/Update' },
      meta: { type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'int', mark: 'critical' },
    });
    expect(String(g.items[0]?.data).trim()).toBe('200');
    expect(m.body.commands.findIndex((c) => c.kind === 'Replace')).toBeLessThan(m.body.commands.indexOf(g));
  });

  it('signs with x-syncml-hmac instead of Cred for hmac', () => {
    const { s } = start({ clientScheme: 'hmac' });
    const out = s.firstMessage();
    const m = decode(out);
    expect(m.hdr.cred).toBeUndefined();
    const h = out.headers['x-syncml-hmac'];
    expect(verifyHmac(h, CLIENT, nonceBytes(base64Encode(utf8Encode('cn-0'))), out.body)).toBe(true);
    const tampered = out.body.slice();
    const at = tampered.length - 20;
    tampered[at] = tampered[at]! ^ 1;
    expect(verifyHmac(h, CLIENT, nonceBytes(base64Encode(utf8Encode('cn-0'))), tampered)).toBe(false);
  });

  it('refuses to be used out of order', async () => {
    const { s } = start();
    await expect(s.receive(new Uint8Array(1), {})).rejects.toMatchObject({ code: 'invalid-state' });
    s.firstMessage();
    expect(() => s.firstMessage()).toThrow(ClientSessionError);
  });
});

describe('client authentication', () => {
  it('adopts the NextNonce of the 212 and stops sending Cred', async () => {
    const { s, srv } = start();
    const p1 = decode(s.firstMessage());
    const next = newNonce();
    const r = serverMessage(s, srv, [...acceptPkg1(p1, next), get(1, './DevInfo/Man')], {});
    const out = await s.receive(r.body, r.headers);
    expect(s.nonces.clientNonce).toBe(next);
    expect(s.authenticated).toBe(true);
    expect(decode(out!).hdr.cred).toBeUndefined();
  });

  it('resends Package #1 with the challenged nonce after 401, and fails after 3 refusals', async () => {
    const { s, srv } = start();
    const p1 = decode(s.firstMessage());
    let nonce = newNonce();
    let r = serverMessage(s, srv, [st(1, 0, 'SyncHdr', 401, { chal: makeChal('md5', nonce) })]);
    const out2 = await s.receive(r.body, r.headers);
    const m2 = decode(out2!);
    expect(m2.hdr.msgId).toBe(2);
    expect(verifyCred(m2.hdr.cred, 'md5', CLIENT, nonceBytes(nonce))).toBe(true);
    // Same commands again: Alert 1200 and the DevInfo Replace.
    expect(m2.body.commands.filter((c) => c.kind !== 'Status').map((c) => c.kind)).toEqual(
      p1.body.commands.map((c) => c.kind),
    );
    expect(s.nonces.clientNonce).toBe(nonce);

    nonce = newNonce();
    r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 401, { chal: makeChal('md5', nonce) })]);
    const m3 = decode((await s.receive(r.body, r.headers))!);
    expect(verifyCred(m3.hdr.cred, 'md5', CLIENT, nonceBytes(nonce))).toBe(true);

    r = serverMessage(s, srv, [st(3, 0, 'SyncHdr', 407, { chal: makeChal('md5', newNonce()) })]);
    await expect(s.receive(r.body, r.headers)).rejects.toMatchObject({
      name: 'ClientSessionError',
      code: 'auth-failed',
    });
    expect(s.status).toBe('failed');
    expect(s.events.at(-1)).toEqual({ type: 'end', reason: 'error', error: 'auth-failed' });
  });

  it('switches to the scheme the server challenges with', async () => {
    const { s, srv } = start({ clientScheme: 'basic' });
    const p1 = decode(s.firstMessage());
    expect(p1.hdr.cred?.meta?.type).toBe('syncml:auth-basic');
    const nonce = newNonce();
    const r = serverMessage(s, srv, [st(1, 0, 'SyncHdr', 401, { chal: makeChal('md5', nonce) })]);
    const m2 = decode((await s.receive(r.body, r.headers))!);
    expect(verifyCred(m2.hdr.cred, 'md5', CLIENT, nonceBytes(nonce))).toBe(true);
  });

  it('hmac: signs every message with the nonce from the latest Chal', async () => {
    const { s, srv } = start({ clientScheme: 'hmac', serverScheme: 'hmac' });
    const p1 = decode(s.firstMessage());
    const next = newNonce();
    let r = serverMessage(s, srv, [...acceptPkg1(p1, next, 'hmac'), get(1, './DevInfo/Man')], { final: true });
    const out = (await s.receive(r.body, r.headers))!;
    expect(verifyHmac(out.headers['x-syncml-hmac'], CLIENT, nonceBytes(next), out.body)).toBe(true);
    expect(code(decode(out), 0)).toBe('212');
    // Next server message must be signed with the nonce we rotated with our 212.
    r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200), get(2, './DevInfo/Mod')], { final: true });
    const out2 = (await s.receive(r.body, r.headers))!;
    expect(code(decode(out2), 0)).toBe('200');
    expect(verifyHmac(out2.headers['x-syncml-hmac'], CLIENT, nonceBytes(next), out2.body)).toBe(true);
  });
});

describe('server authentication', () => {
  it('md5: 212 with a fresh NextNonce once, then 200 without Cred', async () => {
    const handler = new MemHandler({ './DevInfo/Man': 'Device Factory, Inc.' });
    const { s, srv, p3 } = await openSession({}, [get(1, './DevInfo/Man')], handler);
    const hs = statusFor(p3!, 0)[0]!;
    expect(hs).toMatchObject({ cmd: 'SyncHdr', data: '212', msgRef: 1, targetRef: [DEV_ID], sourceRef: [SERVER_URI] });
    const rotated = hs.chal?.meta.nextNonce;
    expect(rotated).toBeDefined();
    expect(s.nonces.serverNonce).toBe(rotated);
    expect(hs.chal?.meta.type).toBe('syncml:auth-md5');

    // Authenticated for the session: no Cred needed any more.
    const r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200), get(2, './DevInfo/Man')], { cred: false });
    const m = decode((await s.receive(r.body, r.headers))!);
    expect(code(m, 0)).toBe('200');
    expect(code(m, 2)).toBe('200');
  });

  it('wrong server credentials: 401 + Chal, nothing executed, then accepted with the new nonce', async () => {
    const handler = new MemHandler({ './A': 'old' });
    const { s, cfg } = start({}, {}, handler);
    const srv: ServerSide = { scheme: 'md5', msgId: 0, secret: { user: 'rewind', password: 'wrong' } };
    const p1 = decode(s.firstMessage());
    const before = s.nonces.serverNonce;
    let r = serverMessage(s, srv, [...acceptPkg1(p1), leaf(1, 'Replace', './A', 'new')]);
    const m = decode((await s.receive(r.body, r.headers))!);
    expect(statuses(m)).toHaveLength(1);
    const hs = statuses(m)[0]!;
    expect(hs.data).toBe('401');
    expect(hs.chal?.meta.nextNonce).toBe(s.nonces.serverNonce);
    expect(s.nonces.serverNonce).not.toBe(before);
    expect(handler.text('./A')).toBe('old');
    expect(handler.calls).toEqual([]);
    expect(m.body.final).toBe(true);

    srv.secret = cfg.server;
    r = serverMessage(s, srv, [leaf(1, 'Replace', './A', 'new')]);
    const m2 = decode((await s.receive(r.body, r.headers))!);
    expect(code(m2, 0)).toBe('212');
    expect(handler.text('./A')).toBe('new');
  });

  it('challenges a server that sends another scheme with its own (DMAcc AppAuth per direction), and honours its abort', async () => {
    // We send basic and check the server with MD5; the server sends basic.
    const handler = new MemHandler();
    const { s } = start({ clientScheme: 'basic', serverScheme: 'md5' }, {}, handler);
    const srv: ServerSide = { scheme: 'basic', msgId: 0 };
    const p1 = decode(s.firstMessage());
    expect(p1.hdr.cred?.meta?.type).toBe('syncml:auth-basic');
    let r = serverMessage(s, srv, [...acceptPkg1(p1), get(1, './X')]);
    const m = decode((await s.receive(r.body, r.headers))!);
    expect(statuses(m)).toHaveLength(1);
    expect(statuses(m)[0]).toMatchObject({
      data: '401',
      chal: { meta: { type: 'syncml:auth-md5', nextNonce: s.nonces.serverNonce } },
    });
    // A server that will not follow ends the session: the abort ends it here too, unanswered.
    r = serverMessage(s, srv, [leaf(2, 'Add', './Never', 'n'), alert(3, '1223')]);
    expect(await s.receive(r.body, r.headers)).toBeNull();
    expect(s.status).toBe('aborted');
    expect(handler.tree.has('./Never')).toBe(false);
  });

  it('missing server credentials: 407', async () => {
    const { s, srv } = start();
    const p1 = decode(s.firstMessage());
    const r = serverMessage(s, srv, [...acceptPkg1(p1), get(1, './X')], { cred: false });
    const m = decode((await s.receive(r.body, r.headers))!);
    expect(code(m, 0)).toBe('407');
  });

  it('gives up after the server fails three challenges', async () => {
    const { s } = start();
    const srv: ServerSide = { scheme: 'md5', msgId: 0, secret: { user: 'rewind', password: 'nope' } };
    const p1 = decode(s.firstMessage());
    let r = serverMessage(s, srv, [...acceptPkg1(p1), get(1, './X')]);
    await s.receive(r.body, r.headers);
    r = serverMessage(s, srv, [get(1, './X')]);
    await s.receive(r.body, r.headers);
    r = serverMessage(s, srv, [get(1, './X')]);
    await expect(s.receive(r.body, r.headers)).rejects.toMatchObject({ code: 'server-auth-failed' });
  });

  it('hmac: a body altered after signing is refused', async () => {
    const { s } = start({ serverScheme: 'hmac' });
    const srv: ServerSide = { scheme: 'hmac', msgId: 0 };
    const p1 = decode(s.firstMessage());
    const r = serverMessage(s, srv, [...acceptPkg1(p1), leaf(9, 'Replace', './A', 'abc')]);
    const text = utf8Decode(r.body).replace('abc', 'abd');
    const m = decode((await s.receive(utf8Encode(text), r.headers))!);
    expect(code(m, 0)).toBe('401');
    expect(statuses(m)).toHaveLength(1);
  });

  it('the §2.6.1 spec session: Pkg2 credentials do not verify, so 401 and nothing runs', async () => {
    const handler = new MemHandler();
    const s = new ClientSession(
      config({ clientScheme: 'basic', serverScheme: 'basic', serverUri: 'http://www.syncml.org/mgmt-server' }),
      { sessionId: '1', initiator: 'server', nonces: { clientNonce: '', serverNonce: '' } },
      handler,
    );
    const p1 = decode(s.firstMessage());
    expect(p1.body.commands.map((c) => c.kind)).toEqual(['Alert', 'Replace']);
    const pkg2 = readFileSync('/work/shared/omadm-vectors/spec-examples/oma-dm121-sec2.6.1-pkg2.xml');
    const out = await s.receive(new Uint8Array(pkg2), { 'content-type': 'application/vnd.syncml.dm+xml' });
    const m = decode(out!);
    expect(statuses(m).map((x) => [x.cmd, x.data])).toEqual([['SyncHdr', '401']]);
    expect(statuses(m)[0]?.chal?.meta.nextNonce).toBe(s.nonces.serverNonce);
    expect(handler.alerts).toEqual([]);
    expect(handler.calls).toEqual([]);
    // Its 212 for our header was still taken into account.
    expect(s.authenticated).toBe(true);
  });
});

describe('management commands', () => {
  it('Get returns Status and Results with Source, Format and Type; 404 for a missing node', async () => {
    const handler = new MemHandler({
      './DevInfo/Man': 'Device Factory, Inc.',
      './Bin': new Uint8Array([0, 1, 2, 255]),
    });
    const { p3 } = await openSession({}, [get(5, './DevInfo/Man', './Nope'), get(6, './Bin')], handler);
    const sts = statusFor(p3!, 5);
    expect(sts.map((x) => [x.targetRef?.[0], x.data])).toEqual([
      ['./DevInfo/Man', '200'],
      ['./Nope', '404'],
    ]);
    const rs = results(p3!);
    expect(rs).toHaveLength(2);
    expect(rs[0]).toMatchObject({ cmdRef: 5, msgRef: 1 });
    expect(rs[0]?.items[0]).toMatchObject({
      source: { locURI: './DevInfo/Man' },
      meta: { format: 'chr', type: 'text/plain' },
    });
    expect(String(rs[0]?.items[0]?.data).trim()).toBe('Device Factory, Inc.');
    // Binary goes as b64 in XML.
    const bin = rs[1]!.items[0]!;
    expect(bin.meta?.format).toBe('b64');
    expect(Array.from(base64Decode(String(bin.data).trim()))).toEqual([0, 1, 2, 255]);
    // Results follow the Status of their Get.
    const kinds = p3!.body.commands.map((c) =>
      c.kind === 'Status' ? `S${c.cmdRef}` : c.kind === 'Results' ? `R${c.cmdRef}` : c.kind,
    );
    expect(kinds.indexOf('R5')).toBeGreaterThan(kinds.indexOf('S5'));
    expect(p3!.body.final).toBe(true);
  });

  it('Add/Replace/Delete/Copy/Exec give a status per item and reach the handler in order', async () => {
    const handler = new MemHandler({ './A': 'a', './Gone': 'x', './ReadOnly/X': 'r' });
    const cmds: Command[] = [
      leaf(1, 'Add', './B', 'b'),
      leaf(2, 'Add', './A', 'dup'),
      {
        kind: 'Replace',
        cmdId: 3,
        meta: { format: 'b64' },
        items: [
          { target: { locURI: './C' }, data: base64Encode(utf8Encode('c!')) },
          { target: { locURI: './ReadOnly/X' }, data: 'eA==' },
        ],
      },
      { kind: 'Delete', cmdId: 4, items: [{ target: { locURI: './Gone' } }, { target: { locURI: './Never' } }] },
      { kind: 'Copy', cmdId: 5, items: [{ target: { locURI: './A2' }, source: { locURI: './A' } }] },
      { kind: 'Exec', cmdId: 6, correlator: 'abc', items: [{ target: { locURI: './FwUpdate/1/Update' } }] },
      { kind: 'Exec', cmdId: 7, items: [{ target: { locURI: './Boom' } }] },
    ];
    const { p3 } = await openSession({}, cmds, handler);
    expect(code(p3!, 1)).toBe('200');
    expect(code(p3!, 2)).toBe('418');
    expect(statusFor(p3!, 3).map((x) => x.data)).toEqual(['200', '405']);
    expect(statusFor(p3!, 4).map((x) => x.data)).toEqual(['200', '404']);
    expect(statusFor(p3!, 5)[0]).toMatchObject({ data: '200', targetRef: ['./A2'], sourceRef: ['./A'] });
    expect(code(p3!, 6)).toBe('202');
    expect(code(p3!, 7)).toBe('500'); // a throwing handler is a failed command, not a dead session
    expect(handler.text('./B')).toBe('b');
    expect(handler.text('./C')).toBe('c!'); // command-level Meta Format b64 applied to the item
    expect(handler.text('./A2')).toBe('a');
    expect(handler.tree.has('./Gone')).toBe(false);
    expect(handler.execs[0]).toEqual({ path: './FwUpdate/1/Update', correlator: 'abc' });
    expect(handler.calls.slice(0, 3)).toEqual(['add ./B', 'add ./A', 'replace ./C']);
  });

  it('answers DS-only commands with 406 and other alerts with 406', async () => {
    const { p3 } = await openSession({}, [
      { kind: 'Put', cmdId: 3, items: [{ source: { locURI: './devinf12' }, data: 'x' }] },
      alert(4, '1226'),
    ]);
    expect(code(p3!, 3)).toBe('406');
    expect(code(p3!, 4)).toBe('406');
  });

  it('NoResp commands get no Status', async () => {
    const handler = new MemHandler();
    const { p3 } = await openSession({}, [{ ...leaf(3, 'Replace', './Q', 'q'), noResp: true } as Command], handler);
    expect(statusFor(p3!, 3)).toEqual([]);
    expect(handler.text('./Q')).toBe('q');
  });
});

describe('UI alerts', () => {
  it('1101 confirm, 1102 input, 1103 choice, 1104 multiple choice', async () => {
    const handler = new MemHandler();
    handler.answers = [
      { status: 200 },
      { status: 200, values: ['hello'] },
      { status: 200, values: ['2'] },
      { status: 200, values: ['1', '3'] },
      { status: 214 },
    ];
    const { p3 } = await openSession(
      {},
      [
        alert(2, '1101', 'MINDT=10&MAXDT=30', 'Back up now?'),
        alert(3, '1102', 'MAXDT=60&MAXLEN=20&IT=A', 'Your name?'),
        alert(4, '1103', 'MAXDT=60', 'Pick one', 'Red', 'Green', 'Blue'),
        alert(5, '1104', '', 'Pick some', 'A', 'B', 'C'),
        alert(6, '1101', 'DR=0', 'Cancel me'),
      ],
      handler,
    );
    expect(handler.alerts[0]).toEqual({
      code: '1101',
      options: { MINDT: '10', MAXDT: '30' },
      text: 'Back up now?',
      choices: [],
    });
    expect(handler.alerts[2]).toMatchObject({ code: '1103', text: 'Pick one', choices: ['Red', 'Green', 'Blue'] });
    expect(code(p3!, 2)).toBe('200');
    expect(statusFor(p3!, 3)[0]?.items?.map((i) => String(i.data).trim())).toEqual(['hello']);
    expect(statusFor(p3!, 4)[0]?.items?.map((i) => String(i.data).trim())).toEqual(['2']);
    expect(statusFor(p3!, 5)[0]?.items?.map((i) => String(i.data).trim())).toEqual(['1', '3']);
    expect(code(p3!, 6)).toBe('214');
    expect(statusFor(p3!, 6)[0]?.items).toBeUndefined();
  });

  it('tolerates a single-Item alert (text or options)', () => {
    expect(parseUiAlert(alert(1, '1100', 'Hello there'))).toEqual({
      code: '1100',
      options: {},
      text: 'Hello there',
      choices: [],
    });
    expect(parseUiAlert(alert(1, '1101', 'MINDT=5&DR=1'))).toEqual({
      code: '1101',
      options: { MINDT: '5', DR: '1' },
      text: '',
      choices: [],
    });
    expect(parseUiAlert({ kind: 'Alert', cmdId: 1, data: '1101', items: [{}, { data: 'ok?' }] }).text).toBe('ok?');
  });
});

describe('Atomic and Sequence', () => {
  it('rolls back an Atomic on a failure: 216 for the done ones, 215 after, 507 for the Atomic', async () => {
    const handler = new MemHandler({ './A': 'a', './Exists': 'e' });
    const { p3 } = await openSession(
      {},
      [
        {
          kind: 'Atomic',
          cmdId: 10,
          commands: [
            leaf(11, 'Replace', './A', 'changed'),
            leaf(12, 'Add', './New', 'n'),
            leaf(13, 'Add', './Exists', 'boom'),
            leaf(14, 'Replace', './Z', 'z'),
          ],
        },
      ],
      handler,
    );
    expect(code(p3!, 10)).toBe('507');
    expect(code(p3!, 11)).toBe('216');
    expect(code(p3!, 12)).toBe('216');
    expect(code(p3!, 13)).toBe('418');
    expect(code(p3!, 14)).toBe('215');
    expect(handler.text('./A')).toBe('a');
    expect(handler.tree.has('./New')).toBe(false);
    expect(handler.tree.has('./Z')).toBe(false);
    expect(handler.calls).toContain('rollback');
    expect(handler.calls).not.toContain('commit');
  });

  it('commits a successful Atomic containing a Sequence', async () => {
    const handler = new MemHandler();
    const { p3 } = await openSession(
      {},
      [
        {
          kind: 'Atomic',
          cmdId: 10,
          commands: [
            leaf(11, 'Add', './N1', '1'),
            { kind: 'Sequence', cmdId: 12, commands: [leaf(13, 'Add', './N2', '2'), leaf(14, 'Replace', './N2', '3')] },
          ],
        },
      ],
      handler,
    );
    expect([10, 11, 12, 13, 14].map((i) => code(p3!, i))).toEqual(['200', '200', '200', '200', '200']);
    expect(handler.text('./N2')).toBe('3');
    expect(handler.calls.at(-1)).toBe('commit');
  });

  it('a failure inside a Sequence nested in an Atomic rolls the Atomic back; nested Atomic is refused', async () => {
    const handler = new MemHandler({ './A': 'a' });
    const { p3 } = await openSession(
      {},
      [
        {
          kind: 'Atomic',
          cmdId: 20,
          commands: [
            leaf(21, 'Replace', './A', 'x'),
            {
              kind: 'Sequence',
              cmdId: 22,
              commands: [{ kind: 'Delete', cmdId: 23, items: [{ target: { locURI: './Missing' } }] }],
            },
          ],
        },
        {
          kind: 'Atomic',
          cmdId: 30,
          commands: [{ kind: 'Atomic', cmdId: 31, commands: [leaf(32, 'Add', './In', 'i')] }],
        },
      ],
      handler,
    );
    expect(code(p3!, 20)).toBe('507');
    expect(code(p3!, 21)).toBe('216');
    expect(code(p3!, 23)).toBe('404');
    expect(handler.text('./A')).toBe('a');
    expect(code(p3!, 30)).toBe('507');
    expect(code(p3!, 31)).toBe('406');
    expect(code(p3!, 32)).toBe('215');
    expect(handler.tree.has('./In')).toBe(false);
  });

  it('a rejected 1101 stops the rest of its Sequence with 215 (the §2.6.1 Pkg2 shape)', async () => {
    const handler = new MemHandler();
    handler.answers = [{ status: 304 }];
    const { p3 } = await openSession(
      {},
      [
        {
          kind: 'Sequence',
          cmdId: 1,
          commands: [
            {
              kind: 'Alert',
              cmdId: 2,
              data: '1101',
              items: [{}, { data: 'Do you want to add the CNN access point?' }],
            },
            leaf(4, 'Replace', './settings/wap_settings/CNN', 'AAAA', 'b64'),
          ],
        },
        leaf(5, 'Replace', './After', 'still runs'),
      ],
      handler,
    );
    expect(handler.alerts[0]?.text).toBe('Do you want to add the CNN access point?');
    expect(code(p3!, 1)).toBe('200');
    expect(code(p3!, 2)).toBe('304');
    expect(code(p3!, 4)).toBe('215');
    expect(handler.tree.has('./settings/wap_settings/CNN')).toBe(false);
    expect(handler.text('./After')).toBe('still runs');
  });
});

describe('session flow', () => {
  it('ends when the server answers with statuses only and Final', async () => {
    const handler = new MemHandler({ './X': 'x' });
    const { s, srv, p3 } = await openSession({}, [get(3, './X')], handler);
    expect(p3!.body.final).toBe(true);
    const r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200)], { cred: false });
    expect(await s.receive(r.body, r.headers)).toBeNull();
    expect(s.status).toBe('complete');
    expect(s.events.at(-1)).toEqual({ type: 'end', reason: 'complete' });
  });

  it('sends 1222 when the server message lacks Final, and sends to the RespURI', async () => {
    const handler = new MemHandler();
    const { s, srv, out, p3 } = await openSession({}, [leaf(3, 'Add', './P1', '1')], handler, {
      final: false,
      hdr: { respURI: 'https://dm.example.com/dm?s=abc' },
    });
    expect(out!.url).toBe('https://dm.example.com/dm?s=abc');
    expect(p3!.body.final).toBe(false);
    expect(p3!.body.commands.some((c) => c.kind === 'Alert' && c.data === '1222')).toBe(true);
    const r = serverMessage(s, srv, [leaf(4, 'Add', './P2', '2')], { cred: false });
    const m = decode((await s.receive(r.body, r.headers))!);
    expect(m.body.final).toBe(true);
    expect(m.body.commands.some((c) => c.kind === 'Alert')).toBe(false);
    expect(handler.text('./P2')).toBe('2');
  });

  it('ends on Alert 1223 from the server without answering', async () => {
    const handler = new MemHandler();
    const { s, srv } = await openSession({}, [get(3, './X')], handler);
    const r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200), leaf(4, 'Add', './Never', 'n'), alert(5, '1223')], {
      cred: false,
    });
    expect(await s.receive(r.body, r.headers)).toBeNull();
    expect(s.status).toBe('aborted');
    expect(handler.tree.has('./Never')).toBe(false);
  });

  it('fails with typed errors on garbage, a foreign SessionID or a replayed MsgID', async () => {
    {
      const { s } = start();
      s.firstMessage();
      await expect(s.receive(utf8Encode('<SyncML><SyncHdr>'), {})).rejects.toMatchObject({ code: 'malformed-reply' });
      expect(s.status).toBe('failed');
    }
    {
      const { s, srv } = start();
      const p1 = decode(s.firstMessage());
      const r = serverMessage(s, srv, acceptPkg1(p1), { hdr: { sessionId: '999' } });
      await expect(s.receive(r.body, r.headers)).rejects.toMatchObject({ code: 'unexpected-reply' });
    }
    {
      const { s, srv } = await openSession({}, [get(3, './X')]);
      srv.msgId = 0; // the server's next message reuses MsgID 1
      const r = serverMessage(s, srv, [get(4, './X')], { cred: false });
      await expect(s.receive(r.body, r.headers)).rejects.toMatchObject({ code: 'unexpected-reply' });
    }
  });

  it('bounds the number of messages', async () => {
    const { s, srv } = start({ maxMessages: 3 });
    const p1 = decode(s.firstMessage());
    let r = serverMessage(s, srv, [...acceptPkg1(p1)], { final: false });
    await s.receive(r.body, r.headers);
    r = serverMessage(s, srv, [], { final: false, cred: false });
    await s.receive(r.body, r.headers);
    r = serverMessage(s, srv, [], { final: false, cred: false });
    await expect(s.receive(r.body, r.headers)).rejects.toMatchObject({ code: 'too-many-messages' });
  });
});

describe('Large Objects and message size', () => {
  const TWO_MB = 2 * 1024 * 1024;
  function ringtone(): Uint8Array {
    const b = new Uint8Array(TWO_MB);
    let x = 12345;
    for (let i = 0; i < b.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    return b;
  }

  it('receives a 2 MB Replace in chunks: 213 each, the handler sees it once, whole', async () => {
    const handler = new MemHandler();
    const replaced: number[] = [];
    const orig = handler.replace.bind(handler);
    handler.replace = async (item) => {
      replaced.push(bytesOf(item).length);
      return orig(item);
    };
    const value = ringtone();
    const text = base64Encode(value);
    const chunk = 200 * 1024;
    const pieces: string[] = [];
    for (let i = 0; i < text.length; i += chunk) pieces.push(text.slice(i, i + chunk));

    const { s, cfg } = start({ maxMsgSize: 256 * 1024 }, {}, handler);
    const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0 };
    const p1 = decode(s.firstMessage());
    let pre: Command[] = acceptPkg1(p1);
    let cmdId = 10;
    for (let i = 0; i < pieces.length; i++) {
      const last = i === pieces.length - 1;
      const item: Item = {
        target: { locURI: './Ringtones/Song' },
        meta: { format: 'b64', type: 'audio/midi', ...(i === 0 ? { size: text.length } : {}) },
        data: pieces[i]!,
      };
      if (!last) item.moreData = true;
      const r = serverMessage(s, srv, [...pre, { kind: 'Replace', cmdId: cmdId++, items: [item] }], {
        final: last,
        cred: i === 0,
      });
      pre = [];
      const m = decode((await s.receive(r.body, r.headers))!);
      expect(code(m, cmdId - 1)).toBe(last ? '200' : '213');
      if (!last) {
        expect(m.body.final).toBe(false);
        expect(m.body.commands.some((c) => c.kind === 'Alert' && c.data === '1222')).toBe(true);
      }
    }
    expect(replaced).toEqual([TWO_MB]);
    // bytesEqual: toEqual on 2 MB arrays takes seconds.
    expect(bytesEqual(handler.tree.get('./Ringtones/Song')?.value ?? new Uint8Array(0), value)).toBe(true);
    expect(s.events.filter((e) => e.type === 'lo-in' && !e.done).length).toBe(pieces.length - 1);
  });

  it('refuses an incoming object above our MaxObjSize with 413', async () => {
    const handler = new MemHandler();
    const { p3 } = await openSession(
      { maxObjSize: 1000 },
      [
        {
          kind: 'Replace',
          cmdId: 3,
          items: [
            { target: { locURI: './Big' }, meta: { format: 'chr', size: 5000 }, data: 'x'.repeat(500), moreData: true },
          ],
        },
      ],
      handler,
    );
    expect(code(p3!, 3)).toBe('413');
    expect(handler.calls).toEqual([]);
  });

  it('sends a 2 MB Get result as chunks no larger than the server MaxMsgSize, waiting for 213', async () => {
    const value = ringtone();
    const handler = new MemHandler({ './Ringtones/Song': value });
    const MAX = 64 * 1024;
    const { s, cfg } = start({}, {}, handler);
    const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0 };
    const p1 = decode(s.firstMessage());
    let r = serverMessage(s, srv, [...acceptPkg1(p1), get(7, './Ringtones/Song')], {
      hdr: { meta: { maxMsgSize: MAX, maxObjSize: 8 * 1024 * 1024 } },
    });
    let out = await s.receive(r.body, r.headers);
    const chunks: string[] = [];
    let size: number | undefined;
    let messages = 0;
    while (out) {
      messages++;
      expect(out.body.length).toBeLessThanOrEqual(MAX);
      const m = decode(out);
      const rs = results(m);
      expect(rs.length).toBeLessThanOrEqual(1);
      const replies: Command[] = [st(m.hdr.msgId, 0, 'SyncHdr', 200)];
      if (rs[0]) {
        const item = rs[0].items[0]!;
        expect(rs[0].cmdRef).toBe(7);
        if (chunks.length === 0) size = item.meta?.size;
        else expect(item.meta?.size).toBeUndefined();
        chunks.push(String(item.data));
        if (item.moreData) {
          expect(m.body.final).toBe(false);
          replies.push(st(m.hdr.msgId, rs[0].cmdId, 'Results', 213));
          replies.push(alert(90 + messages, '1222'));
        } else {
          expect(m.body.final).toBe(true);
        }
      }
      r = serverMessage(s, srv, replies, { cred: false, final: true });
      out = await s.receive(r.body, r.headers);
      if (messages > 200) throw new Error('runaway');
    }
    expect(chunks.length).toBeGreaterThan(30);
    const joined = chunks.join('');
    expect(size).toBe(joined.length);
    expect(bytesEqual(base64Decode(joined), value)).toBe(true);
    expect(s.status).toBe('complete');
    expect(s.events.filter((e) => e.type === 'lo-out').at(-1)).toMatchObject({ done: true, path: './Ringtones/Song' });
  });

  it('drops an outgoing object the server refuses mid-way and carries on', async () => {
    const handler = new MemHandler({ './Big': new Uint8Array(200_000).fill(65) });
    const { s, srv, p3 } = await openSession({}, [get(3, './Big')], handler, {
      hdr: { meta: { maxMsgSize: 16 * 1024 } },
    });
    const first = results(p3!)[0]!;
    expect(first.items[0]?.moreData).toBe(true);
    expect(p3!.body.final).toBe(false);
    const r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200), st(2, first.cmdId, 'Results', 500)], { cred: false });
    // Nothing left to send and nothing asked: the session ends, the failure is reported.
    expect(await s.receive(r.body, r.headers)).toBeNull();
    expect(s.events).toContainEqual({
      type: 'send-failed',
      kind: 'Results',
      path: './Big',
      status: 500,
      reason: 'large-object-refused',
    });
  });

  it('sends a Generic Alert queued during the session with the next message', async () => {
    const { s, srv } = await openSession({}, [
      { kind: 'Exec', cmdId: 3, correlator: 'c-9', items: [{ target: { locURI: './Ext/Rewind/BR/Backup' } }] },
    ]);
    s.queueGenericAlert({
      correlator: 'c-9',
      items: [{ source: './Ext/Rewind/BR/Backup', type: 'com.rewind.backup.result', format: 'int', data: '1200' }],
    });
    const r = serverMessage(s, srv, [st(2, 0, 'SyncHdr', 200), st(2, 3, 'Status', 200)], { cred: false });
    const m = decode((await s.receive(r.body, r.headers))!);
    const a = m.body.commands.find((c): c is Alert => c.kind === 'Alert');
    expect(a).toMatchObject({ data: '1226', correlator: 'c-9' });
    expect(m.body.final).toBe(true);
  });

  it('answers 413 for a Get whose value exceeds the server MaxObjSize', async () => {
    const handler = new MemHandler({ './Big': new Uint8Array(5000) });
    const { p3 } = await openSession({}, [get(3, './Big')], handler, { hdr: { meta: { maxObjSize: 1000 } } });
    expect(code(p3!, 3)).toBe('413');
    expect(results(p3!)).toEqual([]);
  });

  it('splits many results over several messages under the server MaxMsgSize', async () => {
    const init: Record<string, string> = {};
    const paths: string[] = [];
    for (let i = 0; i < 200; i++) {
      init[`./Contacts/${i}`] = `contact number ${i} `.repeat(10);
      paths.push(`./Contacts/${i}`);
    }
    const handler = new MemHandler(init);
    const MAX = 8 * 1024;
    const { s, cfg } = start({}, {}, handler);
    const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0 };
    const p1 = decode(s.firstMessage());
    let r = serverMessage(s, srv, [...acceptPkg1(p1), ...paths.map((p, i) => get(10 + i, p))], {
      hdr: { meta: { maxMsgSize: MAX } },
    });
    let out = await s.receive(r.body, r.headers);
    const got = new Set<string>();
    let n = 0;
    while (out) {
      n++;
      expect(out.body.length).toBeLessThanOrEqual(MAX);
      const m = decode(out);
      for (const res of results(m)) for (const it of res.items) got.add(it.source!.locURI);
      const replies: Command[] = [st(m.hdr.msgId, 0, 'SyncHdr', 200)];
      if (!m.body.final) replies.push(alert(900 + n, '1222'));
      r = serverMessage(s, srv, replies, { cred: false, final: m.body.final });
      out = await s.receive(r.body, r.headers);
      if (n > 100) throw new Error('runaway');
    }
    expect(n).toBeGreaterThan(3);
    expect(got.size).toBe(200);
  });
});

describe('wbxml', () => {
  it('runs a session in WBXML', async () => {
    const handler = new MemHandler({ './DevInfo/Mod': 'SmartPhone2000' });
    const { s, cfg } = start({ encoding: 'wbxml' }, {}, handler);
    const out1 = s.firstMessage();
    expect(out1.contentType).toBe('application/vnd.syncml.dm+wbxml');
    const p1 = decode(out1, 'wbxml');
    const srv: ServerSide = { scheme: cfg.serverScheme, msgId: 0, encoding: 'wbxml' };
    const r = serverMessage(s, srv, [...acceptPkg1(p1), get(3, './DevInfo/Mod')]);
    const m = decode((await s.receive(r.body, r.headers))!, 'wbxml');
    expect(code(m, 3)).toBe('200');
    const d = results(m)[0]?.items[0]?.data;
    expect(typeof d === 'string' ? d.trim() : utf8Decode(d as Uint8Array)).toBe('SmartPhone2000');
  });
});

// ---------------------------------------------------------------------------------------
// Loopback: this client against the server engine, in memory

describe('loopback with the server engine', () => {
  async function loopback(o: {
    clientScheme: AuthScheme;
    serverScheme: AuthScheme;
    encoding: Encoding;
    work: WorkRequest[];
    handler: MemHandler;
    serverMaxMsgSize?: number;
    staleClientNonce?: boolean;
  }) {
    const auth: DeviceAuth = {
      clientScheme: o.clientScheme,
      client: CLIENT,
      serverScheme: o.serverScheme,
      server: SERVER,
      clientNonce: newNonce(),
      serverNonce: newNonce(),
    };
    const s = new ClientSession(
      config({ clientScheme: o.clientScheme, serverScheme: o.serverScheme, encoding: o.encoding }),
      {
        sessionId: SESSION,
        initiator: 'server',
        nonces: { clientNonce: o.staleClientNonce ? newNonce() : auth.clientNonce, serverNonce: auth.serverNonce },
      },
      o.handler,
    );
    let state = newServerSession(
      { serverId: 'rewind', maxMsgSize: o.serverMaxMsgSize ?? 512 * 1024, maxObjSize: 16 * 1024 * 1024 },
      { devId: DEV_ID, sessionId: SESSION, encoding: o.encoding },
    );
    state = enqueueWork(state, o.work);
    const events: SessionEvent[] = [];
    let out: Outgoing | null = s.firstMessage();
    let rounds = 0;
    let done = false;
    let lastServer: SyncMLMessage | null = null;
    while (out) {
      if (++rounds > 500) throw new Error('runaway session');
      const message = decodeMessage(out.body, o.encoding);
      const hmac = out.headers['x-syncml-hmac'];
      const rec = receive(
        state,
        { message, rawBody: out.body, ...(hmac !== undefined ? { hmacHeader: hmac } : {}) },
        auth,
        Date.now(),
      );
      if (rec.authUpdate?.clientNonce !== undefined) auth.clientNonce = rec.authUpdate.clientNonce;
      if (rec.authUpdate?.serverNonce !== undefined) auth.serverNonce = rec.authUpdate.serverNonce;
      events.push(...rec.events);
      const resp = respond(rec.state, auth);
      state = resp.state;
      events.push(...resp.events);
      done = resp.done;
      lastServer = resp.message;
      const body = resp.message ? encodeMessage(resp.message, o.encoding) : new Uint8Array(0);
      const headers: Record<string, string> = {
        'content-type': o.encoding === 'xml' ? 'application/vnd.syncml.dm+xml' : 'application/vnd.syncml.dm+wbxml',
      };
      if (resp.message && o.serverScheme === 'hmac') headers['x-syncml-hmac'] = signResponse(auth, body);
      out = await s.receive(body, headers);
    }
    // The client stops at a Final server message that asks nothing of it (§2.6.1 Pkg4).
    expect(lastServer?.body.final).toBe(true);
    expect(lastServer?.body.commands.every((c) => c.kind === 'Status')).toBe(true);
    return { s, auth, events, done, rounds };
  }

  it('md5 both ways, stale client nonce, Get/Replace/Sequence with confirm/Exec', async () => {
    const handler = new MemHandler({ './DevInfo/Man': 'Device Factory, Inc.' });
    const { s, auth, events, done } = await loopback({
      clientScheme: 'md5',
      serverScheme: 'md5',
      encoding: 'xml',
      staleClientNonce: true,
      handler,
      work: [
        { id: 'w1', kind: 'get', paths: ['./DevInfo/Man', './Missing'] },
        {
          id: 'w2',
          kind: 'replace',
          items: [{ path: './Ext/Rewind/Policy', format: 'chr', value: base64Encode(utf8Encode('daily')) }],
        },
        {
          id: 'w3',
          kind: 'sequence',
          steps: [
            { kind: 'ui', code: '1101', text: 'Restore your contacts?', options: { MAXDT: 30 } },
            {
              kind: 'add',
              items: [{ path: './Ext/Rewind/Restored', format: 'chr', value: base64Encode(utf8Encode('yes')) }],
            },
          ],
        },
        { id: 'w4', kind: 'exec', path: './Ext/Rewind/BR/Backup', correlator: 'job-1' },
      ],
    });
    void done; // see the report: the server engine may still wait for a last statuses-only message
    expect(s.status).toBe('complete');
    expect(
      s.events
        .filter((e) => e.type === 'client-auth')
        .map((e) => (e as { status: number }).status)
        .slice(0, 2),
    ).toEqual([401, 212]);
    const man = events.find((e) => e.type === 'result' && e.path === './DevInfo/Man');
    expect(man && 'value' in man && man.value !== undefined ? utf8Decode(base64Decode(man.value)) : undefined).toBe(
      'Device Factory, Inc.',
    );
    expect(events.find((e) => e.type === 'result' && e.path === './Missing')).toMatchObject({ status: 404 });
    expect(handler.text('./Ext/Rewind/Policy')).toBe('daily');
    expect(handler.alerts[0]).toMatchObject({ code: '1101', text: 'Restore your contacts?', options: { MAXDT: '30' } });
    expect(handler.text('./Ext/Rewind/Restored')).toBe('yes');
    expect(handler.execs).toEqual([{ path: './Ext/Rewind/BR/Backup', correlator: 'job-1' }]);
    expect(
      events
        .filter((e) => e.type === 'work-done')
        .map((e) => (e as { workId: string }).workId)
        .sort(),
    ).toEqual(['w1', 'w2', 'w3', 'w4']);
    // Both sides agree on the nonces for the next session.
    expect(s.nonces).toEqual({ clientNonce: auth.clientNonce, serverNonce: auth.serverNonce });
  });

  // 1 MB here (2 MB above): the server engine copies its JSON state per message, so the
  // loopback cost grows with the object size squared.
  it('hmac both ways in WBXML with 1 MB objects each way under a small MaxMsgSize', { timeout: 120_000 }, async () => {
    const big = new Uint8Array(1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
    const handler = new MemHandler({ './Ringtones/Old': big });
    const incoming = big.slice().reverse();
    const { s, auth, events, done } = await loopback({
      clientScheme: 'hmac',
      serverScheme: 'hmac',
      encoding: 'wbxml',
      handler,
      serverMaxMsgSize: 128 * 1024,
      work: [
        { id: 'get', kind: 'get', paths: ['./Ringtones/Old'] },
        {
          id: 'put',
          kind: 'replace',
          items: [{ path: './Ringtones/New', format: 'bin', type: 'audio/midi', value: base64Encode(incoming) }],
        },
      ],
    });
    void done; // see the report: the server engine may still wait for a last statuses-only message
    expect(s.status).toBe('complete');
    const got = events.find((e) => e.type === 'result' && e.path === './Ringtones/Old');
    expect(got && 'value' in got && got.value !== undefined && bytesEqual(base64Decode(got.value), big)).toBe(true);
    expect(bytesEqual(handler.tree.get('./Ringtones/New')?.value ?? new Uint8Array(0), incoming)).toBe(true);
    expect(
      s.events.filter((e) => e.type === 'message-out').every((e) => (e as { bytes: number }).bytes <= 128 * 1024),
    ).toBe(true);
    expect(s.events.some((e) => e.type === 'lo-out' && e.done)).toBe(true);
    expect(s.events.some((e) => e.type === 'lo-in' && e.done)).toBe(true);
    expect(s.nonces).toEqual({ clientNonce: auth.clientNonce, serverNonce: auth.serverNonce });
  });
});

describe('configuration errors', () => {
  it('basic without a password is a typed bad-config error, not a crash later', () => {
    const { s } = start({ clientScheme: 'basic', client: { user: 'alice', derived: 'abc' } });
    expect(() => s.firstMessage()).toThrow(expect.objectContaining({ code: 'bad-config' }));
    expect(s.status).toBe('failed');
  });
});
