/**
 * The security headers as the configuration decides them: the node:http front's own answers
 * (a path whose percent-encoding does not decode is a 400, JSON under /api, never reaching Next)
 * over real HTTP on 127.0.0.1; the proxy's Content-Security-Policy (a fresh nonce per page, a
 * locked policy on the API, none over /media's own) and HSTS; and the session cookie's Secure
 * flag, set by an https PUBLIC_URL or a trusted proxy's X-Forwarded-Proto, never by a client's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { NextRequest } from 'next/server';
import { closeDb, type Db } from '@/db/client';
import { createPush, setContext } from '@/lib/core/context';
import { env, resetEnvCache } from '@/lib/core/env';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { createUser } from '@/lib/auth/users';
import { createSession } from '@/lib/server/session';
import { proxy } from '@/proxy';
import { startServer, type RunningServer } from '@/server';
import { testDb } from './support/db';

const jar = vi.hoisted(() => ({
  set: [] as Array<{ name: string; options: { secure?: boolean } }>,
  headers: new Headers(),
}));
vi.mock('next/headers', () => ({
  cookies: async () => ({
    get: () => undefined,
    set: (name: string, _value: string, options: { secure?: boolean }) => {
      jar.set.push({ name, options });
    },
  }),
  headers: async () => jar.headers,
}));

/** Runs `fn` with these environment variables, env() read afresh. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T> | T): Promise<T> {
  const before = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars))
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  resetEnvCache();
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    resetEnvCache();
  }
}

const PLAIN = { PUBLIC_URL: undefined, TRUST_PROXY: '0' };

describe('the node:http front', () => {
  let server: RunningServer;
  let reached: string[];

  beforeAll(async () => {
    reached = [];
    server = await withEnv(PLAIN, () =>
      startServer({
        port: 0,
        host: '127.0.0.1',
        // Stands in for Next: answers whatever reaches it.
        next: {
          handler: (req, res) => {
            reached.push(req.url ?? '');
            res.writeHead(200, { 'content-type': 'text/plain' }).end('next');
          },
        },
      }),
    );
  });
  afterAll(async () => server.close());

  const get = (p: string, headers: Record<string, string> = {}) =>
    fetch(`http://127.0.0.1:${server.port}${p}`, { headers });

  it('answers a malformed percent-encoding 400 with the security headers, before Next sees it', async () => {
    for (const p of ['/api/v1/jobs/%E0%A4%A', '/api/v1/devices/%C0%AE/snapshots']) {
      const res = await get(p);
      expect(res.status, p).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({
        error: { code: 'bad-path', message: expect.stringMatching(/percent-encoding/) },
      });
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    }
    for (const p of ['/devices/%C0%AE', '/media/%E0%A4%A', '/portal/devices/%FF', '/%']) {
      const res = await get(p);
      expect(res.status, p).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/malformed percent-encoding/);
      expect(res.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(reached).toEqual([]);
  });

  it('passes paths that decode on to Next, encoded as they came', async () => {
    const res = await get('/devices/IMEI%3A356938035643809?x=%E0');
    expect(res.status).toBe(200);
    expect(reached).toEqual(['/devices/IMEI%3A356938035643809?x=%E0']);
  });

  it('sends no HSTS without TLS configuration, whatever X-Forwarded-Proto a client sends', async () => {
    const res = await get('/%', { 'x-forwarded-proto': 'https' });
    expect(res.status).toBe(400);
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('sends HSTS on its answers when PUBLIC_URL is https', async () => {
    const tls = await withEnv({ PUBLIC_URL: 'https://rewind.example.org', TRUST_PROXY: '0' }, () =>
      startServer({ port: 0, host: '127.0.0.1', next: false }),
    );
    try {
      const res = await fetch(`http://127.0.0.1:${tls.port}/%`);
      expect(res.status).toBe(400);
      expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect((await fetch(`http://127.0.0.1:${tls.port}/nothing`)).headers.get('strict-transport-security')).toMatch(
        /^max-age=/,
      );
    } finally {
      await tls.close();
    }
  });
});

describe('the proxy', () => {
  const through = (p: string, headers: Record<string, string> = {}) =>
    proxy(new NextRequest(new URL(p, 'http://127.0.0.1:3000'), { headers }));

  it("gives each page a policy whose scripts need that request's own nonce", () =>
    withEnv(PLAIN, () => {
      const a = through('/devices/x').headers.get('content-security-policy')!;
      const b = through('/devices/x').headers.get('content-security-policy')!;
      const nonce = (csp: string) => /script-src 'self' 'nonce-([A-Za-z0-9+/=]{16,})' 'strict-dynamic'/.exec(csp)?.[1];
      expect(nonce(a)).toBeDefined();
      expect(nonce(b)).toBeDefined();
      expect(nonce(a)).not.toBe(nonce(b));
      expect(a).not.toMatch(/script-src[^;]*'unsafe-inline'/);
      expect(a).toMatch(/frame-ancestors 'none'/);
      expect(a).toMatch(/object-src 'none'/);
      // Next reads the nonce from the request's own CSP header, which the proxy sets.
      expect(through('/').headers.get('x-middleware-request-content-security-policy')).toMatch(/'nonce-/);
    }));

  it("locks the API's answers down and leaves /media's own sandboxing policy alone", () =>
    withEnv(PLAIN, () => {
      expect(through('/api/v1/devices').headers.get('content-security-policy')).toMatch(/^default-src 'none'/);
      expect(through('/media/snap-1?path=./x').headers.get('content-security-policy')).toBeNull();
    }));

  it('sends HSTS only when the configuration says TLS: never on a client X-Forwarded-Proto alone', async () => {
    const hsts = (headers: Record<string, string> = {}) =>
      through('/', headers).headers.get('strict-transport-security');
    await withEnv(PLAIN, () => {
      expect(hsts()).toBeNull();
      expect(hsts({ 'x-forwarded-proto': 'https' })).toBeNull();
    });
    await withEnv({ PUBLIC_URL: undefined, TRUST_PROXY: '1' }, () => {
      expect(hsts({ 'x-forwarded-proto': 'https' })).toMatch(/^max-age=/);
      // The proxy's own value is the last one; a client's earlier claim does not count.
      expect(hsts({ 'x-forwarded-proto': 'https, http' })).toBeNull();
      expect(hsts()).toBeNull();
    });
    await withEnv({ PUBLIC_URL: 'https://rewind.example.org', TRUST_PROXY: '0' }, () => {
      expect(hsts()).toMatch(/^max-age=/);
      expect(through('/api/v1/devices').headers.get('strict-transport-security')).toMatch(/^max-age=/);
    });
  });
});

describe('the session cookie', () => {
  let dir: string;
  let db: Db;
  let userId: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cookie-'));
    db = await testDb(dir);
    const e = { ...env(), DATA_DIR: dir, dataDir: dir };
    setContext({ db, env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) });
    userId = (await createUser(db, { email: 'cookie@rewind.test', password: 'a long enough password', role: 'admin' }))
      .id;
  });
  afterEach(() => {
    jar.set = [];
    jar.headers = new Headers();
  });
  afterAll(async () => {
    setContext(undefined);
    await closeDb(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Whether the cookie createSession sets is Secure, under this configuration and these request headers. */
  async function secureWith(config: { PUBLIC_URL?: string; TRUST_PROXY: boolean }, headers: Record<string, string>) {
    const e = { ...env(), DATA_DIR: dir, dataDir: dir, PUBLIC_URL: config.PUBLIC_URL, TRUST_PROXY: config.TRUST_PROXY };
    setContext({ db, env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) });
    jar.headers = new Headers(headers);
    jar.set = [];
    await createSession(userId);
    expect(jar.set.map((c) => c.name)).toEqual(['rewind_session']);
    return jar.set[0]!.options.secure;
  }

  it('is Secure by configuration: an https PUBLIC_URL, or https from a trusted proxy', async () => {
    expect(await secureWith({ TRUST_PROXY: false }, {})).toBe(false);
    expect(await secureWith({ TRUST_PROXY: false }, { 'x-forwarded-proto': 'https' })).toBe(false);
    expect(await secureWith({ TRUST_PROXY: true }, { 'x-forwarded-proto': 'https' })).toBe(true);
    expect(await secureWith({ TRUST_PROXY: true }, { 'x-forwarded-proto': 'http' })).toBe(false);
    expect(await secureWith({ PUBLIC_URL: 'https://rewind.example.org', TRUST_PROXY: false }, {})).toBe(true);
    expect(await secureWith({ PUBLIC_URL: 'http://rewind.example.org', TRUST_PROXY: false }, {})).toBe(false);
  });
});
