/**
 * API tokens' scope and expiry: a read-only token reads and is refused a write (403), an
 * expired token is refused everything (401), through the real route handlers; and the CLI
 * creates such tokens (`token create --scope --expires`), refusing a bad lifetime with exit 2.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listTokens } from '@/db/queries/tokens';
import { createPush, setContext, type AppContext } from '@/lib/core/context';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { env } from '@/lib/core/env';
import { createApiToken, parseLifetime } from '@/lib/auth/tokens';
import { resetAuthGates } from '@/lib/auth/limits';
import { provisionDevice } from '@/lib/devices/devices';
import { databaseEnv, testDb } from './support/db';
import { runCli } from './support/cli-run';
import * as devicesRoute from '@/app/api/v1/devices/route';
import * as wakeRoute from '@/app/api/v1/devices/[devId]/wake/route';

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

let dir: string;
let ctx: AppContext;
const DEV = 'IMEI:356938035600017';

function call(h: unknown, method: string, token: string, params: Record<string, string> = {}): Promise<Response> {
  const req = new Request('http://127.0.0.1/api/v1/x', { method, headers: { authorization: `Bearer ${token}` } });
  return (h as Handler)(req, { params: Promise.resolve(params) as Promise<never> });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-token-scope-'));
  const e = { ...env(), DATA_DIR: dir, dataDir: dir };
  ctx = { db: await testDb(dir), env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) };
  setContext(ctx);
  resetAuthGates();
  await provisionDevice(ctx.db, {
    devId: DEV,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('token scope and expiry', () => {
  it('a read-only token reads but may not write; a full one may', async () => {
    const read = (await createApiToken(ctx.db, 'admin', 'reader', { scope: 'read' })).token;
    const full = (await createApiToken(ctx.db, 'admin', 'writer', { scope: 'full' })).token;
    expect((await call(devicesRoute.GET, 'GET', read)).status).toBe(200);
    const refused = await call(wakeRoute.POST, 'POST', read, { devId: DEV });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('read-only-token');
    // The full token gets past the scope check to the route itself (whatever the wake answers).
    const allowed = await call(wakeRoute.POST, 'POST', full, { devId: DEV });
    expect([401, 403]).not.toContain(allowed.status);
  });

  it('an expired token is refused with 401; one still in its lifetime is not', async () => {
    const hourAgo = Date.now() - 3_600_000;
    const expired = (await createApiToken(ctx.db, 'admin', 'old', { expiresInMs: 60_000 }, hourAgo)).token;
    const alive = (await createApiToken(ctx.db, 'admin', 'new', { expiresInMs: 2 * 3_600_000 }, hourAgo)).token;
    const res = await call(devicesRoute.GET, 'GET', expired);
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('token-expired');
    expect((await call(devicesRoute.GET, 'GET', alive)).status).toBe(200);
  });

  it('reads lifetimes in days and hours only', () => {
    expect(parseLifetime('30d')).toBe(30 * 86_400_000);
    expect(parseLifetime('12h')).toBe(12 * 3_600_000);
    for (const bad of ['30', '0d', '3x', '-1d', '4000d']) expect(parseLifetime(bad)).toBeUndefined();
  });

  it('the CLI creates a read-only token that expires, and refuses bad arguments with exit 2', async () => {
    const dbEnv = databaseEnv(ctx.db);
    const ok = await runCli(
      dir,
      ['token', 'create', '--role', 'agent', '--scope', 'read', '--expires', '30d', '--name', 'cli-reader'],
      dbEnv,
    );
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^rw_/);
    const row = (await listTokens(ctx.db)).find((t) => t.name === 'cli-reader')!;
    expect(row.scope).toBe('read');
    expect(row.expiresAt! - Date.now()).toBeGreaterThan(29 * 86_400_000);
    expect((await runCli(dir, ['token', 'create', '--role', 'agent', '--expires', 'soon'], dbEnv)).code).toBe(2);
    expect((await runCli(dir, ['token', 'create', '--role', 'agent', '--scope', 'write'], dbEnv)).code).toBe(2);
  });
});
