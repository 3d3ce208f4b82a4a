/**
 * The REST API's route handlers, imported as Next imports them and called with a Request,
 * over a context of our own (the test database, a temporary blob store) and real bearer tokens.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetAuthGates } from '@/lib/auth/limits';
import { closeDb } from '@/db/client';
import { exec } from '@/db/sql';
import { listAudit } from '@/db/queries/audit';
import { getDeviceByDevId, listDevices, updateDevice } from '@/db/queries/devices';
import { getJob, updateJob } from '@/db/queries/jobs';
import { insertSnapshot } from '@/db/queries/snapshots';
import { noteFirmware } from '@/db/queries/firmware-runs';
import { indexSubscriber } from '@/db/queries/search';
import { upsertLocalBackup } from '@/db/queries/local-backups';
import { createPush, setContext, type AppContext } from '@/lib/core/context';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { PROVISION_MAX_DEVICES, provisionDevice } from '@/lib/devices/devices';
import { PAGE_MAX } from '@/lib/core/paging';
import { env } from '@/lib/core/env';
import { openapi } from '@/lib/api/openapi';
import { createApiToken } from '@/lib/auth/tokens';
import { AFTER, BEFORE, RINGTONE, seedSnapshot } from './support/fixtures';
import { testDb } from './support/db';
import { documentChecker } from './support/api-contract';

import * as subscribersRoute from '@/app/api/v1/subscribers/route';
import * as subscriberRoute from '@/app/api/v1/subscribers/[id]/route';
import * as devicesRoute from '@/app/api/v1/devices/route';
import * as importRoute from '@/app/api/v1/devices/import/route';
import * as deviceRoute from '@/app/api/v1/devices/[devId]/route';
import * as deviceSnapshotsRoute from '@/app/api/v1/devices/[devId]/snapshots/route';
import * as deviceJobsRoute from '@/app/api/v1/devices/[devId]/jobs/route';
import * as wakeRoute from '@/app/api/v1/devices/[devId]/wake/route';
import * as modelsRoute from '@/app/api/v1/models/route';
import * as profileRoute from '@/app/api/v1/models/[manufacturer]/[model]/profile/route';
import * as profilesRoute from '@/app/api/v1/models/[manufacturer]/[model]/profiles/[category]/route';
import * as snapshotRoute from '@/app/api/v1/snapshots/[id]/route';
import * as contentRoute from '@/app/api/v1/snapshots/[id]/content/route';
import * as diffRoute from '@/app/api/v1/snapshots/[id]/diff/[other]/route';
import * as jobsRoute from '@/app/api/v1/jobs/route';
import * as jobRoute from '@/app/api/v1/jobs/[id]/route';
import * as firmwareRunsRoute from '@/app/api/v1/firmware/runs/route';

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

/** The operation of the document each handler is, so every answer the tests receive is checked against it. */
const conformsToDocument = documentChecker([
  [subscribersRoute.GET, 'GET /subscribers'],
  [subscriberRoute.GET, 'GET /subscribers/{id}'],
  [subscriberRoute.DELETE, 'DELETE /subscribers/{id}'],
  [devicesRoute.GET, 'GET /devices'],
  [devicesRoute.POST, 'POST /devices'],
  [importRoute.POST, 'POST /devices/import'],
  [deviceRoute.GET, 'GET /devices/{devId}'],
  [deviceSnapshotsRoute.GET, 'GET /devices/{devId}/snapshots'],
  [deviceJobsRoute.GET, 'GET /devices/{devId}/jobs'],
  [wakeRoute.POST, 'POST /devices/{devId}/wake'],
  [modelsRoute.GET, 'GET /models'],
  [profileRoute.GET, 'GET /models/{manufacturer}/{model}/profile'],
  [profilesRoute.PUT, 'PUT /models/{manufacturer}/{model}/profiles/{category}'],
  [snapshotRoute.GET, 'GET /snapshots/{id}'],
  [contentRoute.GET, 'GET /snapshots/{id}/content'],
  [diffRoute.GET, 'GET /snapshots/{id}/diff/{other}'],
  [jobsRoute.POST, 'POST /jobs'],
  [jobRoute.GET, 'GET /jobs/{id}'],
  [firmwareRunsRoute.GET, 'GET /firmware/runs'],
]);

let dir: string;
let ctx: AppContext;
let admin: string;
let agent: string;

const ADA = 'IMEI:356938035643809';
const BOB = 'IMEI:490154203237518';

interface CallOptions {
  token?: string | null;
  body?: unknown;
  raw?: string;
  type?: string;
  query?: Record<string, string>;
  params?: Record<string, string>;
}

async function call(
  handler: unknown,
  method: string,
  opts: CallOptions = {},
): Promise<{ status: number; body: Record<string, unknown>; res: Response }> {
  const url = new URL('http://localhost/api/v1/x');
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? admin : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined)
    headers['content-type'] = opts.type ?? (opts.raw !== undefined ? 'text/csv' : 'application/json');
  const res = await (handler as Handler)(new Request(url, { method, headers, body }), {
    params: Promise.resolve(opts.params ?? {}) as Promise<never>,
  });
  const json = (res.headers.get('content-type') ?? '').includes('json');
  const text = json ? await res.clone().text() : '';
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  conformsToDocument(handler, res.status, parsed, json, opts.body);
  return { status: res.status, body: parsed, res };
}

const err = (b: Record<string, unknown>) =>
  b.error as { code: string; message: string; fieldErrors?: Record<string, string[]>; rows?: unknown[] };

/** A POST /devices body for one device. */
const device = (devId: string, extra: Record<string, unknown> = {}) => ({
  devId,
  manufacturer: 'Orbit',
  model: 'O5',
  serverId: 'rewind',
  clientAuth: 'md5',
  clientUser: 'u',
  clientPass: 'p',
  serverPass: 's',
  ...extra,
});

async function provision(devId: string, extra: Partial<Parameters<typeof provisionDevice>[1]> = {}) {
  return await provisionDevice(ctx.db, {
    devId,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    ...extra,
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-api-'));
  const e = { ...env(), DATA_DIR: dir, dataDir: dir };
  ctx = { db: await testDb(dir), env: e, push: createPush(e), blobs: new FileBlobStore(path.join(dir, 'blobs')) };
  setContext(ctx);
  admin = (await createApiToken(ctx.db, 'admin', 'test admin')).token;
  agent = (await createApiToken(ctx.db, 'agent', 'test agent')).token;
  await provision(ADA, { msisdn: '+44 7700 900123', subscriber: 'Ada Lovelace', firmware: '1.0.3' });
  await provision(BOB, { msisdn: '+1 (555) 010-0199', subscriber: 'Bob Babbage' });
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every handler, with parameters that exist, for the auth checks. */
const everyHandler = (): Array<[string, unknown, string, Record<string, string>]> => [
  ['GET /subscribers', subscribersRoute.GET, 'GET', {}],
  ['GET /subscribers/{id}', subscriberRoute.GET, 'GET', { id: 'x' }],
  ['DELETE /subscribers/{id}', subscriberRoute.DELETE, 'DELETE', { id: 'x' }],
  ['GET /devices', devicesRoute.GET, 'GET', {}],
  ['POST /devices', devicesRoute.POST, 'POST', {}],
  ['POST /devices/import', importRoute.POST, 'POST', {}],
  ['GET /devices/{devId}', deviceRoute.GET, 'GET', { devId: ADA }],
  ['GET /devices/{devId}/snapshots', deviceSnapshotsRoute.GET, 'GET', { devId: ADA }],
  ['GET /devices/{devId}/jobs', deviceJobsRoute.GET, 'GET', { devId: ADA }],
  ['POST /devices/{devId}/wake', wakeRoute.POST, 'POST', { devId: ADA }],
  ['GET /models', modelsRoute.GET, 'GET', {}],
  ['GET /models/{m}/{m}/profile', profileRoute.GET, 'GET', { manufacturer: 'Nimbus', model: 'N1' }],
  [
    'PUT /models/{m}/{m}/profiles/{c}',
    profilesRoute.PUT,
    'PUT',
    { manufacturer: 'Nimbus', model: 'N1', category: 'settings' },
  ],
  ['GET /snapshots/{id}', snapshotRoute.GET, 'GET', { id: 'x' }],
  ['GET /snapshots/{id}/content', contentRoute.GET, 'GET', { id: 'x' }],
  ['GET /snapshots/{id}/diff/{other}', diffRoute.GET, 'GET', { id: 'x', other: 'y' }],
  ['POST /jobs', jobsRoute.POST, 'POST', {}],
  ['GET /jobs/{id}', jobRoute.GET, 'GET', { id: 'x' }],
  ['GET /firmware/runs', firmwareRunsRoute.GET, 'GET', {}],
];

describe('authentication and roles', () => {
  it.each(everyHandler())('%s: 401 without a token, and with a bad one', async (_name, handler, method, params) => {
    // One bad token repeated from one address is refused (429) after a few tries: each
    // handler starts with fresh counts, so every one of them shows its own 401.
    resetAuthGates();
    const none = await call(handler, method, { token: null, params });
    expect(none.status).toBe(401);
    expect(err(none.body).code).toBe('unauthorized');
    expect((await call(handler, method, { token: 'rw_not-a-real-token', params })).status).toBe(401);
  });

  it.each([
    ['POST /devices', devicesRoute.POST, 'POST', {}],
    ['POST /devices/import', importRoute.POST, 'POST', {}],
    [
      'PUT /models/{m}/{m}/profiles/{c}',
      profilesRoute.PUT,
      'PUT',
      { manufacturer: 'Nimbus', model: 'N1', category: 'settings' },
    ],
  ] as const)('%s: 403 for an agent', async (_name, handler, method, params) => {
    const r = await call(handler, method, { token: agent, params, body: { paths: ['./Settings'] } });
    expect(r.status).toBe(403);
    expect(err(r.body).code).toBe('forbidden');
  });
});

describe('subscribers', () => {
  it('finds subscribers by name prefix, email prefix and MSISDN in any usual form', async () => {
    await exec(ctx.db, sql`update subscribers set email = 'ada@example.org' where name = 'Ada Lovelace'`);
    await indexSubscriber(ctx.db, (await getDeviceByDevId(ctx.db, ADA))!.subscriberId!); // a write around the domain: the search index is told
    const names = async (q: string) =>
      (
        (await call(subscribersRoute.GET, 'GET', { token: agent, query: { q } })).body.subscribers as Array<{
          name: string;
        }>
      ).map((s) => s.name);
    expect(await names('ada')).toEqual(['Ada Lovelace']);
    expect(await names('Bob B')).toEqual(['Bob Babbage']);
    expect(await names('ada@ex')).toEqual(['Ada Lovelace']);
    expect(await names('+44 7700 900123')).toEqual(['Ada Lovelace']);
    expect(await names('447700')).toEqual(['Ada Lovelace']);
    expect(await names('07700 900123')).toEqual(['Ada Lovelace']); // national form: matched by its end
    expect(await names('(555) 010-0199')).toEqual(['Bob Babbage']);
    expect(await names('900999')).toEqual([]);
    expect(await names('%')).toEqual([]); // LIKE wildcards are taken literally
    expect(await names('_da')).toEqual([]);
  });

  it('answers each with its MSISDNs and device count, and 400 without a query', async () => {
    const r = await call(subscribersRoute.GET, 'GET', { query: { q: 'Ada' } });
    expect(r.body.subscribers).toEqual([
      expect.objectContaining({
        name: 'Ada Lovelace',
        email: 'ada@example.org',
        msisdns: ['447700900123'],
        devices: 1,
      }),
    ]);
    const bad = await call(subscribersRoute.GET, 'GET', {});
    expect(bad.status).toBe(400);
    expect(err(bad.body).fieldErrors?.q).toBeDefined();
    expect((await call(subscribersRoute.GET, 'GET', { query: { q: 'a', limit: '0' } })).status).toBe(400);
  });

  it('shows one subscriber with their devices; 404 for an unknown id', async () => {
    const id = (await getDeviceByDevId(ctx.db, ADA))!.subscriberId!;
    const r = await call(subscriberRoute.GET, 'GET', { token: agent, params: { id } });
    expect(r.status).toBe(200);
    expect(r.body.subscriber).toMatchObject({ id, name: 'Ada Lovelace', msisdns: ['447700900123'] });
    const devices = r.body.devices as Array<Record<string, unknown>>;
    expect(devices.map((d) => d.devId)).toEqual([ADA]);
    expect(devices[0]).not.toHaveProperty('clientDerived'); // publicDevice: no secrets
    expect((await call(subscriberRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
  });

  it('erases a subscriber (admins only), audited under the token; 404 for an unknown id', async () => {
    const d = await provision('IMEI:356938035643812', { subscriber: 'Erin Erased' });
    const id = d.subscriberId!;
    expect((await call(subscriberRoute.DELETE, 'DELETE', { token: agent, params: { id } })).status).toBe(403);
    const r = await call(subscriberRoute.DELETE, 'DELETE', { params: { id } });
    expect(r.status).toBe(200);
    expect(r.body.erased).toMatchObject({ devices: 1, snapshots: 0 });
    expect(await getDeviceByDevId(ctx.db, 'IMEI:356938035643812')).toBeUndefined();
    expect((await listAudit(ctx.db, { action: 'subscriber.erased' }))[0]?.actor).toMatch(/^token:/);
    expect((await call(subscriberRoute.DELETE, 'DELETE', { params: { id } })).status).toBe(404);
  });
});

describe('devices', () => {
  const header =
    'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass,firmware,pushAddress';

  it('imports a CSV file and answers counts', async () => {
    const csv = [
      header,
      `IMEI:111111111111116,Orbit,O5,+33 6 12 34 56 78,Claude,rewind,hmac,c,pw,sp,3.0,`,
      `${BOB},Nimbus,N1,,,rewind,md5,u,p,s,,`,
    ].join('\n');
    const r = await call(importRoute.POST, 'POST', { raw: csv });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ devices: 2, created: 1, updated: 1, subscribersCreated: 1 });
    expect((await getDeviceByDevId(ctx.db, 'IMEI:111111111111116'))?.firmware).toBe('3.0');
  });

  it('refuses a file with bad rows whole, naming each row', async () => {
    const before = (await listDevices(ctx.db, 1000)).length;
    const csv = [
      header,
      'IMEI:222222222222221,Orbit,O5,,,rewind,md5,u,p,s,,',
      'IMEI:222222222222222,Orbit,,,,rewind,md5,u,p,s,,',
      'x,Orbit,O5,,,rewind,none,u,p,s,,',
    ].join('\n');
    const r = await call(importRoute.POST, 'POST', { raw: csv });
    expect(r.status).toBe(400);
    const e = err(r.body);
    expect(e.code).toBe('invalid-rows');
    expect(e.rows).toEqual([
      { row: 3, column: 'model', message: expect.any(String) },
      { row: 4, column: 'devId', message: expect.any(String) },
      { row: 4, column: 'auth', message: expect.any(String) },
    ]);
    expect(Object.keys(e.fieldErrors!)).toEqual(['3.model', '4.devId', '4.auth']);
    expect((await listDevices(ctx.db, 1000)).length).toBe(before);
    expect(await getDeviceByDevId(ctx.db, 'IMEI:222222222222221')).toBeUndefined();
  });

  it('refuses a file without the columns it needs, and a JSON body', async () => {
    const r = await call(importRoute.POST, 'POST', { raw: 'devId,manufacturer\nIMEI:1,N\n' });
    expect(r.status).toBe(400);
    expect(err(r.body).message).toContain('missing columns: model, msisdn');
    expect((await call(importRoute.POST, 'POST', { body: [{ devId: 'x' }] })).status).toBe(415);
    expect((await call(importRoute.POST, 'POST', { raw: '' })).status).toBe(400);
  });

  it('shows one device with its latest snapshots and pending jobs; 404 for an unknown one', async () => {
    const device = (await getDeviceByDevId(ctx.db, BOB))!;
    const empty = await call(deviceRoute.GET, 'GET', { token: agent, params: { devId: BOB } });
    expect(empty.status).toBe(200);
    expect(empty.body).toMatchObject({
      device: { devId: BOB, manufacturer: 'Nimbus' },
      lastSnapshot: null,
      lastCompleteSnapshot: null,
      pendingJobs: [],
    });
    const complete = await seedSnapshot(ctx.db, ctx.blobs, device.id, BEFORE, { at: Date.now() - 60_000 });
    const failed = await insertSnapshot(ctx.db, {
      deviceId: device.id,
      trigger: 'scheduled',
      categories: ['settings'],
    });
    await exec(ctx.db, sql`update snapshots set status = 'failed', error = 'gone' where id = ${failed.id}`);
    const queued = await call(jobsRoute.POST, 'POST', { body: { devId: BOB, kind: 'backup' } });
    const r = await call(deviceRoute.GET, 'GET', { params: { devId: BOB } });
    expect(r.body.lastSnapshot).toMatchObject({ id: failed.id, status: 'failed', error: 'gone' });
    expect(r.body.lastCompleteSnapshot).toMatchObject({ id: complete.id, status: 'complete', entries: 11 });
    expect(r.body.pendingJobs).toEqual([
      expect.objectContaining({ id: (queued.body.job as { id: string }).id, kind: 'backup', status: 'queued' }),
    ]);
    expect(r.body.device).not.toHaveProperty('serverDerived');
    const unknown = await call(deviceRoute.GET, 'GET', { params: { devId: 'IMEI:000' } });
    expect(unknown.status).toBe(404);
    expect(err(unknown.body).code).toBe('not-found');
  });

  it('still provisions through POST /devices', async () => {
    const r = await call(devicesRoute.POST, 'POST', { body: device('IMEI:333333333333331') });
    expect(r.status).toBe(201);
    expect((await call(devicesRoute.POST, 'POST', { body: { devId: 'x' } })).status).toBe(400);
  });

  it('refuses a JSON body over the cap while reading it, and one that is not JSON, with a 400', async () => {
    const big = await call(devicesRoute.POST, 'POST', {
      raw: `[${'{"devId":"x"},'.repeat(100_000)}{}]`,
      type: 'application/json',
    });
    expect(big.status).toBe(400);
    expect(err(big.body).message).toMatch(/larger than/);
    const bad = await call(devicesRoute.POST, 'POST', { raw: '{"devId":', type: 'application/json' });
    expect(bad.status).toBe(400);
    expect(err(bad.body).message).toMatch(/not valid JSON/);
  });
});

describe('bulk provisioning and paging', () => {
  const provisioned = async () => (await listAudit(ctx.db, { action: 'device.provisioned' })).length;

  it('provisions an array all or none: a bad device keeps none of those before it, nor their audit entries', async () => {
    const audited = await provisioned();
    const bad = await call(devicesRoute.POST, 'POST', {
      body: [
        device('IMEI:444444444444441'),
        device('IMEI:444444444444442'),
        device('IMEI:444444444444443', { clientAuth: 'none' }),
      ],
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(err(bad.body).fieldErrors!)).toEqual(['2.clientAuth']);
    expect(err(bad.body).message).toMatch(/^device 2: .*nothing was provisioned/);
    expect(await getDeviceByDevId(ctx.db, 'IMEI:444444444444441')).toBeUndefined();
    expect(await provisioned()).toBe(audited);

    const ok = await call(devicesRoute.POST, 'POST', {
      body: [device('IMEI:444444444444441'), device('IMEI:444444444444442')],
    });
    expect(ok.status).toBe(201);
    const entries = await listAudit(ctx.db, { action: 'device.provisioned' });
    expect(entries.length).toBe(audited + 2);
    expect(entries.slice(0, 2).map((e) => e.actor)).toEqual([
      expect.stringMatching(/^token:/),
      expect.stringMatching(/^token:/),
    ]);
  });

  it(`refuses more than ${PROVISION_MAX_DEVICES} devices in one request with a 413 naming the cap, provisioning none`, async () => {
    const many = Array.from({ length: PROVISION_MAX_DEVICES + 1 }, (_, i) =>
      device(`IMEI:5${String(i).padStart(14, '0')}`),
    );
    const r = await call(devicesRoute.POST, 'POST', { body: many });
    expect(r.status).toBe(413);
    expect(err(r.body).code).toBe('too-many-devices');
    expect(err(r.body).message).toContain(String(PROVISION_MAX_DEVICES));
    expect(await getDeviceByDevId(ctx.db, many[0]!.devId)).toBeUndefined();
  });

  it('pages GET /devices by key: every device once, nextCursor null on the last page', async () => {
    for (let i = 0; i < 7; i++) await provision(`IMEI:66666666666666${i}`);
    const all = (await listDevices(ctx.db, 100_000)).map((d) => d.devId).sort();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await call(devicesRoute.GET, 'GET', {
        token: agent,
        query: { limit: '3', ...(cursor ? { cursor } : {}) },
      });
      expect(r.status).toBe(200);
      expect(r.body.limit).toBe(3);
      const items = r.body.devices as Array<{ devId: string }>;
      expect(items.length).toBeLessThanOrEqual(3);
      seen.push(...items.map((d) => d.devId));
      cursor = (r.body.nextCursor as string | null) ?? undefined;
      if (cursor) expect(items.length).toBe(3);
      pages++;
    } while (cursor && pages < 100);
    expect(seen.length).toBe(all.length);
    expect([...seen].sort()).toEqual(all);
    expect(pages).toBe(Math.ceil(all.length / 3));
  });

  it('400 for a limit over the maximum or a cursor the list did not give', async () => {
    const over = await call(devicesRoute.GET, 'GET', { query: { limit: String(PAGE_MAX + 1) } });
    expect(over.status).toBe(400);
    expect(Object.keys(err(over.body).fieldErrors!)).toEqual(['limit']);
    const forged = await call(devicesRoute.GET, 'GET', { query: { cursor: 'not-a-cursor' } });
    expect(forged.status).toBe(400);
    expect(Object.keys(err(forged.body).fieldErrors!)).toEqual(['cursor']);
    // A cursor of another list (a time key) is not one of this list's (an id key).
    const bob = (await getDeviceByDevId(ctx.db, BOB))!;
    for (let i = 0; i < 2; i++)
      await insertSnapshot(ctx.db, { deviceId: bob.id, trigger: 'on-demand', categories: ['settings'] });
    const snaps = await call(deviceSnapshotsRoute.GET, 'GET', { params: { devId: BOB }, query: { limit: '1' } });
    const other = await call(devicesRoute.GET, 'GET', { query: { cursor: snaps.body.nextCursor as string } });
    expect(other.status).toBe(400);
  });

  it('pages newest-first lists by time and id: rows of the same time are neither repeated nor skipped', async () => {
    const d = await provision('IMEI:777777777777771');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await insertSnapshot(ctx.db, { deviceId: d.id, trigger: 'on-demand', categories: ['settings'] })).id);
    await exec(ctx.db, sql`update snapshots set started_at = 1000 where device_id = ${d.id}`);
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await call(deviceSnapshotsRoute.GET, 'GET', {
        params: { devId: 'IMEI:777777777777771' },
        query: { limit: '2', ...(cursor ? { cursor } : {}) },
      });
      seen.push(...(r.body.snapshots as Array<{ id: string }>).map((s) => s.id));
      cursor = (r.body.nextCursor as string | null) ?? undefined;
      if (!cursor) break;
    }
    expect(seen).toEqual([...ids].sort().reverse());
  });
});

describe('models and profiles', () => {
  it("sets a category's paths, normalised, and shows the effective profile", async () => {
    const params = { manufacturer: 'Nimbus', model: 'N1', category: 'settings' };
    const r = await call(profilesRoute.PUT, 'PUT', {
      params,
      body: { paths: ['./Settings/', './Ext/Vendor/Sound', './Settings'] },
    });
    expect(r.status).toBe(200);
    expect(r.body.updated).toEqual({ category: 'settings', paths: ['./Settings', './Ext/Vendor/Sound'] });
    expect((r.body.profile as Record<string, string[]>).settings).toEqual([
      './DevInfo',
      './Settings',
      './Ext/Vendor/Sound',
    ]);

    const p = await call(profileRoute.GET, 'GET', { token: agent, params: { manufacturer: 'Nimbus', model: 'N1' } });
    expect(p.body).toMatchObject({
      manufacturer: 'Nimbus',
      model: 'N1',
      known: true,
      own: { settings: ['./Settings', './Ext/Vendor/Sound'], firmware: [] },
    });
    expect((p.body.profile as Record<string, string[]>).firmware).toEqual(['./DevDetail']);

    const unknown = await call(profileRoute.GET, 'GET', { params: { manufacturer: 'Acme', model: 'Z' } });
    expect(unknown.body).toMatchObject({
      known: false,
      profile: { settings: ['./DevInfo'], firmware: ['./DevDetail'], applications: [] },
    });

    const models = await call(modelsRoute.GET, 'GET', { token: agent });
    expect(models.body.models).toEqual([
      expect.objectContaining({
        manufacturer: 'Nimbus',
        model: 'N1',
        profiles: { settings: ['./Settings', './Ext/Vendor/Sound'] },
      }),
    ]);
  });

  it('400 for a bad path (each named), an unknown category or a malformed body; nothing changes', async () => {
    const params = { manufacturer: 'Nimbus', model: 'N1', category: 'settings' };
    const bad = await call(profilesRoute.PUT, 'PUT', {
      params,
      body: { paths: ['./Good', 'Settings', './a/../b', './x?list=Struct'] },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(err(bad.body).fieldErrors!)).toEqual(['paths.1', 'paths.2', 'paths.3']);
    expect(
      (await call(profilesRoute.PUT, 'PUT', { params: { ...params, category: 'music' }, body: { paths: [] } })).status,
    ).toBe(400);
    expect((await call(profilesRoute.PUT, 'PUT', { params, body: { path: ['./A'] } })).status).toBe(400);
    expect((await call(profilesRoute.PUT, 'PUT', { params, raw: '{', type: 'application/json' })).status).toBe(400);
    const p = await call(profileRoute.GET, 'GET', { params: { manufacturer: 'Nimbus', model: 'N1' } });
    expect((p.body.own as Record<string, string[]>).settings).toEqual(['./Settings', './Ext/Vendor/Sound']);
  });
});

describe('snapshots', () => {
  let a: string;
  let b: string;
  let incomplete: string;

  beforeAll(async () => {
    const device = (await getDeviceByDevId(ctx.db, ADA))!;
    a = (await seedSnapshot(ctx.db, ctx.blobs, device.id, BEFORE, { at: Date.UTC(2025, 0, 1) })).id;
    b = (await seedSnapshot(ctx.db, ctx.blobs, device.id, AFTER, { at: Date.UTC(2025, 0, 2) })).id;
    incomplete = (await insertSnapshot(ctx.db, { deviceId: device.id, trigger: 'on-demand', categories: ['settings'] }))
      .id;
  });

  it("lists a device's snapshots newest first; 404 for an unknown device", async () => {
    const r = await call(deviceSnapshotsRoute.GET, 'GET', { token: agent, params: { devId: ADA } });
    const list = r.body.snapshots as Array<{ id: string; categories: unknown; status: string }>;
    expect(list.map((s) => s.id)).toEqual([incomplete, b, a]);
    expect(list[0]!.categories).toEqual(['settings']);
    expect((await call(deviceSnapshotsRoute.GET, 'GET', { params: { devId: 'IMEI:000' } })).status).toBe(404);
  });

  it('shows a snapshot with its manifest entries', async () => {
    const r = await call(snapshotRoute.GET, 'GET', { token: agent, params: { id: a } });
    expect(r.status).toBe(200);
    expect(r.body.snapshot).toMatchObject({ id: a, status: 'complete', entries: 11 });
    const entries = r.body.entries as Array<{ path: string; format: string; hash?: string }>;
    expect(entries).toHaveLength(11);
    expect(entries.find((e) => e.path === './Settings/Ringtone')).toMatchObject({
      format: 'bin',
      type: 'audio/mpeg',
      size: 512,
      hash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('404 for an unknown snapshot, 409 for an incomplete one', async () => {
    const unknown = await call(snapshotRoute.GET, 'GET', { params: { id: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(err(unknown.body).code).toBe('not-found');
    const inc = await call(snapshotRoute.GET, 'GET', { params: { id: incomplete } });
    expect(inc.status).toBe(409);
    expect(err(inc.body).code).toBe('not-complete');
  });

  it("serves a node's raw bytes with its type and length", async () => {
    const r = await call(contentRoute.GET, 'GET', {
      token: agent,
      params: { id: a },
      query: { path: './Settings/Ringtone' },
    });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toBe('audio/mpeg');
    expect(r.res.headers.get('content-length')).toBe('512');
    expect(r.res.headers.get('x-content-length')).toBe('512'); // Next.js drops Content-Length; this one survives
    expect(r.res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.res.headers.get('content-disposition')).toBe('attachment; filename="Ringtone"');
    expect(new Uint8Array(await r.res.arrayBuffer())).toEqual(RINGTONE);

    const fw = await call(contentRoute.GET, 'GET', { params: { id: b }, query: { path: 'DevDetail/FwV' } });
    expect(fw.res.headers.get('content-type')).toBe('application/octet-stream'); // no type given by the handset
    expect(await fw.res.text()).toBe('1.1.0');
  });

  it('content: 400 without a path or for an interior node, 404 for no such node, 500 when the store lost it', async () => {
    expect((await call(contentRoute.GET, 'GET', { params: { id: a } })).status).toBe(400);
    const node = await call(contentRoute.GET, 'GET', { params: { id: a }, query: { path: './DevInfo' } });
    expect(node.status).toBe(400);
    expect(err(node.body).code).toBe('interior-node');
    const missing = await call(contentRoute.GET, 'GET', { params: { id: a }, query: { path: './Nope' } });
    expect(missing.status).toBe(404);
    expect(err(missing.body).code).toBe('no-such-node');
    expect((await call(contentRoute.GET, 'GET', { params: { id: 'nope' }, query: { path: './DevInfo' } })).status).toBe(
      404,
    );
    expect(
      (await call(contentRoute.GET, 'GET', { params: { id: incomplete }, query: { path: './DevInfo' } })).status,
    ).toBe(409);

    // A value only this snapshot holds, gone from the store.
    const device = (await getDeviceByDevId(ctx.db, ADA))!;
    const lost = await seedSnapshot(ctx.db, ctx.blobs, device.id, {
      './Lost': { category: 'settings', value: 'only here' },
    });
    const { entries } = (await call(snapshotRoute.GET, 'GET', { params: { id: lost.id } })).body as {
      entries: Array<{ hash: string }>;
    };
    await ctx.blobs.delete(entries[0]!.hash);
    const r = await call(contentRoute.GET, 'GET', { params: { id: lost.id }, query: { path: './Lost' } });
    expect(r.status).toBe(500);
    expect(err(r.body)).toMatchObject({ code: 'content-missing', message: expect.stringContaining('lost data') });
    await ctx.blobs.delete(lost.rootHash!);
    expect((await call(snapshotRoute.GET, 'GET', { params: { id: lost.id } })).status).toBe(500);
  });

  it('never serves a type the handset made up as a header', async () => {
    const device = (await getDeviceByDevId(ctx.db, ADA))!;
    const s = await seedSnapshot(ctx.db, ctx.blobs, device.id, {
      './X': { category: 'settings', value: '<b>hi</b>', type: 'text/html\r\nSet-Cookie: a=b' },
    });
    const r = await call(contentRoute.GET, 'GET', { params: { id: s.id }, query: { path: './X' } });
    expect(r.status).toBe(200);
    expect(r.res.headers.get('content-type')).toBe('application/octet-stream');
    expect(r.res.headers.get('set-cookie')).toBeNull();
    expect(r.res.headers.get('content-security-policy')).toContain('sandbox');
  });

  it('diffs two snapshots', async () => {
    const r = await call(diffRoute.GET, 'GET', { token: agent, params: { id: a, other: b } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      a: { id: a },
      b: { id: b },
      summary: '1 added, 1 removed, 3 changed; firmware 1.0.3 → 1.1.0; ShieldAV 3.2.1 → 4.0.2',
      firmware: [{ field: 'FwV', before: '1.0.3', after: '1.1.0' }],
      apps: [{ id: 'com.shield.av', name: 'ShieldAV', change: 'upgraded', before: '3.2.1', after: '4.0.2' }],
      byCategory: { settings: { added: 1, removed: 1, changed: 1 }, firmware: { added: 0, removed: 0, changed: 1 } },
      unchanged: 7,
    });
    expect((r.body.added as Array<{ path: string }>).map((e) => e.path)).toEqual(['./Settings/Wallpaper']);
    expect((await call(diffRoute.GET, 'GET', { params: { id: a, other: 'nope' } })).status).toBe(404);
    expect((await call(diffRoute.GET, 'GET', { params: { id: incomplete, other: b } })).status).toBe(409);
  });
});

describe('jobs', () => {
  it('queues a backup (202) for an agent; a second request joins it', async () => {
    const r = await call(jobsRoute.POST, 'POST', {
      token: agent,
      body: { devId: ADA, kind: 'backup', categories: ['settings', 'firmware'] },
    });
    expect(r.status).toBe(202);
    const job = r.body.job as { id: string; kind: string; status: string; request: Record<string, unknown> };
    expect(r.body.created).toBe(true);
    expect(job).toMatchObject({
      kind: 'backup',
      status: 'queued',
      request: { trigger: 'on-demand', categories: ['settings', 'firmware'] },
    });
    expect((await getJob(ctx.db, job.id))?.wakePending).toBe(true);
    const again = await call(jobsRoute.POST, 'POST', { body: { devId: ADA, kind: 'backup' } });
    expect(again.status).toBe(202);
    expect(again.body.created).toBe(false);
    expect((again.body.job as { id: string }).id).toBe(job.id);
  });

  it('400 for a bad body, 404 for an unknown device', async () => {
    const bad = async (body: unknown) => {
      const r = await call(jobsRoute.POST, 'POST', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      return err(r.body);
    };
    expect((await bad({ devId: ADA, kind: 'restore' })).code).toBe('invalid');
    expect((await bad({ devId: ADA, kind: 'backup', categories: ['music'] })).fieldErrors).toHaveProperty([
      'categories.0',
    ]);
    expect((await bad({ devId: ADA, kind: 'backup', categories: [] })).fieldErrors).toHaveProperty('categories');
    expect(await bad({ devId: ADA, kind: 'local-backup' })).toMatchObject({
      fieldErrors: { target: expect.any(Array) },
    });
    await bad({ devId: ADA, kind: 'backup', target: 'device' }); // a field of another kind
    await bad({ kind: 'backup' });
    await bad('backup');
    const unknown = await call(jobsRoute.POST, 'POST', { body: { devId: 'IMEI:000', kind: 'backup' } });
    expect(unknown.status).toBe(404);
  });

  it('queues local backups and restores; a restore needs a local backup the handset reported', async () => {
    const lb = await call(jobsRoute.POST, 'POST', {
      token: agent,
      body: { devId: ADA, kind: 'local-backup', target: 'device' },
    });
    expect(lb.status).toBe(202);
    expect((lb.body.job as { request: Record<string, unknown> }).request).toMatchObject({
      target: 'device',
      categories: ['settings', 'certificates', 'appdata', 'applications', 'firmware'],
    });

    const missing = await call(jobsRoute.POST, 'POST', { body: { devId: ADA, kind: 'local-restore', localId: 'L-9' } });
    expect(missing.status).toBe(404);
    expect(err(missing.body).code).toBe('no-local-backup');
    const deviceId = (await getDeviceByDevId(ctx.db, ADA))!.id;
    const row = await upsertLocalBackup(ctx.db, {
      deviceId,
      localId: 'L-9',
      target: 'device',
      takenAt: '2025-01-01T00:00:00Z',
      categories: '["settings"]',
      entries: 1,
      size: 1,
      rootHash: 'ab'.repeat(32),
      jobId: null,
    });
    const ok = await call(jobsRoute.POST, 'POST', { body: { devId: ADA, kind: 'local-restore', localId: 'L-9' } });
    expect(ok.status).toBe(202);
    expect((ok.body.job as { kind: string }).kind).toBe('local-restore');
    await exec(ctx.db, sql`update local_backups set gone_at = 1 where id = ${row.id}`);
    const gone = await call(jobsRoute.POST, 'POST', { body: { devId: ADA, kind: 'local-restore', localId: 'L-9' } });
    expect(gone.status).toBe(409);
  });

  it("shows a job with a backup's progress; 404 for an unknown one", async () => {
    const { body } = await call(jobsRoute.POST, 'POST', { body: { devId: 'IMEI:111111111111116', kind: 'backup' } });
    const id = (body.job as { id: string }).id;
    const queued = await call(jobRoute.GET, 'GET', { token: agent, params: { id } });
    expect(queued.body).toMatchObject({
      id,
      kind: 'backup',
      status: 'queued',
      error: null,
      attempts: 0,
      progress: null,
      result: null,
    });
    expect(queued.body).toHaveProperty('createdAt');
    expect(queued.body).toHaveProperty('updatedAt');

    await updateJob(ctx.db, id, {
      status: 'running',
      attempts: 1,
      progress: JSON.stringify({
        snapshotId: 's1',
        categories: ['settings'],
        roots: [],
        open: ['l3', 'l4'],
        seq: 4,
        nodes: 120,
        newBytes: 2048,
        missing: ['./Ext'],
        unreadable: [],
        errors: [],
      }),
    });
    const running = await call(jobRoute.GET, 'GET', { params: { id } });
    expect(running.body).toMatchObject({
      status: 'running',
      attempts: 1,
      progress: { snapshotId: 's1', nodes: 120, openBatches: 2, newBytes: 2048, missing: 1, unreadable: 0, errors: 0 },
    });

    const listed = await call(deviceJobsRoute.GET, 'GET', { params: { devId: 'IMEI:111111111111116' } });
    expect((listed.body.jobs as Array<{ id: string }>).map((j) => j.id)).toEqual([id]);
    expect((await call(jobRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
  });

  it('wake still answers as before', async () => {
    await updateDevice(ctx.db, (await getDeviceByDevId(ctx.db, BOB))!.id, { pushAddress: null });
    const r = await call(wakeRoute.POST, 'POST', { params: { devId: BOB } });
    expect(r.status).toBe(409);
  });
});

describe('firmware runs', () => {
  it('finds the handsets that ran a firmware between two days, with their subscriber and last good backup; refuses a bad search', async () => {
    const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
    const ada = (await getDeviceByDevId(ctx.db, ADA))!;
    const bob = (await getDeviceByDevId(ctx.db, BOB))!;
    await noteFirmware(ctx.db, ada.id, 'FW-API-RECALL', day('2026-01-10'));
    await noteFirmware(ctx.db, ada.id, 'FW-API-RECALL', day('2026-02-10'));
    await noteFirmware(ctx.db, ada.id, 'FW-API-FIXED', day('2026-02-11'));
    await noteFirmware(ctx.db, bob.id, 'FW-API-RECALL', day('2026-03-01'));

    const r = await call(firmwareRunsRoute.GET, 'GET', {
      token: agent,
      query: { firmware: 'FW-API-RECALL', from: '2026-02-01', to: '2026-02-05' },
    });
    expect(r.status).toBe(200);
    expect(r.body.more).toBe(false);
    expect(r.body.hits).toEqual([
      {
        deviceId: ada.id,
        devId: ADA,
        model: 'Nimbus N1',
        subscriber: { id: ada.subscriberId, name: 'Ada Lovelace' },
        from: day('2026-01-10'),
        to: day('2026-02-10'),
        // The snapshots tests' complete backup of Ada's handset.
        lastGoodBackup: { id: expect.any(String) as string, at: expect.any(Number) as number },
      },
    ]);
    const snap = (r.body.hits as Array<{ lastGoodBackup: { id: string } }>)[0]!.lastGoodBackup.id;
    expect((await call(snapshotRoute.GET, 'GET', { params: { id: snap } })).status).toBe(200);
    const both = await call(firmwareRunsRoute.GET, 'GET', {
      query: { firmware: 'FW-API-RECALL', from: '2026-01-01', to: '2026-03-31' },
    });
    expect((both.body.hits as Array<{ devId: string }>).map((h) => h.devId)).toEqual([BOB, ADA]);

    const backwards = await call(firmwareRunsRoute.GET, 'GET', {
      query: { firmware: 'FW-API-RECALL', from: '2026-03-01', to: '2026-02-01' },
    });
    expect(backwards.status).toBe(400);
    expect(err(backwards.body).fieldErrors?.to).toEqual(['the first day must not be after the last']);
    const undated = await call(firmwareRunsRoute.GET, 'GET', { query: { firmware: 'FW-API-RECALL', from: '1 Feb' } });
    expect(undated.status).toBe(400);
    expect(Object.keys(err(undated.body).fieldErrors ?? {}).sort()).toEqual(['from', 'to']);
    expect((await call(firmwareRunsRoute.GET, 'GET', { query: { from: '2026-01-01', to: '2026-01-02' } })).status).toBe(
      400,
    );
  });
});

describe('the OpenAPI document', () => {
  /** Every route file under app/api/v1 as an OpenAPI path, with the methods it exports. */
  async function routes(): Promise<Map<string, string[]>> {
    const root = path.resolve(__dirname, '../app/api/v1');
    const out = new Map<string, string[]>();
    const walk = async (d: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const full = path.join(d, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.name === 'route.ts') {
          const rel = path
            .relative(root, d)
            .split(path.sep)
            .map((s) => s.replace(/^\[(.+)\]$/, '{$1}'))
            .join('/');
          const mod = (await import(full)) as Record<string, unknown>;
          out.set(
            `/${rel}`,
            ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].filter((m) => typeof mod[m] === 'function'),
          );
        }
      }
    };
    await walk(root);
    return out;
  }

  it('documents every route and method, and nothing that is not there', async () => {
    const paths = openapi.paths as Record<string, Record<string, { responses?: object }>>;
    const found = await routes();
    found.delete('/openapi.json');
    for (const [p, methods] of found) {
      expect(paths[p], p).toBeDefined();
      for (const m of methods) expect(paths[p]![m.toLowerCase()]?.responses, `${m} ${p}`).toBeDefined();
      expect(Object.keys(paths[p]!).sort(), p).toEqual(methods.map((m) => m.toLowerCase()).sort());
    }
    expect(Object.keys(paths).sort()).toEqual([...found.keys()].sort());
  });

  it('checks each answer against the document: a body of the wrong shape, or a status it does not list, fails', () => {
    expect(() => conformsToDocument(devicesRoute.GET, 200, { devices: [{ id: 1 }] }, true, undefined)).toThrow(
      /GET \/devices 200/,
    );
    expect(() => conformsToDocument(devicesRoute.GET, 418, {}, true, undefined)).toThrow(/does not list/);
    expect(() =>
      conformsToDocument(jobsRoute.POST, 202, { job: {}, created: true }, true, { devId: ADA, kind: 'backup' }),
    ).toThrow();
    expect(() =>
      conformsToDocument(profilesRoute.PUT, 400, { error: { code: 'invalid', message: 'm' } }, true, { paths: 3 }),
    ).not.toThrow();
  });

  it('names every path parameter and resolves every $ref', () => {
    const doc = JSON.parse(JSON.stringify(openapi)) as {
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
      components: { schemas: Record<string, unknown> };
    };
    for (const [p, ops] of Object.entries(doc.paths)) {
      const wanted = [...p.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      for (const [m, op] of Object.entries(ops)) {
        expect(
          (op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name),
          `${m} ${p}`,
        ).toEqual(wanted);
      }
    }
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    for (const r of refs) expect(doc.components.schemas, r).toHaveProperty(r);
  });
});
