import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessPush, PushError, RoutingPush, WebhookPush, type PushTransport } from './push';

interface Seen {
  method?: string;
  url?: string;
  headers: IncomingMessage['headers'];
  body: Uint8Array;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
/** What the fake gateway answers next, by path. */
const behaviour: Record<string, number | 'hang'> = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Uint8Array[] = [];
    req.on('data', (c: Uint8Array) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: new Uint8Array(Buffer.concat(chunks)),
      });
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const b = behaviour[path] ?? 202;
      if (b === 'hang') return; // never answer
      res.statusCode = b;
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const pkg = new Uint8Array([0xde, 0xad, 0x00, 0xbe, 0xef]);
const target = { devId: 'IMEI:35 0000/1?&x', address: 'msisdn:+447700900123' };

describe('WebhookPush', () => {
  it('POSTs the package with the notification type and the target in query and headers', async () => {
    const push = new WebhookPush({ url: `${base}/push?key=k1`, headers: { authorization: 'Bearer t' } });
    await push.push(target, pkg);
    const got = seen.at(-1)!;
    expect(got.method).toBe('POST');
    expect(got.headers['content-type']).toBe('application/vnd.syncml.notification');
    expect(got.headers.authorization).toBe('Bearer t');
    expect(got.body).toEqual(pkg);
    const q = new URL(got.url!, 'http://x').searchParams;
    expect(q.get('key')).toBe('k1');
    expect(q.get('devId')).toBe(target.devId);
    expect(q.get('address')).toBe(target.address);
    expect(decodeURIComponent(String(got.headers['x-rewind-devid']))).toBe(target.devId);
    expect(decodeURIComponent(String(got.headers['x-rewind-push-address']))).toBe(target.address);
  });

  it('non-2xx is a rejected PushError with the status', async () => {
    behaviour['/fail'] = 503;
    const push = new WebhookPush({ url: `${base}/fail` });
    const err = await push.push(target, pkg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PushError);
    expect(err).toMatchObject({ code: 'rejected', status: 503 });
    behaviour['/redir'] = 302;
    await expect(new WebhookPush({ url: `${base}/redir` }).push(target, pkg)).rejects.toBeInstanceOf(PushError);
  });

  it('times out', async () => {
    behaviour['/hang'] = 'hang';
    const push = new WebhookPush({ url: `${base}/hang`, timeoutMs: 100 });
    await expect(push.push(target, pkg)).rejects.toMatchObject({ code: 'timeout' });
  });

  it('a closed port is unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(new WebhookPush({ url: `http://127.0.0.1:${port}/` }).push(target, pkg)).rejects.toMatchObject({
      code: 'unreachable',
    });
  });

  it('refuses a non-http gateway URL', () => {
    expect(() => new WebhookPush({ url: 'file:///etc/passwd' })).toThrow(TypeError);
  });
});

describe('InProcessPush', () => {
  it('delivers a copy to the registered handler and unregisters', async () => {
    const inproc = new InProcessPush();
    const got: Uint8Array[] = [];
    const off = inproc.register('inproc:dev1', (p) => {
      got.push(p);
      p[0] = 0;
    });
    await inproc.push({ devId: 'dev1', address: 'inproc:dev1' }, pkg);
    expect(got[0]).toEqual(new Uint8Array([0, 0xad, 0x00, 0xbe, 0xef]));
    expect(pkg[0]).toBe(0xde);
    off();
    await expect(inproc.push({ devId: 'dev1', address: 'inproc:dev1' }, pkg)).rejects.toMatchObject({
      code: 'unreachable',
    });
  });

  it('an old unregister does not remove a newer handler', async () => {
    const inproc = new InProcessPush();
    const off1 = inproc.register('inproc:d', () => undefined);
    let hits = 0;
    inproc.register('inproc:d', () => {
      hits++;
    });
    off1();
    await inproc.push({ devId: 'd', address: 'inproc:d' }, pkg);
    expect(hits).toBe(1);
  });

  it('a throwing handler becomes a rejected PushError', async () => {
    const inproc = new InProcessPush();
    inproc.register('inproc:x', async () => {
      throw new Error('digest mismatch');
    });
    await expect(inproc.push({ devId: 'x', address: 'inproc:x' }, pkg)).rejects.toMatchObject({ code: 'rejected' });
  });
});

describe('RoutingPush', () => {
  it('routes inproc: to the registry and the rest to the gateway', async () => {
    const sent: string[] = [];
    const gateway: PushTransport = {
      push: async (t) => {
        sent.push(t.address);
      },
    };
    const r = new RoutingPush({ gateway });
    let inprocHits = 0;
    r.inproc.register('inproc:a', () => {
      inprocHits++;
    });
    await r.push({ devId: 'a', address: 'inproc:a' }, pkg);
    await r.push({ devId: 'b', address: 'msisdn:+1' }, pkg);
    expect(inprocHits).toBe(1);
    expect(sent).toEqual(['msisdn:+1']);
    await expect(r.push({ devId: 'c', address: 'inproc:c' }, pkg)).rejects.toMatchObject({ code: 'unreachable' });
    await expect(new RoutingPush().push({ devId: 'b', address: 'msisdn:+1' }, pkg)).rejects.toMatchObject({
      code: 'unreachable',
    });
  });

  it('works end to end with a real WebhookPush', async () => {
    const before = seen.length;
    await new RoutingPush({ gateway: new WebhookPush({ url: `${base}/push` }) }).push(target, pkg);
    expect(seen.length).toBe(before + 1);
  });
});
