/**
 * No credential reaches the log. The process logger is the real one (lib/core/log.ts, its
 * redaction and scrubbing) at trace level, writing into memory, while real traffic runs:
 * DM sessions over HTTP with basic, MD5 and HMAC (a wrong client secret, a wrong server
 * secret, a storage failure mid-session), DS syncs with basic and MD5 (and a wrong
 * password), sign-ins that fail and succeed, a session cookie, API calls with a good and a
 * bad token and one whose insert fails, user creation. Every secret involved — passwords,
 * derived MD5 keys (the HMAC key too), basic credentials, nonces, tokens and their hashes,
 * the cookie and its hash, password hashes — is then looked for in every line. The CLI is
 * run too, with LOG_LEVEL=debug, and must not echo the passwords it was given.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type * as ReactModule from 'react';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isPg, type Db } from '@/db/client';
import { exec, row, rows } from '@/db/sql';
import type * as LogModule from '@/lib/core/log';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getDsAccountByUser } from '@/db/queries/ds';
import { authenticate, createUser } from '@/lib/auth/users';
import { provisionDevice } from '@/lib/devices/devices';
import { addDsAccount } from '@/lib/ds/accounts';
import { openFleet } from '@/sim/fleet';
import type { VirtualHandset } from '@/sim/handset';
import { runDsSession, type DsClientConfig } from '@/sim/ds-client';
import { generatedHandsetDs } from '@/sim/ds-store';
import { httpTransport } from '@/sim/transport';
import { provisionFleet } from '@/sim/provision';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { basicCredential, md5Derived, type AuthScheme } from '@/lib/omadm/auth';
import { dmAccPaths } from '@/lib/omadm/mo/dmacc';
import { createApiToken, hashToken } from '@/lib/auth/tokens';
import { createSession, sessionIdOf, getViewer, SESSION_COOKIE } from '@/lib/server/session';
import { GET as listDevicesRoute, POST as provisionRoute } from '@/app/api/v1/devices/route';
import { documentChecker } from '@/test/support/api-contract';

const captured = vi.hoisted(() => ({ lines: [] as string[], cookies: new Map<string, string>() }));

// The real logger, only writing into memory and at every level.
vi.mock('@/lib/core/log', async (orig) => {
  const real = await orig<typeof LogModule>();
  return {
    ...real,
    log: real.createLogger({
      level: 'trace',
      destination: {
        write: (s: string) => {
          captured.lines.push(s);
        },
      },
    }),
  };
});
// A browser's cookie jar for createSession and getViewer outside Next's request scope.
vi.mock('next/headers', () => ({
  cookies: async () => ({
    get: (name: string) => (captured.cookies.has(name) ? { name, value: captured.cookies.get(name)! } : undefined),
    set: (name: string, value: string) => {
      captured.cookies.set(name, value);
    },
    delete: (o: { name: string }) => {
      captured.cookies.delete(o.name);
    },
  }),
  headers: async () => new Headers({ host: '127.0.0.1' }),
}));
vi.mock('react', async (orig) => ({ ...(await orig<typeof ReactModule>()), cache: <T>(fn: T) => fn }));

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let srv: TestServer;
let stateDir: string;
const secrets = new Set<string>();
const keep = (...values: Array<string | null | undefined>) => {
  for (const v of values) if (v && v.length >= 6) secrets.add(v);
};

/** Whatever secrets the database now holds: the derived keys, nonces, hashes. */
async function keepStored(): Promise<void> {
  const db = srv.ctx.db;
  for (const r of await rows<Record<string, string | null>>(
    db,
    sql`select client_password, server_password, client_nonce, server_nonce from devices`,
  ))
    keep(...Object.values(r));
  for (const r of await rows<Record<string, string>>(db, sql`select derived, nonce from ds_accounts`))
    keep(...Object.values(r));
  for (const r of await rows<Record<string, string>>(db, sql`select token_hash from api_tokens`))
    keep(...Object.values(r));
  for (const r of await rows<Record<string, string>>(db, sql`select password_hash from users`))
    keep(...Object.values(r));
  for (const r of await rows<Record<string, string>>(db, sql`select id from web_sessions`)) keep(...Object.values(r));
}

/**
 * A trigger on devices that refuses the write `event` names, as a failing disk would: SQLite's
 * raise(abort), or a PostgreSQL function that raises. Returns what drops it again.
 */
async function failWrites(db: Db, name: string, event: string): Promise<() => Promise<void>> {
  if (isPg(db)) {
    await exec(
      db,
      sql.raw(
        `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'simulated storage failure'; end $$`,
      ),
    );
    await exec(db, sql.raw(`create trigger ${name} ${event} on devices for each row execute function ${name}()`));
    return async () => {
      await exec(db, sql.raw(`drop trigger ${name} on devices`));
      await exec(db, sql.raw(`drop function ${name}()`));
    };
  }
  await exec(
    db,
    sql.raw(
      `create temp trigger ${name} ${event} on devices begin select raise(abort, 'simulated storage failure'); end`,
    ),
  );
  return async () => {
    await exec(db, sql.raw(`drop trigger ${name}`));
  };
}

function keepHandset(h: VirtualHandset): void {
  const id = h.identity;
  keep(
    id.clientPassword,
    id.serverPassword,
    md5Derived(id.clientUser, id.clientPassword),
    md5Derived(id.serverId, id.serverPassword),
    basicCredential(id.clientUser, id.clientPassword),
    basicCredential(id.serverId, id.serverPassword),
    h.state.nonces.clientNonce,
    h.state.nonces.serverNonce,
    id.initialNonces.clientNonce,
    id.initialNonces.serverNonce,
  );
}

beforeAll(async () => {
  srv = await startTestServer();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-nosecrets-'));
});

afterAll(async () => {
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

async function dmTraffic(): Promise<void> {
  const db = srv.ctx.db;
  const fleets = (['basic', 'md5', 'hmac'] as AuthScheme[]).map((auth, i) =>
    openFleet({
      server: srv.dmUrl,
      devices: 1,
      stateDir: path.join(stateDir, auth),
      encoding: i % 2 ? 'wbxml' : 'xml',
      auth,
      mediaScale: 0.01,
      seed: 9100 + i,
    }),
  );
  const handsets = fleets.flat();
  await provisionFleet(
    db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    { inprocPush: true },
  );
  for (const h of handsets) {
    keepHandset(h);
    const s = await h.connect({ initiator: 'client' });
    expect(s?.ok, `${h.identity.clientScheme}: ${s?.error?.message}`).toBe(true);
    keepHandset(h);
  }
  // Wrong credentials both ways: the handset's own secret, then the one it expects of the server.
  for (const level of ['CLCRED', 'SRVCRED'] as const) {
    for (const h of handsets) {
      const secretPath = dmAccPaths(h.identity.account).auth(level).AAuthSecret;
      const good = h.tree.read(secretPath)!;
      h.tree.set(secretPath, `wrong ${level} secret of ${h.devId}`);
      keep(h.tree.text(secretPath));
      const s = await h.connect({ initiator: 'client' });
      expect(s?.ok).toBe(false);
      h.tree.set(secretPath, good);
      keepHandset(h);
      await keepStored();
    }
  }
  // A storage failure while the server keeps the next nonce: the request fails and is logged, with its query.
  const restoreNonces = await failWrites(db, 'fail_nonce', 'before update of client_nonce');
  const broken = await handsets[1]!.connect({ initiator: 'client' });
  await restoreNonces();
  expect(broken?.ok).toBe(false);
  keepHandset(handsets[1]!);
  // An unknown handset, so the gateway has something ordinary to say too.
  const stray = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir: path.join(stateDir, 'stray'),
    auth: 'md5',
    mediaScale: 0.01,
    seed: 9199,
  })[0]!;
  keepHandset(stray);
  expect((await stray.connect({ initiator: 'client' }))?.ok).toBe(false);
  for (const h of handsets) await h.connect({ initiator: 'client' });
  for (const h of handsets) keepHandset(h);
}

async function dsTraffic(): Promise<void> {
  const DEV = 'IMEI:356938035643817';
  await provisionDevice(srv.ctx.db, {
    devId: DEV,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'ds-dm-user',
    clientPass: 'dm pass of the ds handset',
    serverPass: 'server pass of the ds handset',
  });
  keep('dm pass of the ds handset', 'server pass of the ds handset');
  const url = `http://127.0.0.1:${srv.server.port}/ds`;
  for (const [user, pass, auth] of [
    ['ds-basic', 'ds basic s3cret', 'basic'],
    ['ds-md5', 'ds md5 s3cret', 'md5'],
  ] as const) {
    await addDsAccount(srv.ctx.db, { devId: DEV, user, pass, auth });
    keep(pass, md5Derived(user, pass), basicCredential(user, pass));
    const cfg = (password: string): DsClientConfig => ({
      serverUrl: url,
      user,
      password,
      scheme: auth,
      devId: DEV,
      man: 'Nimbus Mobile',
      mod: 'N1',
      swV: '4.2',
      encoding: auth === 'md5' ? 'wbxml' : 'xml',
      maxMsgSize: 64 * 1024,
      stores: ['contacts', 'calendar'],
      syncType: 'slow',
      transport: httpTransport,
    });
    const ok = await runDsSession(cfg(pass), generatedHandsetDs(3, 'nimbus-n1'));
    expect(ok.ok, `${auth}: ${JSON.stringify(ok.error ?? '')}`).toBe(true);
    keep((await getDsAccountByUser(srv.ctx.db, user))!.nonce);
    const wrong = `wrong ds password for ${user}`;
    keep(wrong, md5Derived(user, wrong), basicCredential(user, wrong));
    expect((await runDsSession(cfg(wrong), generatedHandsetDs(3, 'nimbus-n1'))).ok).toBe(false);
    keep((await getDsAccountByUser(srv.ctx.db, user))!.nonce);
  }
}

async function consoleAndApiTraffic(): Promise<void> {
  const db = srv.ctx.db;
  const password = 'the admin password of this test';
  const user = await createUser(db, { email: 'logs@rewind.test', password, role: 'admin' });
  keep(password, 'a wrong password of this test');
  expect((await authenticate(db, 'logs@rewind.test', 'a wrong password of this test')).ok).toBe(false);
  expect((await authenticate(db, 'logs@rewind.test', password)).ok).toBe(true);
  await createSession(user.id);
  const cookie = captured.cookies.get(SESSION_COOKIE)!;
  keep(cookie, sessionIdOf(cookie));
  expect((await getViewer())?.email).toBe('logs@rewind.test');

  const { token } = await createApiToken(db, 'admin', 'log test');
  const badToken = 'rwd_thisIsNotAValidTokenAtAll0123456789';
  keep(token, hashToken(token), badToken, hashToken(badToken));
  // Every answer checked against the OpenAPI document, as in the API's own tests.
  const conformsToDocument = documentChecker([
    [listDevicesRoute, 'GET /devices'],
    [provisionRoute, 'POST /devices'],
  ]);
  const call = async (handler: typeof listDevicesRoute, method: string, auth: string, body?: unknown) => {
    const res = await handler(
      new Request('http://127.0.0.1/api/v1/devices', {
        method,
        headers: { authorization: `Bearer ${auth}`, 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }),
      { params: Promise.resolve({}) as Promise<never> },
    );
    conformsToDocument(handler, res.status, await res.clone().json(), true, body);
    return res;
  };
  expect((await call(listDevicesRoute, 'GET', token)).status).toBe(200);
  expect((await call(listDevicesRoute, 'GET', badToken)).status).toBe(401);
  // A provisioning whose insert fails: a 500, and the failed query (its parameters are the passwords) in the log.
  const body = {
    devId: 'IMEI:490154203237518',
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'basic',
    clientUser: 'api-user',
    clientPass: 'api client pass 42',
    serverPass: 'api server pass 42',
  };
  keep(
    body.clientPass,
    body.serverPass,
    md5Derived('rewind', body.serverPass),
    basicCredential('api-user', body.clientPass),
  );
  const restoreInserts = await failWrites(db, 'fail_insert', 'before insert');
  const failed = await call(provisionRoute, 'POST', token, body);
  await restoreInserts();
  expect(failed.status).toBe(500);
  expect((await call(provisionRoute, 'POST', token, body)).status).toBe(201);
  expect(await getDeviceByDevId(db, body.devId)).toBeDefined();
}

function cli(args: string[], stdin: string, dataDir: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['cli/rewind.ts', ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, NODE_ENV: 'production', DATA_DIR: dataDir, LOG_LEVEL: 'debug' },
      },
      (_err, stdout, stderr) => resolve({ stdout, stderr }),
    ).stdin!.end(stdin);
  });
}

describe('the log', () => {
  it('holds no credential of any DM, DS, console or API exchange, and is not empty', async () => {
    await dmTraffic();
    await dsTraffic();
    await consoleAndApiTraffic();
    await keepStored();
    const text = captured.lines.join('');
    // The test can fail: the log has lines from the gateway and the API, errors with their queries among them.
    expect(captured.lines.length).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/DM message from an unknown device/);
    expect(text).toMatch(/DS session ended/);
    expect(text).toMatch(/unhandled request error/);
    expect(text).toMatch(/api handler failed/);
    expect(secrets.size).toBeGreaterThan(40);
    const leaked = [...secrets].filter((s) => text.includes(s) || text.includes(JSON.stringify(s).slice(1, -1)));
    expect(leaked).toEqual([]);
  }, 120_000);

  it('censors the credential-bearing shapes themselves when code logs them whole by mistake', async () => {
    // Real rows and shapes: a device row, a DS account row, request headers, an error whose cause holds a row.
    const device = (await row<Record<string, unknown>>(
      srv.ctx.db,
      sql`select * from devices where client_password is not null limit 1`,
    ))!;
    const account = (await row<Record<string, unknown>>(srv.ctx.db, sql`select * from ds_accounts limit 1`))!;
    const cookie = captured.cookies.get(SESSION_COOKIE)!;
    const headers = new Headers({
      authorization: `Basic ${basicCredential('ds-basic', 'ds basic s3cret')}`,
      cookie: `${SESSION_COOKIE}=${cookie}`,
      'x-syncml-hmac': 'algorithm=MD5, username="u", mac=abcdefghijklmnop',
    });
    const failure = Object.assign(
      new Error('provisioning failed', { cause: Object.assign(new Error('constraint'), { row: device }) }),
      { account },
    );
    const before = captured.lines.length;
    const { log } = await import('@/lib/core/log');
    log.info({ device, account }, 'rows');
    log.warn({ headers, env: { REWIND_MASTER_KEY: 'master key material 0123456789', PORT: '3000' } }, 'request');
    log.error({ err: failure }, 'failed');
    log.error(failure);
    const text = captured.lines.slice(before).join('');
    expect(captured.lines.length - before).toBe(4);
    expect(text).toContain(String(device.dev_id));
    const own = [
      device.client_password,
      device.server_password,
      device.client_nonce,
      device.server_nonce,
      account.derived,
      account.nonce,
      cookie,
      'master key material 0123456789',
      'abcdefghijklmnop',
    ].filter((v): v is string => typeof v === 'string' && v.length >= 6);
    expect(own.length).toBeGreaterThanOrEqual(6);
    expect(own.filter((v) => text.includes(v))).toEqual([]);
    expect(text).not.toContain(basicCredential('ds-basic', 'ds basic s3cret'));
  });

  it('of the CLI, at debug level, echoes no password it was given', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-nosecrets-cli-'));
    try {
      const given = ['cli user password 77', 'cli client pass 77', 'cli server pass 77', 'cli ds pass 77'];
      const runs = [
        await cli(['user', 'add', '--email', 'cli@rewind.test', '--role', 'admin'], `${given[0]}\n`, dataDir),
        await cli(
          [
            'device',
            'add',
            '--dev-id',
            'IMEI:356938035643809',
            '--manufacturer',
            'Nimbus',
            '--model',
            'N1',
            '--server-id',
            'rewind',
            '--auth',
            'md5',
            '--client-user',
            'cli-user',
            '--client-pass',
            given[1]!,
            '--server-pass',
            given[2]!,
          ],
          '',
          dataDir,
        ),
        await cli(
          ['ds-account', 'add', '--dev-id', 'IMEI:356938035643809', '--user', 'cli-ds', '--pass', given[3]!],
          '',
          dataDir,
        ),
      ];
      const out = runs.map((r) => r.stdout + r.stderr).join('\n');
      expect(out).toMatch(/cli@rewind\.test/);
      expect(out).toMatch(/cli-ds/);
      const derived = [
        md5Derived('cli-user', given[1]!),
        md5Derived('rewind', given[2]!),
        md5Derived('cli-ds', given[3]!),
      ];
      expect([...given, ...derived].filter((s) => out.includes(s))).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
