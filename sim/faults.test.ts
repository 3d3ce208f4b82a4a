import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropAt, withFaults } from './faults';
import { httpTransport, TransportError, type HttpReply, type HttpRequest, type Transport } from './transport';

function echo(): Transport & { seen: HttpRequest[] } {
  const seen: HttpRequest[] = [];
  const t = (async (req: HttpRequest): Promise<HttpReply> => {
    seen.push(req);
    return {
      status: 200,
      headers: { 'content-type': 'application/octet-stream' },
      body: req.body ? req.body.slice().reverse() : new Uint8Array([1, 2, 3]),
    };
  }) as Transport & { seen: HttpRequest[] };
  t.seen = seen;
  return t;
}

const post = (n: number): HttpRequest => ({
  method: 'POST',
  url: 'http://dm.test/dm',
  headers: {},
  body: new Uint8Array(Array.from({ length: 64 }, (_, i) => (i + n) & 0xff)),
  timeoutMs: 1000,
  maxReplyBytes: 1 << 20,
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof TransportError ? e.code : `other: ${String(e)}`;
  }
}

describe('withFaults', () => {
  it('drops the request at message N: the server never sees it', async () => {
    const inner = echo();
    const t = withFaults(inner, { rules: [dropAt(2, 'request')] });
    expect(await code(t(post(1)))).toBe('ok');
    expect(await code(t(post(2)))).toBe('dropped');
    expect(await code(t(post(3)))).toBe('ok');
    expect(inner.seen.map((r) => r.body![0])).toEqual([1, 3]);
    expect(t.count).toBe(3);
    expect(t.log).toEqual([{ message: 2, kind: 'drop-request', url: 'http://dm.test/dm' }]);
  });

  it('drops the reply at message N: the server processed it, the handset never hears back', async () => {
    const inner = echo();
    const t = withFaults(inner, { rules: [dropAt(1)] });
    expect(await code(t(post(1)))).toBe('dropped');
    expect(inner.seen).toHaveLength(1);
  });

  it('corrupts the request or the reply, same length, different bytes, reproducibly', async () => {
    const inner = echo();
    const t = withFaults(inner, {
      rules: [
        { kind: 'corrupt-request', at: 1, bytes: 4 },
        { kind: 'corrupt-reply', at: 2 },
      ],
      seed: 7,
    });
    const r1 = post(1);
    await t(r1);
    const sent = inner.seen[0]!.body!;
    expect(sent.length).toBe(r1.body!.length);
    expect(Buffer.compare(Buffer.from(sent), Buffer.from(r1.body!))).not.toBe(0);
    expect(r1.body![0]).toBe(1); // the caller's buffer is not touched
    const r2 = post(2);
    const reply = await t(r2);
    const clean = r2.body!.slice().reverse();
    expect(reply.body.length).toBe(clean.length);
    expect(Buffer.compare(Buffer.from(reply.body), Buffer.from(clean))).not.toBe(0);
    // The same seed flips the same bytes.
    const inner2 = echo();
    await withFaults(inner2, { rules: [{ kind: 'corrupt-request', at: 1, bytes: 4 }], seed: 7 })(post(1));
    expect([...inner2.seen[0]!.body!]).toEqual([...sent]);
  });

  it('times out a reply without waiting, while the server still gets the request', async () => {
    const inner = echo();
    const t = withFaults(inner, { rules: [{ kind: 'timeout', at: 'every' }] });
    const t0 = Date.now();
    expect(await code(t(post(1)))).toBe('timeout');
    expect(await code(t(post(2)))).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(500);
    expect(inner.seen).toHaveLength(2);
  });

  it('slows the link in proportion to the bytes each way', async () => {
    const slept: number[] = [];
    const t = withFaults(echo(), {
      msPerKb: 100,
      latencyMs: 5,
      sleep: async (ms) => {
        slept.push(ms);
      },
    });
    await t(post(1));
    // 64 bytes up: 5 + 6.25 ms; 64 bytes down: 6.25 ms.
    expect(slept).toEqual([11.25, 6.25]);
  });

  it('counts only POSTs unless told otherwise, and can be changed on demand', async () => {
    const t = withFaults(echo(), { rules: [dropAt(1, 'request')] });
    const get: HttpRequest = { ...post(0), method: 'GET', body: undefined };
    expect(await code(t(get))).toBe('ok');
    expect(t.count).toBe(0);
    expect(await code(t(post(1)))).toBe('dropped');
    t.clear();
    expect(await code(t(post(2)))).toBe('ok');
    t.reset();
    t.set({ rules: [dropAt(1, 'request')], countGets: true });
    expect(await code(t(get))).toBe('dropped');
  });
});

describe('httpTransport', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        return void res.end(Buffer.alloc(10_000));
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(201, { 'content-type': 'text/plain', 'X-Thing': 'y' });
        res.end(Buffer.concat(chunks).toString('utf8').toUpperCase());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('posts bytes and returns status, lower-case headers and body', async () => {
    const r = await httpTransport({
      method: 'POST',
      url: `${base}/echo`,
      headers: { 'content-type': 'text/plain' },
      body: Buffer.from('hello'),
      timeoutMs: 2000,
      maxReplyBytes: 100,
    });
    expect(r.status).toBe(201);
    expect(r.headers['x-thing']).toBe('y');
    expect(Buffer.from(r.body).toString()).toBe('HELLO');
  });

  it('times out, refuses oversize replies, and refuses non-http URLs', async () => {
    expect(
      await code(
        httpTransport({ method: 'GET', url: `${base}/slow`, headers: {}, timeoutMs: 100, maxReplyBytes: 100 }),
      ),
    ).toBe('timeout');
    expect(
      await code(
        httpTransport({ method: 'GET', url: `${base}/big`, headers: {}, timeoutMs: 2000, maxReplyBytes: 1000 }),
      ),
    ).toBe('too-large');
    expect(
      await code(
        httpTransport({ method: 'GET', url: 'file:///etc/passwd', headers: {}, timeoutMs: 100, maxReplyBytes: 100 }),
      ),
    ).toBe('bad-url');
    expect(
      await code(
        httpTransport({ method: 'GET', url: 'http://127.0.0.1:1/', headers: {}, timeoutMs: 2000, maxReplyBytes: 100 }),
      ),
    ).toBe('network');
  });

  it('sends a request again on a new connection when the pooled one was closed by the server, and only then', async () => {
    // The first connection answers one request keep-alive, then closes on the next without a
    // reply (a server closing a connection it took for idle); later connections answer each.
    let connections = 0;
    const tcp = createTcpServer((socket) => {
      const n = ++connections;
      let requests = 0;
      socket.on('data', (d) => {
        if (!d.toString('latin1').includes('\r\n\r\n')) return;
        if (n === 1 && ++requests === 2) return void socket.destroy();
        socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok');
      });
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}/`;
    const get = () => httpTransport({ method: 'GET', url, headers: {}, timeoutMs: 2000, maxReplyBytes: 100 });
    try {
      expect((await get()).status).toBe(200);
      expect((await get()).status).toBe(200);
      expect(connections).toBe(2);
    } finally {
      tcp.close();
    }
  });
});
