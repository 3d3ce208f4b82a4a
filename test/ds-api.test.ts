/**
 * The REST API's Data Sync routes, called as Next calls them, over a temporary database and
 * blob store with real bearer tokens: DS backups of a handset, a backup's manifest, the diff
 * of two, and DS accounts (listed without secrets, created and reset by admins only, audited).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getDsAccountByUser } from '@/db/queries/ds';
import { createPush, setContext, type AppContext } from '@/lib/core/context';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { provisionDevice } from '@/lib/devices/devices';
import { md5Derived } from '@/lib/omadm/auth';
import { env } from '@/lib/core/env';
import { createApiToken } from '@/lib/auth/tokens';
import { seedDsBackups, type SeededDs } from './support/ds-fixtures';
import { testDb } from './support/db';

import * as listRoute from '@/app/api/v1/devices/[devId]/ds-snapshots/route';
import * as accountsRoute from '@/app/api/v1/devices/[devId]/ds-accounts/route';
import * as snapshotRoute from '@/app/api/v1/ds-snapshots/[id]/route';
import * as diffRoute from '@/app/api/v1/ds-snapshots/[id]/diff/[other]/route';
import { documentChecker } from './support/api-contract';

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

let dir: string;
let ctx: AppContext;
let admin: string;
let agent: string;
let seeded: SeededDs;
let adaId: string;

const ADA = 'IMEI:356938035643809';
const BOB = 'IMEI:490154203237518';

const conformsToDocument = documentChecker([
  [listRoute.GET, 'GET /devices/{devId}/ds-snapshots'],
  [accountsRoute.GET, 'GET /devices/{devId}/ds-accounts'],
  [accountsRoute.POST, 'POST /devices/{devId}/ds-accounts'],
  [snapshotRoute.GET, 'GET /ds-snapshots/{id}'],
  [diffRoute.GET, 'GET /ds-snapshots/{id}/diff/{other}'],
]);

async function call(
  handler: unknown,
  method: string,
  opts: { token?: string | null; body?: unknown; raw?: string; params?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? admin : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await (handler as Handler)(new Request('http://localhost/api/v1/x', { method, headers, body }), {
    params: Promise.resolve(opts.params ?? {}) as Promise<never>,
  });
  const answer = (await res.json()) as Record<string, unknown>;
  conformsToDocument(handler, res.status, answer, true, opts.body);
  return { status: res.status, body: answer };
}

const names = (list: unknown) => (list as Array<{ summary: string }>).map((c) => c.summary).sort();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-ds-api-'));
  const e = { ...env(), DATA_DIR: dir, dataDir: dir };
  ctx = { db: await testDb(dir), env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) };
  setContext(ctx);
  admin = (await createApiToken(ctx.db, 'admin', 'test admin')).token;
  agent = (await createApiToken(ctx.db, 'agent', 'test agent')).token;
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  adaId = (await provisionDevice(ctx.db, { ...base, devId: ADA, subscriber: 'Ada Lovelace' })).id;
  await provisionDevice(ctx.db, { ...base, devId: BOB, subscriber: 'Bob Babbage' });
  seeded = await seedDsBackups(ctx, ADA, { user: 'ada-phone' });
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /devices/{devId}/ds-snapshots', () => {
  it("lists the handset's DS backups newest first, with counts and per-store changes", async () => {
    const r = await call(listRoute.GET, 'GET', { token: agent, params: { devId: ADA } });
    expect(r.status).toBe(200);
    const list = r.body.dsSnapshots as Array<Record<string, unknown>>;
    expect(list.map((s) => s.id)).toEqual([seeded.second.id, seeded.first.id]);
    expect(list[0]).toMatchObject({
      deviceId: adaId,
      syncType: 'two-way',
      contacts: 13,
      events: 3,
      changes: { contacts: { added: 1, replaced: 2 } },
    });
    expect(list[1]).toMatchObject({ syncType: 'slow', contacts: 12, events: 4 });
  });

  it('answers 404 for an unknown handset, an empty list for one without DS backups, 401 without a token', async () => {
    expect((await call(listRoute.GET, 'GET', { params: { devId: 'IMEI:000000000000000' } })).status).toBe(404);
    expect((await call(listRoute.GET, 'GET', { params: { devId: BOB } })).body).toEqual({
      dsSnapshots: [],
      nextCursor: null,
      limit: 100,
    });
    expect((await call(listRoute.GET, 'GET', { token: null, params: { devId: ADA } })).status).toBe(401);
  });
});

describe('GET /ds-snapshots/{id} and its diff', () => {
  it('gives the manifest: every contact and event by name', async () => {
    const r = await call(snapshotRoute.GET, 'GET', { token: agent, params: { id: seeded.second.id } });
    expect(r.status).toBe(200);
    const entries = r.body.entries as Array<{ store: string; summary: string; hash: string }>;
    expect(entries.filter((e) => e.store === 'contacts')).toHaveLength(13);
    expect(entries.filter((e) => e.store === 'calendar')).toHaveLength(3);
    expect(entries.map((e) => e.summary)).toContain('Grace Hopper');
    expect(entries.every((e) => /^[0-9a-f]{64}$/.test(e.hash))).toBe(true);
    expect((r.body.dsSnapshot as { rootHash: string }).rootHash).toBe(seeded.second.rootHash);
  });

  it('diffs two backups: the two changed contacts, the added one and the deleted event, by name', async () => {
    const r = await call(diffRoute.GET, 'GET', {
      token: agent,
      params: { id: seeded.first.id, other: seeded.second.id },
    });
    expect(r.status).toBe(200);
    expect(names(r.body.changed)).toEqual([...seeded.changed].sort());
    expect(names(r.body.added)).toEqual(['Grace Hopper']);
    expect(names(r.body.removed)).toEqual([seeded.removedEvent]);
    expect(r.body.byStore).toEqual({
      contacts: { added: 1, removed: 0, changed: 2 },
      calendar: { added: 0, removed: 1, changed: 0 },
    });
    expect(r.body.unchanged).toBe(10 + 3);
    // The other way round, what was added is removed.
    const back = await call(diffRoute.GET, 'GET', { params: { id: seeded.second.id, other: seeded.first.id } });
    expect(names(back.body.removed)).toEqual(['Grace Hopper']);
  });

  it('answers 404 for an unknown DS snapshot on either side', async () => {
    expect((await call(snapshotRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
    expect((await call(diffRoute.GET, 'GET', { params: { id: seeded.first.id, other: 'nope' } })).status).toBe(404);
    expect((await call(diffRoute.GET, 'GET', { params: { id: 'nope', other: seeded.first.id } })).status).toBe(404);
  });
});

describe('/devices/{devId}/ds-accounts', () => {
  it("lists accounts with each store's last sync and never a secret", async () => {
    const r = await call(accountsRoute.GET, 'GET', { token: agent, params: { devId: ADA } });
    expect(r.status).toBe(200);
    const [a] = r.body.dsAccounts as Array<Record<string, unknown>>;
    expect(a).toMatchObject({ username: 'ada-phone', auth: 'basic', deviceId: adaId });
    expect(Object.keys(a!).sort()).toEqual(['auth', 'createdAt', 'deviceId', 'id', 'stores', 'username']);
    expect(JSON.stringify(r.body)).not.toContain((await getDsAccountByUser(ctx.db, 'ada-phone'))!.derived);
  });

  it('lets an admin create an account (201) and reset its password (200), audited under the token', async () => {
    const made = await call(accountsRoute.POST, 'POST', {
      params: { devId: BOB },
      body: { user: 'bob-phone', pass: 'first-pass', auth: 'md5' },
    });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ created: true, dsAccount: { username: 'bob-phone', auth: 'md5', stores: [] } });
    expect((await getDsAccountByUser(ctx.db, 'bob-phone'))!.derived).toBe(md5Derived('bob-phone', 'first-pass'));

    const reset = await call(accountsRoute.POST, 'POST', {
      params: { devId: BOB },
      body: { user: 'bob-phone', pass: 'second-pass' },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ created: false });
    expect((await getDsAccountByUser(ctx.db, 'bob-phone'))!.derived).toBe(md5Derived('bob-phone', 'second-pass'));

    const audit = (await listAudit(ctx.db)).filter((x) => x.action.startsWith('ds-account.'));
    expect(audit.map((x) => x.action).sort()).toEqual(['ds-account.created', 'ds-account.password-reset']);
    expect(audit.every((x) => x.actor.startsWith('token:'))).toBe(true);
    expect(JSON.stringify(audit)).not.toContain('second-pass');
  });

  it("refuses agents, unknown handsets, another handset's user name and bad input, changing nothing", async () => {
    const before = (await getDsAccountByUser(ctx.db, 'ada-phone'))!.derived;
    expect(
      (
        await call(accountsRoute.POST, 'POST', {
          token: agent,
          params: { devId: ADA },
          body: { user: 'ada-phone', pass: 'hijacked' },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(accountsRoute.POST, 'POST', {
          params: { devId: 'IMEI:000000000000000' },
          body: { user: 'x', pass: 'long-enough' },
        })
      ).status,
    ).toBe(404);
    const taken = await call(accountsRoute.POST, 'POST', {
      params: { devId: BOB },
      body: { user: 'ada-phone', pass: 'hijacked' },
    });
    expect(taken.status).toBe(400);
    expect((taken.body.error as { fieldErrors: Record<string, string[]> }).fieldErrors.user).toEqual(['already taken']);
    expect((await getDsAccountByUser(ctx.db, 'ada-phone'))!.derived).toBe(before);
    expect(
      (
        await call(accountsRoute.POST, 'POST', {
          params: { devId: BOB },
          body: { user: 'with space', pass: 'long-enough' },
        })
      ).status,
    ).toBe(400);
    expect(
      (await call(accountsRoute.POST, 'POST', { params: { devId: BOB }, body: { user: 'short', pass: 'abc' } })).status,
    ).toBe(400);
    expect(
      (
        await call(accountsRoute.POST, 'POST', {
          params: { devId: BOB },
          body: { user: 'x', pass: 'long-enough', extra: 1 },
        })
      ).status,
    ).toBe(400);
    expect((await call(accountsRoute.POST, 'POST', { params: { devId: BOB }, raw: '{not json' })).status).toBe(400);
    expect(await getDsAccountByUser(ctx.db, 'short')).toBeUndefined();
  });
});
