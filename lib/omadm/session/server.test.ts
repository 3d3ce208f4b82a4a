import { describe, expect, it } from 'vitest';
import { hmacHeader, makeCred, makeChal, nonceBytes, verifyCred, verifyHmac } from '../auth';
import { decodeMessage, encodeMessage } from '../codec/index';
import type { Alert, Command, Encoding, Item, Replace, Results, Status, SyncHdr, SyncMLMessage } from '../message';
import { base64Decode, base64Encode, bytesEqual, utf8Decode, utf8Encode } from '../util/bytes';
import {
  abortSession,
  enqueueWork,
  newServerSession,
  receive,
  rejectUnknownDevice,
  respond,
  signResponse,
  type DeviceAuth,
  type ServerConfig,
  type ServerSessionState,
} from './server';
import type { SessionEvent, WorkRequest } from './work';

const DEV = 'IMEI:493005100592800';
const SERVER = 'rewind.example';
const RESP_URI = 'https://rewind.example/dm?s=1';

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const b64 = (s: string): string => base64Encode(utf8Encode(s));
const text = (v: string | undefined): string => utf8Decode(base64Decode(v ?? ''));

function randomBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) globalThis.crypto.getRandomValues(b.subarray(i, Math.min(n, i + 65536)));
  return b;
}

interface Step {
  events: SessionEvent[];
  /** The scheme the client asked for (receive's authUpdate), which the harness follows as the gateway would. */
  askedScheme?: DeviceAuth['serverScheme'];
  reply: SyncMLMessage;
  done: boolean;
  bytes: Uint8Array;
  hmac?: string;
}

/**
 * Plays the handset against the server engine, the way the DM endpoint glue does: every
 * message goes through the codec both ways, the session state through JSON between every
 * step, and nonce updates into the device record.
 */
class Harness {
  state: ServerSessionState;
  auth: DeviceAuth;
  msgId = 0;
  cmdId = 1;
  /** MaxMsgSize and MaxObjSize the handset announces in every SyncHdr. */
  maxMsgSize = 16384;
  maxObjSize = 4 * 1024 * 1024;
  events: SessionEvent[] = [];
  constructor(
    readonly encoding: Encoding,
    auth: Partial<DeviceAuth> = {},
    cfg: Partial<ServerConfig> = {},
    sessionId = '7',
  ) {
    this.auth = {
      clientScheme: 'md5',
      client: { user: DEV, password: 'client-secret' },
      serverScheme: 'md5',
      server: { user: SERVER, password: 'server-secret' },
      clientNonce: b64('first client nonce'),
      serverNonce: b64('first server nonce'),
      ...auth,
    };
    this.state = json(
      newServerSession(
        { serverId: SERVER, respURI: RESP_URI, maxMsgSize: 65536, maxObjSize: 8 * 1024 * 1024, ...cfg },
        { devId: DEV, sessionId, encoding },
      ),
    );
  }

  work(w: WorkRequest[]): void {
    const input = json(this.state);
    const before = JSON.stringify(input);
    this.state = json(enqueueWork(input, w));
    // The steps share with the state they were given what they do not change: never change it.
    expect(JSON.stringify(input)).toBe(before);
  }

  hdr(opts: { cred?: boolean | 'wrong'; maxMsgSize?: number } = {}): SyncHdr {
    const h: SyncHdr = {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: this.state.sessionId,
      msgId: ++this.msgId,
      target: { locURI: SERVER },
      source: { locURI: DEV },
    };
    if (opts.cred) {
      const secret = opts.cred === 'wrong' ? { ...this.auth.client, password: 'guess' } : this.auth.client;
      const c = makeCred(this.auth.clientScheme, secret, nonceBytes(this.auth.clientNonce));
      if (c) h.cred = c;
    }
    if (opts.maxMsgSize !== undefined) this.maxMsgSize = opts.maxMsgSize;
    h.meta = { maxMsgSize: this.maxMsgSize, maxObjSize: this.maxObjSize };
    return h;
  }

  id(): number {
    return this.cmdId++;
  }

  send(msg: SyncMLMessage, opts: { hmac?: 'good' | 'bad' | 'none' } = {}): Step {
    const body = encodeMessage(msg, this.encoding);
    const decoded = decodeMessage(body, this.encoding);
    let header: string | undefined;
    if (this.auth.clientScheme === 'hmac' && opts.hmac !== 'none') {
      const secret = opts.hmac === 'bad' ? { ...this.auth.client, password: 'guess' } : this.auth.client;
      header = hmacHeader(secret, nonceBytes(this.auth.clientNonce), body);
    }
    const input = json(this.state);
    const before = JSON.stringify(input);
    const r = receive(
      input,
      { message: decoded, rawBody: body, ...(header ? { hmacHeader: header } : {}) },
      { ...this.auth },
      1_700_000_000_000,
    );
    // The steps share with the state they were given what they do not change: never change it.
    expect(JSON.stringify(input)).toBe(before);
    // The state is plain JSON: nothing lost or changed by a round trip.
    expect(json(r.state)).toStrictEqual(r.state);
    if (r.authUpdate?.clientNonce !== undefined) this.auth.clientNonce = r.authUpdate.clientNonce;
    if (r.authUpdate?.serverNonce !== undefined) this.auth.serverNonce = r.authUpdate.serverNonce;
    if (r.authUpdate?.serverScheme !== undefined) this.auth.serverScheme = r.authUpdate.serverScheme;
    this.state = json(r.state);
    const given = json(this.state);
    const givenBefore = JSON.stringify(given);
    const out = respond(given, { ...this.auth });
    expect(JSON.stringify(given)).toBe(givenBefore);
    expect(json(out.state)).toStrictEqual(out.state);
    this.state = json(out.state);
    expect(out.message).not.toBeNull();
    const bytes = encodeMessage(out.message!, this.encoding);
    const reply = decodeMessage(bytes, this.encoding);
    const events = [...r.events, ...out.events];
    this.events.push(...events);
    const step: Step = {
      events: json(events),
      reply,
      done: out.done,
      bytes,
      ...(r.authUpdate?.serverScheme ? { askedScheme: r.authUpdate.serverScheme } : {}),
    };
    if (this.auth.serverScheme === 'hmac') step.hmac = signResponse(this.auth, bytes);
    return step;
  }

  /** Package #1 of a client-initiated session (§2.6.1 shape). */
  pkg1(opts: { cred?: boolean | 'wrong'; alert?: string; maxMsgSize?: number } = {}): SyncMLMessage {
    const devInfo: Replace = {
      kind: 'Replace',
      cmdId: 0,
      items: [
        ['./DevInfo/DevId', DEV],
        ['./DevInfo/Man', 'Device Factory, Inc.'],
        ['./DevInfo/Mod', 'SmartPhone2000'],
        ['./DevInfo/DmV', '1.2'],
        ['./DevInfo/Lang', 'en-US'],
      ].map(([uri, data]) => ({ source: { locURI: uri! }, meta: { format: 'chr', type: 'text/plain' }, data: data! })),
    };
    const alert: Alert = { kind: 'Alert', cmdId: this.id(), data: opts.alert ?? '1201', items: [] };
    devInfo.cmdId = this.id();
    return {
      hdr: this.hdr({ cred: opts.cred ?? true, ...(opts.maxMsgSize ? { maxMsgSize: opts.maxMsgSize } : {}) }),
      body: { commands: [alert, devInfo], final: true },
    };
  }

  /** Statuses for every command of a server message; `codes` overrides by target path or alert code. */
  statuses(reply: SyncMLMessage, codes: Record<string, number> = {}, hdrCode = 200): Status[] {
    const out: Status[] = [
      {
        kind: 'Status',
        cmdId: this.id(),
        msgRef: reply.hdr.msgId,
        cmdRef: 0,
        cmd: 'SyncHdr',
        targetRef: [DEV],
        sourceRef: [SERVER],
        data: String(hdrCode),
      },
    ];
    const walk = (cmds: Command[]): void => {
      for (const c of cmds) {
        if (c.kind === 'Status' || c.kind === 'Results') continue;
        const path = 'items' in c ? c.items[0]?.target?.locURI : undefined;
        const key = c.kind === 'Alert' ? c.data : (path ?? c.kind);
        let code = codes[key] ?? codes[c.kind] ?? 200;
        if (c.kind !== 'Alert' && 'items' in c && c.items[0]?.moreData) code = 213;
        const s: Status = {
          kind: 'Status',
          cmdId: this.id(),
          msgRef: reply.hdr.msgId,
          cmdRef: c.cmdId,
          cmd: c.kind,
          data: String(code),
        };
        if (path !== undefined && c.kind !== 'Alert') s.targetRef = [path];
        out.push(s);
        if (c.kind === 'Atomic' || c.kind === 'Sequence') walk(c.commands);
      }
    };
    walk(reply.body.commands);
    return out;
  }

  msg(commands: Command[], final = true): SyncMLMessage {
    return { hdr: this.hdr(), body: { commands, final } };
  }

  /** Authenticated Package #1 exchange; returns the server's Package #2. */
  open(opts: { maxMsgSize?: number } = {}): Step {
    const step = this.send(this.pkg1(opts));
    expect(hdrStatus(step.reply).data).toBe('212');
    return step;
  }
}

function hdrStatus(m: SyncMLMessage): Status {
  const s = m.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === 0);
  expect(s).toBeDefined();
  return s!;
}

function statusOf(m: SyncMLMessage, cmdRef: number): Status | undefined {
  return m.body.commands.find((c): c is Status => c.kind === 'Status' && c.cmdRef === cmdRef && c.cmd !== 'SyncHdr');
}

function nonStatus(m: SyncMLMessage): Command[] {
  return m.body.commands.filter((c) => c.kind !== 'Status');
}

function ofType<T extends SessionEvent['type']>(events: SessionEvent[], type: T): Extract<SessionEvent, { type: T }>[] {
  return events.filter((e): e is Extract<SessionEvent, { type: T }> => e.type === type);
}

describe.each(['xml', 'wbxml'] as const)('server session (%s)', (encoding) => {
  it('runs the §2.6.1 session: md5 auth 212 + NextNonce, DevInfo, a confirmed Sequence, then ends', () => {
    const h = new Harness(encoding);
    const oldNonce = h.auth.clientNonce;
    const serverNonce = h.auth.serverNonce;
    h.work([
      {
        id: 'cnn',
        kind: 'sequence',
        steps: [
          {
            kind: 'ui',
            code: '1101',
            text: 'Do you want to add the CNN access point?',
            options: { MINDT: 5, MAXDT: 30, DR: 0 },
          },
          {
            kind: 'replace',
            items: [
              { path: './settings/wap_settings/CNN', format: 'chr', type: 'text/plain', value: b64('cnn settings') },
            ],
          },
        ],
      },
    ]);
    const p2 = h.send(h.pkg1());
    // SyncHdr 212 with a fresh NextNonce, which the caller must store.
    const hs = hdrStatus(p2.reply);
    expect(hs.data).toBe('212');
    expect(hs.msgRef).toBe(1);
    expect(hs.chal?.meta.nextNonce).toBe(h.auth.clientNonce);
    expect(h.auth.clientNonce).not.toBe(oldNonce);
    expect(hs.chal?.meta.type).toBe('syncml:auth-md5');
    // Our header: RespURI, our credentials (with the nonce the client gave us), our limits.
    expect(p2.reply.hdr.respURI).toBe(RESP_URI);
    expect(p2.reply.hdr.target.locURI).toBe(DEV);
    expect(p2.reply.hdr.source.locURI).toBe(SERVER);
    expect(p2.reply.hdr.msgId).toBe(1);
    expect(verifyCred(p2.reply.hdr.cred, 'md5', h.auth.server, nonceBytes(serverNonce))).toBe(true);
    expect(p2.reply.hdr.meta?.maxMsgSize).toBe(65536);
    // Statuses for the Alert (CmdID 1) and the Replace (CmdID 2), before the commands.
    expect(statusOf(p2.reply, 1)).toMatchObject({ cmd: 'Alert', data: '200', msgRef: 1 });
    expect(statusOf(p2.reply, 2)).toMatchObject({ cmd: 'Replace', data: '200', msgRef: 1 });
    expect(p2.reply.body.commands.slice(0, 3).every((c) => c.kind === 'Status')).toBe(true);
    expect(p2.reply.body.final).toBe(true);
    expect(p2.done).toBe(false);
    expect(ofType(p2.events, 'session-start')).toEqual([{ type: 'session-start', initiator: 'client', alert: '1201' }]);
    expect(ofType(p2.events, 'authenticated')).toHaveLength(1);
    expect(ofType(p2.events, 'devinfo')[0]!.values).toMatchObject({
      './DevInfo/Man': 'Device Factory, Inc.',
      './DevInfo/Mod': 'SmartPhone2000',
    });

    const seq = nonStatus(p2.reply);
    expect(seq).toHaveLength(1);
    expect(seq[0]!.kind).toBe('Sequence');
    if (seq[0]!.kind !== 'Sequence') return;
    const [alert, rep] = seq[0]!.commands;
    expect(alert).toMatchObject({ kind: 'Alert', data: '1101' });
    // Options Item first, then the text.
    expect((alert as Alert).items.map((i) => i.data)).toEqual([
      'MINDT=5&MAXDT=30&DR=0',
      'Do you want to add the CNN access point?',
    ]);
    expect(rep).toMatchObject({ kind: 'Replace', items: [{ target: { locURI: './settings/wap_settings/CNN' } }] });

    // Package #3: the user confirmed; statuses only, Final.
    const p4 = h.send(h.msg(h.statuses(p2.reply, {}, 212)));
    expect(ofType(p4.events, 'ui')).toEqual([{ type: 'ui', workId: 'cnn', code: '1101', status: 200 }]);
    expect(ofType(p4.events, 'status')).toEqual([
      { type: 'status', workId: 'cnn', cmd: 'Sequence', status: 200 },
      { type: 'status', workId: 'cnn', cmd: 'Replace', path: './settings/wap_settings/CNN', status: 200 },
    ]);
    expect(ofType(p4.events, 'work-done')).toEqual([{ type: 'work-done', workId: 'cnn' }]);
    // Package #4: only the SyncHdr status, Final, and the session is over.
    expect(p4.done).toBe(true);
    expect(p4.reply.body.commands).toHaveLength(1);
    expect(hdrStatus(p4.reply)).toMatchObject({ data: '200', msgRef: 2 });
    expect(p4.reply.hdr.msgId).toBe(2);
    expect(p4.reply.hdr.cred).toBeUndefined(); // the client accepted us (212)
    expect(p4.reply.body.final).toBe(true);
    expect(ofType(p4.events, 'session-end')).toEqual([{ type: 'session-end', reason: 'complete' }]);
  });

  it('refuses a wrong digest with 401 + Chal, executes nothing, and accepts the retry', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./DevDetail/FwV'] }]);
    const bad = h.send(h.pkg1({ cred: 'wrong' }));
    const hs = hdrStatus(bad.reply);
    expect(hs.data).toBe('401');
    expect(hs.chal?.meta.nextNonce).toBe(h.auth.clientNonce);
    expect(bad.reply.body.commands).toHaveLength(1); // no statuses for commands, no Get
    expect(bad.reply.body.final).toBe(true);
    expect(bad.done).toBe(false);
    expect(ofType(bad.events, 'auth-failed')).toEqual([
      { type: 'auth-failed', status: 401, attempts: 1, final: false },
    ]);
    expect(ofType(bad.events, 'devinfo')).toHaveLength(0);
    expect(ofType(bad.events, 'session-start')).toHaveLength(0);

    // Retry in the same session with the new nonce.
    const ok = h.send(h.pkg1());
    expect(hdrStatus(ok.reply).data).toBe('212');
    expect(nonStatus(ok.reply)).toMatchObject([{ kind: 'Get', items: [{ target: { locURI: './DevDetail/FwV' } }] }]);
    expect(ofType(ok.events, 'devinfo')).toHaveLength(1);
  });

  it('answers missing credentials with 407 and ends the session after three failures', () => {
    const h = new Harness(encoding);
    const first = h.send(h.pkg1({ cred: false }));
    expect(hdrStatus(first.reply).data).toBe('407');
    expect(hdrStatus(first.reply).chal?.meta.nextNonce).toBe(h.auth.clientNonce);
    h.send(h.pkg1({ cred: 'wrong' }));
    const third = h.send(h.pkg1({ cred: 'wrong' }));
    expect(hdrStatus(third.reply).data).toBe('401');
    expect(third.done).toBe(true);
    expect(ofType(third.events, 'auth-failed')[0]).toMatchObject({ attempts: 3, final: true });
    expect(ofType(third.events, 'session-end')).toEqual([{ type: 'session-end', reason: 'auth-failed' }]);
  });

  it('authenticates HMAC on every message and signs its answers', () => {
    const h = new Harness(encoding, { clientScheme: 'hmac', serverScheme: 'hmac' });
    h.work([{ id: 'g', kind: 'get', paths: ['./DevDetail/FwV'] }]);
    const serverNonce = h.auth.serverNonce;
    const bad = h.send(h.pkg1({ cred: false }), { hmac: 'bad' });
    expect(hdrStatus(bad.reply).data).toBe('401');
    expect(hdrStatus(bad.reply).chal?.meta.type).toBe('syncml:auth-MAC');
    const none = h.send(h.pkg1({ cred: false }), { hmac: 'none' });
    expect(hdrStatus(none.reply).data).toBe('407');
    const ok = h.send(h.pkg1({ cred: false }));
    expect(hdrStatus(ok.reply).data).toBe('212');
    expect(ok.reply.hdr.cred).toBeUndefined();
    expect(verifyHmac(ok.hmac, h.auth.server, nonceBytes(serverNonce), ok.bytes)).toBe(true);
    // A later message with a bad MAC is refused although the session is authenticated.
    const get = nonStatus(ok.reply)[0]!;
    const results: Results = {
      kind: 'Results',
      cmdId: h.id(),
      msgRef: ok.reply.hdr.msgId,
      cmdRef: get.cmdId,
      items: [{ source: { locURI: './DevDetail/FwV' }, data: '1.0' }],
    };
    const tampered = h.send(h.msg([...h.statuses(ok.reply, {}, 212), results]), { hmac: 'bad' });
    expect(hdrStatus(tampered.reply).data).toBe('401');
    expect(ofType(tampered.events, 'result')).toHaveLength(0);
    const good = h.send(h.msg([...h.statuses(ok.reply, {}, 212), results]));
    expect(hdrStatus(good.reply).data).toBe('200');
    expect(ofType(good.events, 'result')).toMatchObject([
      { workId: 'g', path: './DevDetail/FwV', status: 200, value: b64('1.0') },
    ]);
  });

  it('gets several paths: Results per path, 404/406 statuses passed through, Struct forms untouched', () => {
    const h = new Harness(encoding);
    h.work([
      { id: 'inv', kind: 'get', paths: ['./DevDetail/FwV', './DevDetail/Ext', './Vendor?list=Struct', './Missing'] },
    ]);
    const p2 = h.open();
    const gets = nonStatus(p2.reply);
    expect(gets.map((g) => g.kind)).toEqual(['Get', 'Get', 'Get', 'Get']);
    const byPath = new Map(gets.map((g) => [(g as { items: Item[] }).items[0]!.target!.locURI, g.cmdId]));
    expect([...byPath.keys()]).toEqual(['./DevDetail/FwV', './DevDetail/Ext', './Vendor?list=Struct', './Missing']);
    const ref = p2.reply.hdr.msgId;
    const statuses = h.statuses(p2.reply, { './Vendor?list=Struct': 406, './Missing': 404 }, 212);
    const r1: Results = {
      kind: 'Results',
      cmdId: h.id(),
      msgRef: ref,
      cmdRef: byPath.get('./DevDetail/FwV')!,
      items: [{ source: { locURI: './DevDetail/FwV' }, meta: { format: 'chr', type: 'text/plain' }, data: 'FW-1.2.3' }],
    };
    // Interior node: the child list, format node.
    const r2: Results = {
      kind: 'Results',
      cmdId: h.id(),
      msgRef: ref,
      cmdRef: byPath.get('./DevDetail/Ext')!,
      items: [{ source: { locURI: './DevDetail/Ext' }, meta: { format: 'node' }, data: 'a/b/c' }],
    };
    // Results before their Status: order must not matter.
    const p4 = h.send(h.msg([r1, ...statuses, r2]));
    const results = ofType(p4.events, 'result');
    expect(new Map(results.map((r) => [r.path, r.status]))).toEqual(
      new Map([
        ['./Vendor?list=Struct', 406],
        ['./Missing', 404],
        ['./DevDetail/FwV', 200],
        ['./DevDetail/Ext', 200],
      ]),
    );
    expect(results).toHaveLength(4);
    const fw = results.find((r) => r.path === './DevDetail/FwV')!;
    expect(fw).toMatchObject({ workId: 'inv', requested: './DevDetail/FwV', format: 'chr', mimeType: 'text/plain' });
    expect(text(fw.value)).toBe('FW-1.2.3');
    expect(text(results.find((r) => r.path === './DevDetail/Ext')!.value)).toBe('a/b/c');
    expect(results.find((r) => r.status === 406)!.value).toBeUndefined();
    expect(statusOf(p4.reply, r1.cmdId)).toMatchObject({ cmd: 'Results', data: '200' });
    expect(ofType(p4.events, 'work-done')).toEqual([{ type: 'work-done', workId: 'inv' }]);
    expect(ofType(p4.events, 'protocol-error')).toEqual([]);
    // Our statuses for its Results close the session: a client that receives a Final
    // message of statuses only does not answer it.
    expect(p4.done).toBe(true);
    expect(nonStatus(p4.reply)).toEqual([]);
    expect(p4.reply.body.final).toBe(true);
    expect(ofType(p4.events, 'session-end')).toEqual([{ type: 'session-end', reason: 'complete' }]);
  });

  it('reports a rejected 1101 and the 215s of the Sequence steps after it', () => {
    const h = new Harness(encoding);
    h.work([
      {
        id: 'seq',
        kind: 'sequence',
        steps: [
          { kind: 'ui', code: '1101', text: 'Restore now?', options: 'MAXDT=30' },
          { kind: 'replace', items: [{ path: './A', value: b64('1') }] },
          { kind: 'delete', paths: ['./B'] },
        ],
      },
      { id: 'txt', kind: 'ui', code: '1102', text: 'Your PIN?' },
      { id: 'pick', kind: 'ui', code: '1103', text: 'Which?', choices: ['one', 'two'] },
    ]);
    const p2 = h.open();
    const alerts = nonStatus(p2.reply).filter((c): c is Alert => c.kind === 'Alert');
    expect(alerts.map((a) => a.items.map((i) => i.data ?? ''))).toEqual([
      ['', 'Your PIN?'],
      ['', 'Which?', 'one', 'two'],
    ]);
    const st = h.statuses(p2.reply, { '1101': 304, './A': 215, './B': 215 }, 212);
    const txt = st.find((s) => s.cmdRef === alerts[0]!.cmdId)!;
    txt.items = [{ data: '1234' }];
    const pick = st.find((s) => s.cmdRef === alerts[1]!.cmdId)!;
    pick.items = [{ data: '2' }];
    const p4 = h.send(h.msg(st));
    expect(ofType(p4.events, 'ui')).toEqual([
      { type: 'ui', workId: 'seq', code: '1101', status: 304 },
      { type: 'ui', workId: 'txt', code: '1102', status: 200, values: ['1234'] },
      { type: 'ui', workId: 'pick', code: '1103', status: 200, values: ['2'] },
    ]);
    expect(ofType(p4.events, 'status')).toEqual([
      { type: 'status', workId: 'seq', cmd: 'Sequence', status: 200 },
      { type: 'status', workId: 'seq', cmd: 'Replace', path: './A', status: 215 },
      { type: 'status', workId: 'seq', cmd: 'Delete', path: './B', status: 215 },
    ]);
    expect(p4.done).toBe(true);
  });

  it('splits 300 Replaces over messages within the client MaxMsgSize of 4 KB', () => {
    const h = new Harness(encoding);
    const items = Array.from({ length: 300 }, (_, i) => ({
      path: `./Ext/Rewind/Restore/Item${i}`,
      value: b64(`value number ${i} `.repeat(3)),
    }));
    h.work([{ id: 'restore', kind: 'replace', items }]);
    let step = h.open({ maxMsgSize: 4096 });
    const seen = new Map<string, number>();
    let statusEvents: Extract<SessionEvent, { type: 'status' }>[] = [];
    let messages = 0;
    for (let hdrCode = 212; messages < 100; hdrCode = 200) {
      messages++;
      expect(step.bytes.length).toBeLessThanOrEqual(4096);
      const cmds = nonStatus(step.reply);
      for (const c of cmds) {
        expect(c.kind).toBe('Replace');
        const p = (c as Replace).items[0]!.target!.locURI;
        seen.set(p, (seen.get(p) ?? 0) + 1);
      }
      const more = seen.size < 300;
      expect(step.reply.body.final).toBe(!more);
      // The last one has statuses only; answer it and the session ends.
      const codes = { './Ext/Rewind/Restore/Item7': 405 };
      const next = h.send(h.msg(h.statuses(step.reply, codes, hdrCode)));
      statusEvents = statusEvents.concat(ofType(next.events, 'status'));
      step = next;
      if (!more) break;
    }
    expect(messages).toBeGreaterThan(5);
    expect(seen.size).toBe(300);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(statusEvents).toHaveLength(300);
    expect(statusEvents.find((e) => e.path === './Ext/Rewind/Restore/Item7')?.status).toBe(405);
    expect(statusEvents.filter((e) => e.status === 200)).toHaveLength(299);
    expect(h.events.filter((e) => e.type === 'work-done')).toEqual([{ type: 'work-done', workId: 'restore' }]);
    // One more exchange closes: its answer was statuses only.
    expect(step.done).toBe(true);
  });

  it('sends a 2 MB Replace as a Large Object, each chunk after the 213', () => {
    const h = new Harness(encoding);
    const value = randomBytes(2 * 1024 * 1024);
    h.work([
      { id: 'big', kind: 'replace', items: [{ path: './Ext/Rewind/Blob', format: 'b64', value: base64Encode(value) }] },
      { id: 'small', kind: 'get', paths: ['./DevDetail/FwV'] },
    ]);
    let step = h.open({ maxMsgSize: 64 * 1024 });
    const parts: (string | Uint8Array)[] = [];
    let size: number | undefined;
    let getWithLastChunk = false;
    for (let i = 0; i < 100; i++) {
      expect(step.bytes.length).toBeLessThanOrEqual(64 * 1024);
      const hasGet = nonStatus(step.reply).some((c) => c.kind === 'Get');
      const chunk = nonStatus(step.reply).find((c) => c.kind === 'Replace') as Replace | undefined;
      if (!chunk) break;
      const item = chunk.items[0]!;
      parts.push(item.data as string | Uint8Array);
      if (parts.length === 1) size = item.meta?.size;
      else expect(item.meta?.size).toBeUndefined();
      if (item.moreData) {
        // Nothing else while the object is in flight; no Final.
        expect(nonStatus(step.reply)).toHaveLength(1);
        expect(step.reply.body.final).toBe(false);
      }
      expect(hasGet).toBe(!item.moreData);
      getWithLastChunk = hasGet;
      step = h.send(h.msg(h.statuses(step.reply, {}, i === 0 ? 212 : 200)));
      if (!item.moreData) break;
    }
    expect(parts.length).toBeGreaterThan(20);
    const transmitted = parts.map((p) => (typeof p === 'string' ? utf8Encode(p) : p));
    const total = transmitted.reduce((n, p) => n + p.length, 0);
    expect(size).toBe(total);
    const joined = parts.every((p) => typeof p === 'string')
      ? base64Decode((parts as string[]).join(''))
      : new Uint8Array(0);
    if (parts.every((p) => typeof p === 'string')) expect(bytesEqual(joined, value)).toBe(true);
    const ev = ofType(h.events, 'status').filter((e) => e.workId === 'big');
    expect(ev).toEqual([{ type: 'status', workId: 'big', cmd: 'Replace', path: './Ext/Rewind/Blob', status: 200 }]);
    // The Get queued behind the object went out with the last chunk, not before.
    expect(getWithLastChunk).toBe(true);
  });

  it('refuses up front a Large Object above the client MaxObjSize', () => {
    const h = new Harness(encoding);
    h.maxObjSize = 100_000;
    h.work([
      {
        id: 'huge',
        kind: 'replace',
        items: [{ path: './X', format: 'b64', value: base64Encode(randomBytes(100_001)) }],
      },
    ]);
    const p2 = h.open();
    expect(nonStatus(p2.reply)).toHaveLength(0);
    expect(ofType(p2.events, 'status')).toEqual([
      { type: 'status', workId: 'huge', cmd: 'Replace', path: './X', status: 413 },
    ]);
    expect(ofType(p2.events, 'work-done')).toEqual([{ type: 'work-done', workId: 'huge' }]);
  });

  it('receives a 2 MB Results as a Large Object: 213 per chunk, 1222, byte-exact value', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'blob', kind: 'get', paths: ['./Ext/Rewind/BR/Local/1/Data'] }]);
    const p2 = h.open();
    const get = nonStatus(p2.reply)[0]!;
    const value = randomBytes(2 * 1024 * 1024);
    const data = base64Encode(value);
    const chunkSize = 256 * 1024; // multiple of 4
    const chunks: string[] = [];
    for (let o = 0; o < data.length; o += chunkSize) chunks.push(data.slice(o, o + chunkSize));
    let step = p2;
    let ref = p2.reply.hdr.msgId;
    for (let i = 0; i < chunks.length; i++) {
      const last = i === chunks.length - 1;
      const item: Item = {
        source: { locURI: './Ext/Rewind/BR/Local/1/Data' },
        meta: { format: 'b64', type: 'application/octet-stream' },
        data: chunks[i]!,
      };
      if (i === 0) item.meta!.size = data.length;
      if (!last) item.moreData = true;
      const results: Results = {
        kind: 'Results',
        cmdId: h.id(),
        msgRef: p2.reply.hdr.msgId,
        cmdRef: get.cmdId,
        items: [item],
      };
      const cmds: Command[] =
        i === 0 ? [...h.statuses(p2.reply, {}, 212), results] : [...h.statuses(step.reply), results];
      step = h.send(h.msg(cmds, last));
      ref = step.reply.hdr.msgId;
      const st = statusOf(step.reply, results.cmdId);
      if (!last) {
        expect(st?.data).toBe('213');
        expect(step.reply.body.final).toBe(false);
        expect(nonStatus(step.reply)).toMatchObject([{ kind: 'Alert', data: '1222' }]);
        expect(ofType(step.events, 'result')).toHaveLength(0);
      } else {
        expect(st?.data).toBe('200');
        expect(step.reply.body.final).toBe(true);
      }
    }
    void ref;
    const res = ofType(h.events, 'result');
    expect(res).toHaveLength(1);
    expect(res[0]).toMatchObject({ workId: 'blob', status: 200, format: 'b64', mimeType: 'application/octet-stream' });
    expect(bytesEqual(base64Decode(res[0]!.value!), value)).toBe(true);
    expect(ofType(h.events, 'work-done')).toEqual([{ type: 'work-done', workId: 'blob' }]);
  });

  it('answers 424 when a Large Object ends short of its Size', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'blob', kind: 'get', paths: ['./Data'] }]);
    const p2 = h.open();
    const get = nonStatus(p2.reply)[0]!;
    const mk = (data: string, more: boolean, size?: number): Results => ({
      kind: 'Results',
      cmdId: h.id(),
      msgRef: p2.reply.hdr.msgId,
      cmdRef: get.cmdId,
      items: [
        {
          source: { locURI: './Data' },
          meta: { format: 'b64', ...(size ? { size } : {}) },
          data,
          ...(more ? { moreData: true } : {}),
        },
      ],
    });
    const r1 = mk('AAAA', true, 12);
    const s1 = h.send(h.msg([...h.statuses(p2.reply, {}, 212), r1], false));
    expect(statusOf(s1.reply, r1.cmdId)?.data).toBe('213');
    const r2 = mk('BBBB', false);
    const s2 = h.send(h.msg([...h.statuses(s1.reply), r2]));
    expect(statusOf(s2.reply, r2.cmdId)?.data).toBe('424');
    expect(ofType(s2.events, 'result')).toMatchObject([{ workId: 'blob', status: 424 }]);
  });

  it('sends Alert 1225 when the client starts a new object before finishing one', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'two', kind: 'get', paths: ['./A', './B'] }]);
    const p2 = h.open();
    const [ga, gb] = nonStatus(p2.reply);
    const r1: Results = {
      kind: 'Results',
      cmdId: h.id(),
      msgRef: p2.reply.hdr.msgId,
      cmdRef: ga!.cmdId,
      items: [{ source: { locURI: './A' }, meta: { format: 'chr', size: 100 }, data: 'x'.repeat(10), moreData: true }],
    };
    const s1 = h.send(h.msg([...h.statuses(p2.reply, {}, 212), r1], false));
    const r2: Results = {
      kind: 'Results',
      cmdId: h.id(),
      msgRef: p2.reply.hdr.msgId,
      cmdRef: gb!.cmdId,
      items: [{ source: { locURI: './B' }, meta: { format: 'chr' }, data: 'whole' }],
    };
    const s2 = h.send(h.msg([...h.statuses(s1.reply), r2]));
    const alert = nonStatus(s2.reply).find((c): c is Alert => c.kind === 'Alert' && c.data === '1225');
    expect(alert?.items[0]?.source?.locURI).toBe('./A');
    const res = ofType(s2.events, 'result');
    expect(res.find((r) => r.path === './A')?.status).toBe(412);
    expect(text(res.find((r) => r.path === './B')?.value)).toBe('whole');
  });

  it('ends on the client Alert 1223, reporting unanswered work with status 0', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    h.open();
    h.work([{ id: 'later', kind: 'delete', paths: ['./Y'] }]);
    const abort: Alert = { kind: 'Alert', cmdId: h.id(), data: '1223', items: [] };
    const step = h.send(h.msg([abort]));
    expect(step.done).toBe(true);
    expect(statusOf(step.reply, abort.cmdId)?.data).toBe('200');
    expect(nonStatus(step.reply)).toHaveLength(0);
    expect(ofType(step.events, 'session-end')).toEqual([{ type: 'session-end', reason: 'client-abort' }]);
    expect(ofType(step.events, 'result')).toMatchObject([{ workId: 'g', path: './X', status: 0 }]);
    expect(ofType(step.events, 'status')).toMatchObject([{ workId: 'later', status: 0 }]);
    expect(
      ofType(step.events, 'work-done')
        .map((e) => e.workId)
        .sort(),
    ).toEqual(['g', 'later']);
  });

  it('sends again, with its new nonce, the commands a client refused along with our credentials', () => {
    const h = new Harness(encoding);
    h.work([
      { id: 'g', kind: 'get', paths: ['./DevDetail/FwV'] },
      { id: 'r', kind: 'replace', items: [{ path: './Big', format: 'bin', value: b64('x'.repeat(40_000)) }] },
    ]);
    const p2 = h.open({ maxMsgSize: 4096 });
    expect(p2.reply.hdr.cred).toBeDefined();
    const firstGet = nonStatus(p2.reply).find((c) => c.kind === 'Get');
    expect(firstGet).toBeDefined();
    // The client refuses our credentials: only its SyncHdr status, 401 with a Chal, nothing else answered.
    const refusal = h.statuses(p2.reply, {}, 401).slice(0, 1);
    refusal[0]!.chal = { meta: { type: 'syncml:auth-md5', format: 'b64', nextNonce: b64('client picks a new nonce') } };
    const p3 = h.send(h.msg(refusal));
    expect(h.auth.serverNonce).toBe(b64('client picks a new nonce'));
    expect(p3.done).toBe(false);
    expect(verifyCred(p3.reply.hdr.cred, 'md5', h.auth.server, nonceBytes(b64('client picks a new nonce')))).toBe(true);
    const again = nonStatus(p3.reply);
    expect(again.find((c) => c.kind === 'Get')).toMatchObject({ items: [{ target: { locURI: './DevDetail/FwV' } }] });
    // The Large Object starts again from its first byte.
    const chunk = again.find((c) => c.kind === 'Replace') as Replace | undefined;
    expect(chunk?.items[0]?.meta?.size).toBe(encoding === 'xml' ? 53_336 : 40_000); // XML carries bin as base64
    expect(ofType(p3.events, 'result')).toEqual([]);
  });

  it('aborts from our side with Alert 1223', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    h.state = json(abortSession(h.state));
    const step = h.send(h.msg(h.statuses(p2.reply, {}, 212)));
    expect(step.done).toBe(true);
    expect(nonStatus(step.reply)).toMatchObject([{ kind: 'Alert', data: '1223' }]);
  });

  it('answers a client message without Final with statuses and Alert 1222, holding commands back', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const m1 = h.pkg1();
    m1.body.final = false;
    const s1 = h.send(m1);
    expect(nonStatus(s1.reply)).toMatchObject([{ kind: 'Alert', data: '1222' }]);
    expect(s1.reply.body.final).toBe(false);
    const ga: Alert = {
      kind: 'Alert',
      cmdId: h.id(),
      data: '1226',
      correlator: 'corr-1',
      items: [
        {
          source: { locURI: './FUMO/Update' },
          meta: { type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest', format: 'chr', mark: 'critical' },
          data: '200',
        },
      ],
    };
    const s2 = h.send(h.msg([...h.statuses(s1.reply), ga]));
    expect(statusOf(s2.reply, ga.cmdId)?.data).toBe('200');
    expect(ofType(s2.events, 'generic-alert')).toEqual([
      {
        type: 'generic-alert',
        correlator: 'corr-1',
        items: [
          {
            source: './FUMO/Update',
            type: 'org.openmobilealliance.dm.firmwareupdate.devicerequest',
            format: 'chr',
            mark: 'critical',
            data: '200',
          },
        ],
      },
    ]);
    expect(nonStatus(s2.reply)).toMatchObject([{ kind: 'Get' }]);
    expect(s2.reply.body.final).toBe(true);
  });

  it('keeps sending while the client answers a non-final message with statuses and 1222', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'many', kind: 'get', paths: Array.from({ length: 120 }, (_, i) => `./Node/${i}`) }]);
    let step = h.open({ maxMsgSize: 2048 });
    let sent = nonStatus(step.reply).length;
    for (let i = 0; i < 50 && !step.reply.body.final; i++) {
      const more: Alert = { kind: 'Alert', cmdId: h.id(), data: '1222', items: [] };
      step = h.send({
        hdr: h.hdr(),
        body: { commands: [...h.statuses(step.reply, { Get: 404 }, i === 0 ? 212 : 200), more], final: false },
      });
      sent += nonStatus(step.reply).filter((c) => c.kind === 'Get').length;
    }
    expect(sent).toBe(120);
    expect(step.reply.body.final).toBe(true);
  });

  it('starts a server-initiated session (Alert 1200)', () => {
    const h = new Harness(encoding, {}, {}, '4711');
    const p2 = h.send(h.pkg1({ alert: '1200' }));
    expect(ofType(p2.events, 'session-start')).toEqual([{ type: 'session-start', initiator: 'server', alert: '1200' }]);
    expect(p2.reply.hdr.sessionId).toBe('4711');
  });

  it('adopts the client NextNonce and resends credentials when it challenges us', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    const st = h.statuses(p2.reply, { Get: 404 }, 401);
    st[0]!.chal = makeChal('md5', b64('client says use this'));
    const p4 = h.send(h.msg(st));
    expect(h.auth.serverNonce).toBe(b64('client says use this'));
    expect(verifyCred(p4.reply.hdr.cred, 'md5', h.auth.server, nonceBytes(b64('client says use this')))).toBe(true);
  });

  it('reports the scheme a client asks for in the Chal of its refusal, and authenticates with it from then on', () => {
    // A basic user name has no ':' (the DevId has one).
    const h = new Harness(encoding, {
      clientScheme: 'basic',
      client: { user: 'handset', password: 'client-secret' },
      serverScheme: 'basic',
    });
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    expect(p2.reply.hdr.cred?.meta?.type).toBe('syncml:auth-basic');
    // The handset checks the server with MD5 (its DMAcc AppAuth says so): 401, Chal auth-md5.
    const st = h.statuses(p2.reply, {}, 401).slice(0, 1);
    st[0]!.chal = makeChal('md5', b64('md5 from now on'));
    const p4 = h.send(h.msg(st));
    expect(p4.askedScheme).toBe('md5');
    expect(h.auth.serverNonce).toBe(b64('md5 from now on'));
    expect(p4.reply.hdr.cred?.meta?.type).toBe('syncml:auth-md5');
    expect(verifyCred(p4.reply.hdr.cred, 'md5', h.auth.server, nonceBytes(b64('md5 from now on')))).toBe(true);
    // The refused Get goes again with the credentials the handset can check.
    expect(nonStatus(p4.reply)).toMatchObject([{ kind: 'Get', items: [{ target: { locURI: './X' } }] }]);
    // Accepted now: the same scheme again asks for nothing.
    const p6 = h.send(h.msg(h.statuses(p4.reply, { Get: 404 }, 212)));
    expect(p6.askedScheme).toBeUndefined();
    expect(p6.reply.hdr.cred).toBeUndefined();
  });

  it('reports a request for HMAC and signs instead of sending a Cred', () => {
    const h = new Harness(encoding, { serverScheme: 'md5' });
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    const st = h.statuses(p2.reply, {}, 407).slice(0, 1);
    st[0]!.chal = { meta: { type: 'syncml:auth-mac', format: 'b64', nextNonce: b64('mac nonce') } };
    const p4 = h.send(h.msg(st));
    expect(p4.askedScheme).toBe('hmac');
    expect(p4.reply.hdr.cred).toBeUndefined();
    expect(verifyHmac(p4.hmac!, h.auth.server, nonceBytes(b64('mac nonce')), p4.bytes)).toBe(true);
  });

  it('takes only the nonce from a Chal that rides on an acceptance, and ignores a Chal of an unknown scheme', () => {
    const h = new Harness(encoding, { serverScheme: 'md5' });
    h.work([{ id: 'g', kind: 'get', paths: ['./X', './Y'] }]);
    const p2 = h.open({ maxMsgSize: 1024 });
    const ok = h.statuses(p2.reply, { Get: 404 }, 212);
    ok[0]!.chal = makeChal('basic', b64('next'));
    const p4 = h.send(h.msg(ok));
    expect(p4.askedScheme).toBeUndefined();
    expect(h.auth.serverNonce).toBe(b64('next'));

    const g = new Harness(encoding, { serverScheme: 'md5' });
    g.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const q2 = g.open();
    const refused = g.statuses(q2.reply, {}, 401).slice(0, 1);
    refused[0]!.chal = { meta: { type: 'syncml:auth-x509', nextNonce: b64('n2') } };
    const q4 = g.send(g.msg(refused));
    expect(q4.askedScheme).toBeUndefined();
    expect(
      ofType(q4.events, 'protocol-error')
        .map((e) => e.detail)
        .join(),
    ).toMatch(/unknown scheme "syncml:auth-x509"/);
    expect(verifyCred(q4.reply.hdr.cred, 'md5', g.auth.server, nonceBytes(b64('n2')))).toBe(true);
  });

  it('ends the session with Alert 1223 when the caller refuses the scheme asked for', () => {
    const h = new Harness(encoding, { serverScheme: 'md5' });
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    const st = h.statuses(p2.reply, {}, 401).slice(0, 1);
    st[0]!.chal = makeChal('basic', b64('n'));
    const msg = h.msg(st);
    const body = encodeMessage(msg, encoding);
    const r = receive(json(h.state), { message: decodeMessage(body, encoding), rawBody: body }, { ...h.auth }, 0);
    expect(r.authUpdate?.serverScheme).toBe('basic');
    const out = respond(abortSession(json(r.state), 'server-auth-refused'), { ...h.auth });
    expect(out.done).toBe(true);
    expect(out.message!.body.final).toBe(true);
    expect(nonStatus(out.message!)).toMatchObject([{ kind: 'Alert', data: '1223' }]);
    expect(ofType([...r.events, ...out.events], 'session-end')).toEqual([
      { type: 'session-end', reason: 'server-auth-refused' },
    ]);
    // The Get the handset refused unexecuted is reported unanswered, not lost.
    expect(ofType(out.events, 'work-done')).toEqual([{ type: 'work-done', workId: 'g' }]);
  });

  it('survives hostile input: unknown statuses, duplicate CmdIDs, MsgID going back, client commands', () => {
    const h = new Harness(encoding);
    h.work([{ id: 'g', kind: 'get', paths: ['./X'] }]);
    const p2 = h.open();
    h.msgId = 0; // MsgID goes back to 1
    const dupA: Alert = { kind: 'Alert', cmdId: 50, data: '1224', items: [{ data: 'x' }] };
    const dupB: Alert = { kind: 'Alert', cmdId: 50, data: '1224', items: [] };
    const get = { kind: 'Get' as const, cmdId: 51, items: [{ target: { locURI: './server/tree' } }] };
    const atomic = {
      kind: 'Atomic' as const,
      cmdId: 52,
      commands: [{ kind: 'Delete' as const, cmdId: 53, items: [{ target: { locURI: './x' } }] }],
    };
    const ui: Alert = { kind: 'Alert', cmdId: 54, data: '1101', items: [] };
    const unknown: Status = { kind: 'Status', cmdId: 55, msgRef: 99, cmdRef: 99, cmd: 'Replace', data: '200' };
    const garbage: Status = { kind: 'Status', cmdId: 56, msgRef: 1, cmdRef: 3, cmd: 'Get', data: 'abc' };
    const strayResults: Results = {
      kind: 'Results',
      cmdId: 57,
      msgRef: 1,
      cmdRef: 77,
      items: [{ source: { locURI: './q' }, data: 'v' }],
    };
    const step = h.send(
      h.msg([...h.statuses(p2.reply, {}, 212), dupA, dupB, get, atomic, ui, unknown, garbage, strayResults]),
    );
    expect(statusOf(step.reply, 50)?.data).toBe('200');
    expect(
      step.reply.body.commands.filter((c) => c.kind === 'Status' && c.cmdRef === 50).map((c) => (c as Status).data),
    ).toEqual(['200', '400']);
    expect(statusOf(step.reply, 51)?.data).toBe('405');
    expect(statusOf(step.reply, 52)?.data).toBe('405');
    expect(statusOf(step.reply, 53)?.data).toBe('215');
    expect(statusOf(step.reply, 54)?.data).toBe('405');
    expect(statusOf(step.reply, 57)?.data).toBe('200');
    const errors = ofType(step.events, 'protocol-error')
      .map((e) => e.detail)
      .join('\n');
    expect(errors).toMatch(/MsgID/);
    expect(errors).toMatch(/duplicate CmdID 50/);
    expect(errors).toMatch(/unknown command 99:99/);
    expect(errors).toMatch(/Status with data/);
    expect(ofType(step.events, 'client-alert')).toEqual([
      { type: 'client-alert', code: '1224', items: [{ data: 'x' }] },
    ]);
  });

  it('aborts the session after too many messages', () => {
    const h = new Harness(encoding, {}, { maxMessages: 3 });
    h.work([{ id: 'g', kind: 'get', paths: Array.from({ length: 200 }, (_, i) => `./N/${i}`) }]);
    let step = h.open({ maxMsgSize: 1024 });
    for (let i = 0; i < 5 && !step.done; i++)
      step = h.send(h.msg(h.statuses(step.reply, { Get: 404 }, i === 0 ? 212 : 200)));
    expect(step.done).toBe(true);
    expect(nonStatus(step.reply)).toMatchObject([{ kind: 'Alert', data: '1223' }]);
    expect(ofType(h.events, 'session-end')).toEqual([{ type: 'session-end', reason: 'limit' }]);
  });
});

describe('rejectUnknownDevice', () => {
  it('looks exactly like a wrong password', () => {
    const msg: SyncMLMessage = {
      hdr: {
        verDTD: '1.2',
        verProto: 'DM/1.2',
        sessionId: '9',
        msgId: 1,
        target: { locURI: SERVER },
        source: { locURI: 'IMEI:1' },
        cred: { meta: { type: 'syncml:auth-md5' }, data: 'AAAA' },
      },
      body: { commands: [], final: true },
    };
    const r = rejectUnknownDevice(msg, b64('n'));
    expect(r.body.commands).toMatchObject([
      { kind: 'Status', cmdRef: 0, data: '401', chal: { meta: { nextNonce: b64('n') } } },
    ]);
    expect(r.hdr.target.locURI).toBe('IMEI:1');
    delete msg.hdr.cred;
    expect((rejectUnknownDevice(msg, b64('n')).body.commands[0] as Status).data).toBe('407');
  });
});

describe('enqueueWork', () => {
  it('reports invalid work as failed instead of throwing', () => {
    const st = enqueueWork(
      newServerSession(
        { serverId: SERVER, maxMsgSize: 8192, maxObjSize: 1 << 20 },
        { devId: DEV, sessionId: '1', encoding: 'xml' },
      ),
      [
        { id: 'bad', kind: 'get', paths: [] },
        { id: 'bad2', kind: 'ui', code: '1199' as '1100', text: 'x' },
      ],
    );
    expect(st.pendingEvents.filter((e) => e.type === 'work-done')).toHaveLength(2);
    expect(JSON.parse(JSON.stringify(st))).toEqual(st);
  });
});
