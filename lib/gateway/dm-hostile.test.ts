/**
 * POST /dm against hostile peers: real HTTP requests to the real node:http front. Every
 * case must get a clear error answer quickly, and the process must survive all of them
 * (no crash, no unhandled rejection, still answering afterwards).
 */
import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../omadm/codec/index';
import { encodeWbxml } from '../omadm/codec/wbxml';
import { messageToElement } from '../omadm/codec/syncml';
import type { XmlElement } from '../omadm/codec/element';
import { AUTH_TYPE } from '../omadm/auth';
import { MIME, StatusCode, type SyncMLMessage } from '../omadm/message';
import { DM_MAX_BODY } from './dm-http';
import { resetEnvCache } from '../core/env';
import { startTestServer, type TestServer } from '../../test/support/test-server';

const QUICK_MS = 1_000;
const HUNDRED_MB = 100 * 1024 * 1024;

let srv: TestServer;
let dm: URL;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => {
  unhandled.push(reason);
};

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  // Unknown DevIds are failed authentications: with the limits on, the later cases would get
  // 429 before the code they test (rate-limit.test.ts and auth-limits tests cover the 429s).
  process.env.AUTH_RATE_LIMIT = '0';
  resetEnvCache();
  srv = await startTestServer();
  dm = new URL(srv.dmUrl);
});

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await srv?.close();
});

/** A well-formed client-initiated DM message from a DevId the server has never seen. */
function unknownDeviceMessage(sessionId = '1'): SyncMLMessage {
  return {
    hdr: {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId,
      msgId: 1,
      target: { locURI: srv.dmUrl },
      source: { locURI: 'IMEI:000000000000000' },
      cred: { meta: { type: AUTH_TYPE.md5, format: 'b64' }, data: 'bm90IGEgcmVhbCBkaWdlc3Q=' },
      meta: { maxMsgSize: 16_384 },
    },
    body: {
      commands: [
        { kind: 'Alert', cmdId: 1, data: '1201', items: [] },
        {
          kind: 'Replace',
          cmdId: 2,
          items: [
            { source: { locURI: './DevInfo/DevId' }, data: 'IMEI:000000000000000' },
            { source: { locURI: './DevInfo/Man' }, data: 'Hostile Inc.' },
          ],
        },
      ],
      final: true,
    },
  };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  ms: number;
}

/** One request with a body we hold in memory; we pick every header ourselves. */
function request(opts: {
  method?: string;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      dm,
      { method: opts.method ?? 'POST', headers: opts.headers ?? {}, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            body: Buffer.concat(chunks),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const postXml = (body: Uint8Array | string) => request({ headers: { 'content-type': MIME.dmXml }, body });
const postWbxml = (body: Uint8Array) => request({ headers: { 'content-type': MIME.dmWbxml }, body });

interface StreamOutcome {
  status?: number;
  body?: string;
  /** Bytes of body the client had handed to the socket when the answer (or the reset) came. */
  sentWhenAnswered: number;
  error?: NodeJS.ErrnoException;
  ms: number;
}

/**
 * Streams up to `total` bytes of filler from one reused 64 KiB buffer, honouring
 * backpressure, and stops as soon as the server answers or drops the connection.
 * With `holdMs`, only the headers go out at first; the body follows after that long
 * unless the server has answered by then.
 */
function streamBody(total: number, headers: Record<string, string>, holdMs = 0): Promise<StreamOutcome> {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const started = performance.now();
  return new Promise((resolve) => {
    let sent = 0;
    let stopped = false;
    let outcome: StreamOutcome | undefined;
    const done = (o: Omit<StreamOutcome, 'ms'>) => {
      if (outcome) return;
      outcome = { ...o, ms: performance.now() - started };
      stopped = true;
      resolve(outcome);
    };
    const req = http.request(dm, { method: 'POST', headers, agent: false }, (res) => {
      const sentWhenAnswered = sent;
      stopped = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      const finish = () => {
        done({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), sentWhenAnswered });
        req.destroy(); // we will not send the rest
      };
      res.on('end', finish);
      res.on('error', finish); // the body may be cut by the close; the status is what counts
      res.on('close', finish);
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      // EPIPE / ECONNRESET once the server has answered and closed are expected: `done`
      // ignores them then. Before an answer, they are the outcome.
      done({ error, sentWhenAnswered: sent });
    });
    const pump = () => {
      while (!stopped && sent < total) {
        const n = Math.min(chunk.length, total - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
          req.once('drain', pump);
          return;
        }
      }
      if (!stopped) req.end();
    };
    if (holdMs > 0) {
      req.flushHeaders();
      setTimeout(pump, holdMs);
    } else pump();
  });
}

/** Sends raw bytes on a socket and returns whatever comes back until the server closes. */
function rawExchange(bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(dm.port), dm.hostname);
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', (e: NodeJS.ErrnoException) =>
      chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(e),
    );
    sock.setTimeout(5_000, () => {
      sock.destroy();
      reject(new Error('no answer within 5 s'));
    });
    sock.write(bytes);
  });
}

async function expectUnknownDeviceAnswer(sessionId: string, encoding: 'xml' | 'wbxml' = 'xml'): Promise<void> {
  const body = encodeMessage(unknownDeviceMessage(sessionId), encoding);
  const res = encoding === 'xml' ? await postXml(body) : await postWbxml(body);
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe(encoding === 'xml' ? MIME.dmXml : MIME.dmWbxml);
  const reply = decodeMessage(new Uint8Array(res.body), encoding);
  expect(reply.hdr.sessionId).toBe(sessionId);
  expect(reply.hdr.target.locURI).toBe('IMEI:000000000000000');
  const hdrStatus = reply.body.commands.find((c) => c.kind === 'Status' && c.cmdRef === 0);
  expect(hdrStatus).toMatchObject({ kind: 'Status', cmd: 'SyncHdr', msgRef: 1, data: String(StatusCode.Unauthorized) });
  expect(hdrStatus?.kind === 'Status' && hdrStatus.chal?.meta.nextNonce).toBeTruthy();
}

describe('POST /dm with hostile input', () => {
  it('refuses a DOCTYPE with entity declarations (billion laughs) with 400, quickly', async () => {
    const lols = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('');
    const xml =
      `<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY lol0 "lol">${lols}]>` +
      `<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>&lol9;</VerDTD></SyncHdr><SyncBody/></SyncML>`;
    const res = await postXml(xml);
    expect(res.status).toBe(400);
    expect(res.ms).toBeLessThan(QUICK_MS);
    expect(res.body.toString()).toMatch(/^forbidden-dtd: .*DOCTYPE/);
  });

  it('refuses an honest 100 MB Content-Length with 413 before reading the body', async () => {
    // The body waits 500 ms behind the headers: a server that answers from the header
    // alone does so before a single body byte is sent; one that reads the body first
    // would get all 100 MB.
    const out = await streamBody(HUNDRED_MB, { 'content-type': MIME.dmXml, 'content-length': String(HUNDRED_MB) }, 500);
    expect(out.error).toBeUndefined();
    expect(out.status).toBe(413);
    expect(out.body).toMatch(/body of 104857600 bytes exceeds the 4194304-byte limit/);
    expect(out.sentWhenAnswered).toBe(0);
    expect(out.ms).toBeLessThan(QUICK_MS);

    // Streaming at once, the client gets no further than what the socket buffers absorb
    // (several MB on loopback) before the 413, and the close stops it.
    const eager = await streamBody(HUNDRED_MB, { 'content-type': MIME.dmXml, 'content-length': String(HUNDRED_MB) });
    if (eager.status !== undefined) expect(eager.status).toBe(413);
    else expect(eager.error?.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    expect(eager.sentWhenAnswered).toBeLessThan(HUNDRED_MB / 4);
    expect(eager.ms).toBeLessThan(QUICK_MS);
    await expectUnknownDeviceAnswer('after-413-length');
  });

  it('refuses a chunked 100 MB body with 413 once 4 MiB have passed', async () => {
    const out = await streamBody(HUNDRED_MB, { 'content-type': MIME.dmXml, 'transfer-encoding': 'chunked' });
    if (out.status !== undefined) {
      expect(out.status).toBe(413);
      expect(out.body ?? '').toMatch(/^$|exceeds the 4194304-byte limit/);
    } else {
      // The server may drop the connection before the client reads the 413.
      expect(out.error?.code).toMatch(/^(ECONNRESET|EPIPE)$/);
    }
    // The server cannot have refused before the limit was passed, nor read it all.
    expect(out.sentWhenAnswered).toBeGreaterThan(DM_MAX_BODY);
    expect(out.sentWhenAnswered).toBeLessThan(HUNDRED_MB);
    await expectUnknownDeviceAnswer('after-413-chunked');
  });

  it('refuses 10,000-deep nesting inside SyncBody with 400, quickly (XML and WBXML)', async () => {
    const depth = 10_000;
    const xml =
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>' +
      '<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr>' +
      `<SyncBody>${'<Atomic>'.repeat(depth)}${'</Atomic>'.repeat(depth)}</SyncBody></SyncML>`;
    const res = await postXml(xml);
    expect(res.status).toBe(400);
    expect(res.ms).toBeLessThan(QUICK_MS);
    expect(res.body.toString()).toMatch(/^too-deep: /);

    const root = messageToElement(unknownDeviceMessage());
    let nest: XmlElement = { name: 'Atomic', children: [] };
    for (let i = 1; i < depth; i++) nest = { name: 'Atomic', children: [nest] };
    const wbxml = encodeWbxml({
      ...root,
      children: root.children.map((c) =>
        typeof c === 'object' && 'name' in c && c.name === 'SyncBody' ? { name: 'SyncBody', children: [nest] } : c,
      ),
    });
    const wres = await postWbxml(wbxml);
    expect(wres.status).toBe(400);
    expect(wres.ms).toBeLessThan(QUICK_MS);
    expect(wres.body.toString()).toMatch(/^too-deep: /);
  });

  it('refuses truncated WBXML with 400 at every cut', async () => {
    const full = encodeMessage(unknownDeviceMessage(), 'wbxml');
    expect(decodeMessage(full, 'wbxml').hdr.source.locURI).toBe('IMEI:000000000000000'); // the uncut message is valid
    const cuts = [
      ...new Set([
        1,
        4,
        6,
        Math.floor(full.length / 3),
        Math.floor(full.length / 2),
        full.length - 10,
        full.length - 2,
        full.length - 1,
      ]),
    ];
    for (const cut of cuts) {
      const res = await postWbxml(full.subarray(0, cut));
      expect(res.status, `cut at ${cut} of ${full.length}`).toBe(400);
      expect(res.body.toString(), `cut at ${cut}`).toMatch(/^(malformed|unsupported|invalid): /);
      expect(res.ms).toBeLessThan(QUICK_MS);
    }
  });

  it('refuses garbage bytes with 400 in both encodings', async () => {
    const garbage = new Uint8Array(4096);
    let x = 0x2545f491;
    for (let i = 0; i < garbage.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      garbage[i] = x & 0xff;
    }
    for (const res of [await postXml(garbage), await postWbxml(garbage), await postXml('not xml at all <<<>>>')]) {
      expect(res.status).toBe(400);
      expect(res.body.toString()).toMatch(/^(malformed|unsupported|invalid): /);
    }
  });

  it('refuses an empty body with 400 in both encodings', async () => {
    for (const res of [await postXml(''), await postWbxml(new Uint8Array(0))]) {
      expect(res.status).toBe(400);
      expect(res.body.toString()).toMatch(/^malformed: /);
    }
  });

  it('refuses a wrong or missing content type with 415', async () => {
    const body = encodeMessage(unknownDeviceMessage(), 'xml');
    const cases: Record<string, string>[] = [
      { 'content-type': 'text/xml' },
      { 'content-type': 'application/json' },
      {},
    ];
    for (const headers of cases) {
      const res = await request({ headers, body });
      expect(res.status, JSON.stringify(headers)).toBe(415);
      expect(res.body.toString()).toContain(MIME.dmXml);
    }
  });

  it('refuses GET (and other methods) with 405 and an Allow header', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const res = await request({ method });
      expect(res.status, method).toBe(405);
      expect(res.headers.allow).toBe('POST');
      expect(res.body.toString()).toMatch(/POST only/);
    }
  });

  it('refuses an invalid Content-Length with 400', async () => {
    for (const value of ['abc', '-1', '12x', '1e3', '99999999999999999999999']) {
      const answer = await rawExchange(
        `POST /dm HTTP/1.1\r\nHost: x\r\nContent-Type: ${MIME.dmXml}\r\nContent-Length: ${value}\r\n\r\n<SyncML/>`,
      );
      expect(answer, `Content-Length: ${value}`).toMatch(/^HTTP\/1\.1 400 /);
    }
    // Two conflicting lengths (request smuggling) are refused too.
    const dup = await rawExchange(
      `POST /dm HTTP/1.1\r\nHost: x\r\nContent-Type: ${MIME.dmXml}\r\nContent-Length: 3\r\nContent-Length: 9\r\n\r\nabcdefghi`,
    );
    expect(dup).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('answers every mutation of a valid WBXML message with 200, 400 or 413, never 500', async () => {
    const valid = encodeMessage(unknownDeviceMessage('fuzz'), 'wbxml');
    let x = 0x1234567;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const seen = new Map<number, number>();
    for (let i = 0; i < 200; i++) {
      const m = new Uint8Array(valid);
      for (let k = 1 + rnd(4); k > 0; k--) m[rnd(m.length)] = rnd(256);
      const res = await postWbxml(m);
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      expect([200, 400, 413], `mutation ${i}: ${Buffer.from(m).toString('hex')} -> ${res.body.toString()}`).toContain(
        res.status,
      );
    }
    expect(seen.get(400)).toBeGreaterThan(0);
  });

  it('answers a well-formed message from an unknown DevId with 200 and SyncHdr Status 401', async () => {
    await expectUnknownDeviceAnswer('unknown-xml', 'xml');
    await expectUnknownDeviceAnswer('unknown-wbxml', 'wbxml');
  });

  it('is still alive afterwards, with no unhandled rejection', async () => {
    await expectUnknownDeviceAnswer('final');
    const res = await fetch(srv.dmUrl, {
      method: 'POST',
      headers: { 'content-type': MIME.dmXml },
      body: '<!DOCTYPE x>',
    });
    expect(res.status).toBe(400);
    expect(unhandled).toEqual([]);
  });
});
