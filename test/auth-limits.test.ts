/**
 * The failed-authentication limits of the console's sign-in action and of the REST API's
 * bearer tokens. The API is reached over real HTTP through the node:http front, which
 * stamps the client address (a route handler stands in for Next behind it); the sign-in
 * action reads the same header through next/headers.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Session from '@/lib/server/session';
import { startServer, type NodeHandler, type RunningServer } from '@/server';
import { resetEnvCache } from '@/lib/core/env';
import { refusalCounts, resetAuthGates } from '@/lib/auth/limits';
import { CLIENT_IP_HEADER } from '@/lib/core/client-address';
import { createApiToken } from '@/lib/auth/tokens';
import { createUser, lockedMessage, WRONG_CREDENTIALS } from '@/lib/auth/users';
import { auditEvents } from '@/db/schema';
import { tempContext, type TempContext } from './support/as-viewer';
import * as devicesRoute from '@/app/api/v1/devices/route';
import { documentChecker } from './support/api-contract';

const requestHeaders = vi.hoisted(() => ({ current: new Headers() }));
vi.mock('next/headers', () => ({
  headers: async () => requestHeaders.current,
  cookies: async () => ({ get: () => undefined, set: () => undefined }),
}));
vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  createSession: async () => undefined,
}));

const { signInAction } = await import('@/app/(auth)/sign-in/actions');

// The defaults: 20 failures per address, 5 per identity (email, token) at an address, in 10 minutes.
const LIMIT = 20;
const PER_ID = 5;
let t: TempContext;
let admin: string;

beforeAll(async () => {
  process.env.AUTH_RATE_LIMIT = String(LIMIT);
  resetEnvCache();
  resetAuthGates();
  t = await tempContext('rewind-limits-');
  admin = (await createApiToken(t.ctx.db, 'admin', 'limits test')).token;
});

afterAll(async () => {
  await t?.close();
  delete process.env.AUTH_RATE_LIMIT;
  delete process.env.TRUST_PROXY;
  resetEnvCache();
  resetAuthGates();
});

/** What Next would do for GET /api/v1/devices: a Fetch Request with the headers the front passes on. */
const devicesHandler: NodeHandler = async (req, res) => {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
  const r = await devicesRoute.GET(new Request(new URL(req.url ?? '/', 'http://127.0.0.1'), { headers }), {
    params: Promise.resolve({}),
  });
  const bytes = Buffer.from(await r.arrayBuffer());
  conformsToDocument(devicesRoute.GET, r.status, JSON.parse(bytes.toString('utf8')), true, undefined);
  res.writeHead(r.status, Object.fromEntries(r.headers));
  res.end(bytes);
};

/** Every answer checked against the OpenAPI document. */
const conformsToDocument = documentChecker([[devicesRoute.GET, 'GET /devices']]);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: { error?: { code: string; message: string } };
}

function get(server: RunningServer, from: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: server.port, path: '/api/v1/devices', localAddress: from, agent: false, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            json: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Answer['json'],
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const bad = { authorization: 'Bearer rw_not-a-token-we-ever-issued' };

function expect429(a: Answer, what: 'this bad token' | 'bad tokens'): void {
  expect(a.status).toBe(429);
  expect(Number(a.headers['retry-after'])).toBeGreaterThan(590);
  expect(a.json.error?.code).toBe('rate-limited');
  expect(a.json.error?.message).toMatch(
    new RegExp(`^Too many requests with ${what} from this address\\. Try again in \\d+ seconds\\.$`),
  );
}

const good = () => ({ authorization: `Bearer ${admin}` });
let n = 0;
/** A token we never issued, different each time. */
const stranger = () => ({ authorization: `Bearer rw_stranger-${++n}-never-issued` });
const apiRefusals = (reason: string) =>
  refusalCounts().counts.find((c) => c.door === 'api' && c.reason === reason)?.count ?? 0;

describe('API bearer tokens over HTTP', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', next: { handler: devicesHandler } });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('20 bad tokens from an address, then a good token from it works; only bad tokens are refused', async () => {
    expect((await get(server, '127.0.0.2', good())).status).toBe(200);
    for (let i = 0; i < LIMIT; i++) {
      const a = await get(server, '127.0.0.2', stranger());
      expect(a.status).toBe(401);
      expect(a.json.error?.code).toBe('unauthorized');
    }
    // The address is over its limit: a bad token is looked up, then refused ...
    expect429(await get(server, '127.0.0.2', stranger()), 'bad tokens');
    expect429(await get(server, '127.0.0.2', bad), 'bad tokens');
    // ... and a good token from the same address is never refused.
    expect((await get(server, '127.0.0.2', good())).status).toBe(200);
    // A client cannot choose the address it is counted under.
    expect429(
      await get(server, '127.0.0.2', {
        ...stranger(),
        [CLIENT_IP_HEADER]: '203.0.113.9',
        'x-forwarded-for': '203.0.113.9',
      }),
      'bad tokens',
    );
    expect(apiRefusals('address')).toBe(3);
    // Another address is not affected; no token at all is not a failure.
    expect((await get(server, '127.0.0.3', stranger())).status).toBe(401);
    for (let i = 0; i < LIMIT + 2; i++) expect((await get(server, '127.0.0.4', {})).status).toBe(401);
    expect((await get(server, '127.0.0.4', good())).status).toBe(200);
  });

  it('refuses one bad token repeated from an address before looking it up, and nothing else from there', async () => {
    for (let i = 0; i < PER_ID; i++) expect((await get(server, '127.0.0.6', bad)).status).toBe(401);
    expect429(await get(server, '127.0.0.6', bad), 'this bad token');
    expect(apiRefusals('identity')).toBe(1);
    expect((await get(server, '127.0.0.6', stranger())).status).toBe(401);
    expect((await get(server, '127.0.0.6', good())).status).toBe(200);
  });
});

describe('behind a trusted proxy (TRUST_PROXY=1)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    process.env.TRUST_PROXY = '1';
    resetEnvCache();
    resetAuthGates();
    server = await startServer({ port: 0, host: '127.0.0.1', next: { handler: devicesHandler } });
  });
  afterAll(async () => {
    await server?.close();
    delete process.env.TRUST_PROXY;
    resetEnvCache();
  });

  it('counts by the last X-Forwarded-For address, the one the proxy added', async () => {
    for (let i = 0; i < PER_ID; i++)
      expect((await get(server, '127.0.0.5', { ...bad, 'x-forwarded-for': `10.9.9.${i}, 198.51.100.7` })).status).toBe(
        401,
      );
    expect429(await get(server, '127.0.0.5', { ...bad, 'x-forwarded-for': '198.51.100.7' }), 'this bad token');
    // The proxy's own socket address is not the key: the same token from another client behind it is looked at.
    expect((await get(server, '127.0.0.5', { ...bad, 'x-forwarded-for': '198.51.100.8' })).status).toBe(401);
    expect((await get(server, '127.0.0.5', { ...good(), 'x-forwarded-for': '198.51.100.7' })).status).toBe(200);
  });
});

describe('sign-in', () => {
  beforeAll(async () => {
    resetAuthGates();
    await createUser(t.ctx.db, { email: 'ada@rewind.test', password: 'right password', role: 'admin' });
  });

  const from = (address: string) => {
    requestHeaders.current = new Headers({ [CLIENT_IP_HEADER]: address });
  };
  const signIn = (email: string, password: string) => signInAction(null, { email, password });
  const audits = async (action: string) =>
    (await t.ctx.db.select().from(auditEvents)).filter((a) => a.action === action);

  it('10 wrong passwords from one address lock the account there only: the real user signs in from another', async () => {
    from('192.0.2.10');
    for (let i = 0; i < PER_ID - 1; i++)
      expect(await signIn('ada@rewind.test', 'wrong password')).toEqual({ ok: false, error: WRONG_CREDENTIALS });
    for (let i = PER_ID - 1; i < 10; i++)
      expect(await signIn('ada@rewind.test', 'wrong password')).toEqual({ ok: false, error: lockedMessage(600) });
    // From there, the right password waits for the window too (it is not even checked) ...
    expect(await signIn('ada@rewind.test', 'right password')).toEqual({ ok: false, error: lockedMessage(600) });
    // ... but the account is not locked: its owner signs in from another address.
    from('192.0.2.11');
    await expect(signIn('ada@rewind.test', 'right password')).rejects.toMatchObject({
      digest: expect.stringContaining('NEXT_REDIRECT'),
    });
    const locked = await audits('sign-in.locked');
    expect(locked).toHaveLength(10 - PER_ID + 2);
    expect(locked[0]).toMatchObject({ actor: 'ada@rewind.test', details: JSON.stringify({ address: '192.0.2.10' }) });
    expect(await audits('sign-in.failed')).toHaveLength(PER_ID - 1);
  });

  it('gives an unknown email and a wrong password the same answers, lock-out included', async () => {
    from('192.0.2.12');
    const unknown: unknown[] = [];
    const known: unknown[] = [];
    for (let i = 0; i < PER_ID + 1; i++) unknown.push(await signIn('nobody@rewind.test', 'wrong password'));
    for (let i = 0; i < PER_ID + 1; i++) known.push(await signIn('ada@rewind.test', 'wrong password'));
    expect(unknown).toEqual(known);
    expect(known.at(-1)).toEqual({ ok: false, error: lockedMessage(600) });
  });
});
