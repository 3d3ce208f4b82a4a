/**
 * The restore and catalog routes of the REST API, imported as Next imports them and called
 * with a Request and real bearer tokens. Behind them a real /dm server (startTestServer)
 * and a virtual handset: its snapshot is a real backup, and a planned restore is executed
 * for real, consent prompt and read-back included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob, updateJob } from '@/db/queries/jobs';
import { listItems, updateItem } from '@/db/queries/restore';
import { insertSnapshot } from '@/db/queries/snapshots';
import { createBackupJob } from '@/lib/backup/jobs';
import { provisionDevice } from '@/lib/devices/devices';
import { openFleet } from '@/sim/fleet';
import type { VirtualHandset } from '@/sim/handset';
import { describeVirtualModels, provisionFleet } from '@/sim/provision';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { dispatchWakes } from '@/lib/jobs/wake-dispatcher';
import { isValueStep, type RestorePlan } from '@/lib/restore/plan';
import { createApiToken } from '@/lib/auth/tokens';
import { resetAuthGates } from '@/lib/auth/limits';

import * as planRoute from '@/app/api/v1/restores/plan/route';
import * as storedPlanRoute from '@/app/api/v1/plans/[id]/route';
import * as executeRoute from '@/app/api/v1/plans/[id]/execute/route';
import * as jobRoute from '@/app/api/v1/jobs/[id]/route';
import * as retryRoute from '@/app/api/v1/jobs/[id]/retry/route';
import * as undoRoute from '@/app/api/v1/jobs/[id]/undo/route';
import * as consentsRoute from '@/app/api/v1/subscribers/[id]/consents/route';
import * as firmwareRoute from '@/app/api/v1/catalog/firmware/route';
import * as appsRoute from '@/app/api/v1/catalog/apps/route';
import { documentChecker } from './support/api-contract';

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

let srv: TestServer;
let stateDir: string;
let handset: VirtualHandset;
let admin: string;
let agent: string;
let snapshotId: string;

const STRANGER = 'IMEI:490154203237518';

interface CallOptions {
  token?: string | null;
  body?: unknown;
  raw?: string | Uint8Array;
  type?: string;
  headers?: Record<string, string>;
  query?: Record<string, string>;
  params?: Record<string, string>;
}

const conformsToDocument = documentChecker([
  [planRoute.POST, 'POST /restores/plan'],
  [storedPlanRoute.GET, 'GET /plans/{id}'],
  [executeRoute.POST, 'POST /plans/{id}/execute'],
  [jobRoute.GET, 'GET /jobs/{id}'],
  [retryRoute.POST, 'POST /jobs/{id}/retry'],
  [undoRoute.POST, 'POST /jobs/{id}/undo'],
  [consentsRoute.GET, 'GET /subscribers/{id}/consents'],
  [firmwareRoute.GET, 'GET /catalog/firmware'],
  [firmwareRoute.POST, 'POST /catalog/firmware'],
  [appsRoute.GET, 'GET /catalog/apps'],
  [appsRoute.POST, 'POST /catalog/apps'],
]);

async function call(
  handler: unknown,
  method: string,
  opts: CallOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL('http://localhost/api/v1/x');
  for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? admin : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  let body: string | Uint8Array | undefined;
  if (opts.raw !== undefined) body = opts.raw;
  else if (opts.body !== undefined) body = JSON.stringify(opts.body);
  if (body !== undefined)
    headers['content-type'] = opts.type ?? (opts.raw !== undefined ? 'application/octet-stream' : 'application/json');
  const res = await (handler as Handler)(new Request(url, { method, headers, body: body as BodyInit | undefined }), {
    params: Promise.resolve(opts.params ?? {}) as Promise<never>,
  });
  const json = (res.headers.get('content-type') ?? '').includes('json');
  const text = json ? await res.text() : '';
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  conformsToDocument(handler, res.status, parsed, json, opts.body);
  return { status: res.status, body: parsed };
}

const err = (b: Record<string, unknown>) =>
  b.error as { code: string; message: string; fieldErrors?: Record<string, string[]> };

/** Package #0 for whatever is queued, and the sessions that follow, until the handset is quiet. */
async function settle(): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await dispatchWakes(srv.ctx);
    await handset.idle();
  }
}

beforeAll(async () => {
  srv = await startTestServer(); // installs its context: the handlers below run over it
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-restore-api-'));
  handset = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.02,
    seed: 41,
  })[0]!;
  await describeVirtualModels(srv.ctx.db);
  await provisionFleet(srv.ctx.db, [{ ...handset.identity, nonces: { ...handset.state.nonces } }], {
    inprocPush: true,
  });
  handset.listen(srv.ctx.push.inproc);
  await provisionDevice(srv.ctx.db, {
    devId: STRANGER,
    manufacturer: handset.identity.man,
    model: handset.identity.mod,
    subscriber: 'Someone Else',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
  admin = (await createApiToken(srv.ctx.db, 'admin', 'test admin')).token;
  agent = (await createApiToken(srv.ctx.db, 'agent', 'test agent')).token;

  const device = (await getDeviceByDevId(srv.ctx.db, handset.devId))!;
  const { job } = await createBackupJob(srv.ctx.db, device, {
    trigger: 'on-demand',
    categories: ['settings', 'firmware'],
    actor: 'test',
  });
  await handset.connect({ initiator: 'client' });
  const done = (await getJob(srv.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  snapshotId = (JSON.parse(done.result!) as { snapshotId: string }).snapshotId;
});

afterAll(async () => {
  await handset?.idle();
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('authentication and roles', () => {
  const handlers: Array<[string, unknown, string, Record<string, string>]> = [
    ['POST /restores/plan', planRoute.POST, 'POST', {}],
    ['GET /plans/{id}', storedPlanRoute.GET, 'GET', { id: 'x' }],
    ['POST /plans/{id}/execute', executeRoute.POST, 'POST', { id: 'x' }],
    ['POST /jobs/{id}/retry', retryRoute.POST, 'POST', { id: 'x' }],
    ['GET /subscribers/{id}/consents', consentsRoute.GET, 'GET', { id: 'x' }],
    ['GET /catalog/firmware', firmwareRoute.GET, 'GET', {}],
    ['POST /catalog/firmware', firmwareRoute.POST, 'POST', {}],
    ['GET /catalog/apps', appsRoute.GET, 'GET', {}],
    ['POST /catalog/apps', appsRoute.POST, 'POST', {}],
  ];
  it.each(handlers)('%s: 401 without a token, and with a bad one', async (_name, handler, method, params) => {
    // One bad token repeated from one address is refused (429) after a few tries: each
    // handler starts with fresh counts, so every one of them shows its own 401.
    resetAuthGates();
    const none = await call(handler, method, { token: null, params });
    expect(none.status).toBe(401);
    expect(err(none.body).code).toBe('unauthorized');
    expect((await call(handler, method, { token: 'rw_not-a-real-token', params })).status).toBe(401);
  });

  it.each([
    ['POST /catalog/firmware', firmwareRoute.POST],
    ['POST /catalog/apps', appsRoute.POST],
  ] as const)('%s: 403 for an agent', async (_name, handler) => {
    const r = await call(handler, 'POST', {
      token: agent,
      raw: new Uint8Array([1, 2, 3]),
      query: { manufacturer: 'M', model: 'X', version: '1', appId: 'a', name: 'A' },
    });
    expect(r.status).toBe(403);
    expect(err(r.body).code).toBe('forbidden');
  });
});

describe('catalog', () => {
  const image = Uint8Array.from({ length: 4096 }, (_, i) => (i * 31) % 256);

  it('publishes firmware and apps from an octet-stream body, and lists them', async () => {
    const fw = await call(firmwareRoute.POST, 'POST', {
      raw: image,
      query: { manufacturer: 'Nimbus', model: 'N1', version: '2.0.1', name: 'N1 2.0.1' },
    });
    expect(fw.status).toBe(201);
    expect(fw.body.package).toMatchObject({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      manufacturer: 'Nimbus',
      model: 'N1',
      version: '2.0.1',
      name: 'N1 2.0.1',
      size: 4096,
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const app = await call(appsRoute.POST, 'POST', {
      raw: image.slice(0, 1000),
      query: { appId: 'com.shield.av', name: 'ShieldAV', version: '4.0.2', models: 'Nimbus/N1,Nimbus/N2' },
    });
    expect(app.status).toBe(201);
    expect(app.body.package).toMatchObject({
      appId: 'com.shield.av',
      name: 'ShieldAV',
      version: '4.0.2',
      models: ['Nimbus/N1', 'Nimbus/N2'],
      size: 1000,
    });
    const anyModel = await call(appsRoute.POST, 'POST', {
      raw: image.slice(0, 10),
      query: { appId: 'com.example.notes', name: 'Notes', version: '1.0' },
    });
    expect((anyModel.body.package as { models: unknown }).models).toBeNull();

    const firmware = (await call(firmwareRoute.GET, 'GET', { token: agent })).body.firmware as Array<{
      version: string;
      sha256: string;
    }>;
    expect(firmware.find((p) => p.version === '2.0.1')?.sha256).toBe((fw.body.package as { sha256: string }).sha256);
    expect(await srv.ctx.blobs.has((fw.body.package as { sha256: string }).sha256)).toBe(true);
    const apps = (await call(appsRoute.GET, 'GET', { token: agent })).body.apps as Array<{
      appId: string;
      version: string;
    }>;
    expect(apps.map((a) => `${a.appId} ${a.version}`)).toEqual(
      expect.arrayContaining(['com.shield.av 4.0.2', 'com.example.notes 1.0']),
    );
  });

  it('400 for a bad query, a bad version or an empty body; 415 for anything but octet-stream', async () => {
    const q = { manufacturer: 'Nimbus', model: 'N1', version: '2.0.2' };
    const missing = await call(firmwareRoute.POST, 'POST', { raw: image, query: { model: 'N1', version: '1' } });
    expect(missing.status).toBe(400);
    expect(err(missing.body).fieldErrors).toHaveProperty('manufacturer');
    expect((await call(firmwareRoute.POST, 'POST', { raw: image, query: { ...q, colour: 'red' } })).status).toBe(400);
    const version = await call(firmwareRoute.POST, 'POST', { raw: image, query: { ...q, version: '2.0 beta' } });
    expect(version.status).toBe(400);
    expect(err(version.body)).toMatchObject({ code: 'invalid', message: expect.stringContaining('is not a version') });
    const empty = await call(firmwareRoute.POST, 'POST', { raw: new Uint8Array(0), query: q });
    expect(empty.status).toBe(400);
    expect(err(empty.body).message).toContain('empty');
    const models = await call(appsRoute.POST, 'POST', {
      raw: image,
      query: { appId: 'com.x', name: 'X', version: '1', models: 'N1' },
    });
    expect(models.status).toBe(400);
    expect(err(models.body).fieldErrors).toHaveProperty(['models.0']);
    expect(
      (await call(appsRoute.POST, 'POST', { raw: image, query: { appId: 'com x', name: 'X', version: '1' } })).status,
    ).toBe(400);
    const json = await call(firmwareRoute.POST, 'POST', { body: { bytes: 'AAEC' }, query: q });
    expect(json.status).toBe(415);
    expect(
      (await call(firmwareRoute.POST, 'POST', { raw: image, type: 'multipart/form-data; boundary=x', query: q }))
        .status,
    ).toBe(415);
    const tooLarge = await call(firmwareRoute.POST, 'POST', {
      raw: image,
      headers: { 'content-length': String(300 * 1024 * 1024) },
      query: q,
    });
    expect(tooLarge.status).toBe(400);
    expect(err(tooLarge.body).message).toMatch(/larger than/);
    const firmware = (await call(firmwareRoute.GET, 'GET')).body.firmware as Array<{ version: string }>;
    expect(firmware.map((p) => p.version)).not.toContain('2.0.2');
  });
});

describe('plans', () => {
  it('400 for a bad request; 404 for an unknown snapshot or target; 409 for an incomplete snapshot', async () => {
    const bad = async (body: unknown) => {
      const r = await call(planRoute.POST, 'POST', { token: agent, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      return err(r.body);
    };
    expect((await bad({})).fieldErrors).toHaveProperty('snapshotId');
    expect((await bad({ snapshotId, paths: ['./Settings', '../etc'] })).fieldErrors).toHaveProperty(['paths.1']);
    expect((await bad({ snapshotId, categories: ['music'] })).fieldErrors).toHaveProperty(['categories.0']);
    await bad({ snapshotId, rates: { homePerMb: 0 } }); // the operator's rates are not the caller's to set
    const empty = await bad({ snapshotId, paths: ['./Nowhere'] });
    expect(empty.code).toBe('empty');

    const unknown = await call(planRoute.POST, 'POST', { body: { snapshotId: 'nope' } });
    expect(unknown.status).toBe(404);
    expect(err(unknown.body).code).toBe('not-found');
    expect((await call(planRoute.POST, 'POST', { body: { snapshotId, targetDevId: 'IMEI:000' } })).status).toBe(404);
    const device = (await getDeviceByDevId(srv.ctx.db, handset.devId))!;
    const incomplete = await insertSnapshot(srv.ctx.db, {
      deviceId: device.id,
      trigger: 'on-demand',
      categories: ['settings'],
    });
    const inc = await call(planRoute.POST, 'POST', { body: { snapshotId: incomplete.id } });
    expect(inc.status).toBe(409);
    expect(err(inc.body).code).toBe('not-complete');
  });

  it("403 for another subscriber's handset, and for an agent allowing a firmware downgrade", async () => {
    const stranger = await call(planRoute.POST, 'POST', { token: agent, body: { snapshotId, targetDevId: STRANGER } });
    expect(stranger.status).toBe(403);
    expect(err(stranger.body)).toMatchObject({
      code: 'forbidden',
      message: expect.stringContaining('same subscriber'),
    });
    const downgrade = await call(planRoute.POST, 'POST', {
      token: agent,
      body: { snapshotId, allowFirmwareDowngrade: true },
    });
    expect(downgrade.status).toBe(403);
    expect(err(downgrade.body).code).toBe('forbidden');
    const allowed = await call(planRoute.POST, 'POST', {
      token: admin,
      body: { snapshotId, categories: ['settings'], allowFirmwareDowngrade: true },
    });
    expect(allowed.status).toBe(201);
    expect((allowed.body.plan as RestorePlan).firmwareDowngradeAllowed).toBe(true);
  });
});

describe('a restore, planned, executed and followed', () => {
  let planId: string;
  let plan: RestorePlan;
  let jobId: string;
  /** How many values the restore wrote (what the damage changed). */
  let written = 0;

  it('plans it (201) and shows the stored plan', async () => {
    const r = await call(planRoute.POST, 'POST', { token: agent, body: { snapshotId, categories: ['settings'] } });
    expect(r.status).toBe(201);
    planId = r.body.planId as string;
    plan = r.body.plan as RestorePlan;
    expect(r.body.planHash).toMatch(/^[0-9a-f]{64}$/);
    expect(plan).toMatchObject({
      snapshotId,
      sourceDevId: handset.devId,
      targetDevId: handset.devId,
      migration: false,
      selection: { categories: ['settings'] },
    });
    expect(plan.steps.length).toBeGreaterThan(3);
    expect(plan.steps.every((s) => s.kind === 'node')).toBe(true);
    // Planned against the handset as this very backup found it: every value unchanged, nothing to send yet.
    expect(plan.summary).toMatchObject({ unchanged: plan.steps.filter((s) => s.op === 'unchanged').length, change: 0 });
    expect(plan.summary.unchanged).toBeGreaterThan(3);
    expect(plan.steps.filter(isValueStep).every((s) => s.before === s.after)).toBe(true);
    expect(plan.prompt).toMatchObject({
      code: '1103',
      choices: ['Now', 'Later on Wi-Fi', 'Reject'],
      version: 'restore-consent/1',
      text: expect.stringMatching(/^Restore settings from your backup of /),
    });
    expect(plan.cost.text).toEqual(expect.any(String));

    const stored = await call(storedPlanRoute.GET, 'GET', { token: agent, params: { id: planId } });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      planId,
      planHash: r.body.planHash,
      snapshotId,
      jobId: null,
      createdBy: expect.stringMatching(/^token:/),
    });
    expect(stored.body.plan).toEqual(plan);
    expect((await call(storedPlanRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
  });

  it('executes it (202): a safety backup first, then the restore, each step an item; once only (409)', async () => {
    handset.damage('settings');
    const why = await call(executeRoute.POST, 'POST', { token: agent, params: { id: planId }, body: {} });
    expect(why.status).toBe(400);
    expect(err(why.body).fieldErrors).toHaveProperty('reason');
    const r = await call(executeRoute.POST, 'POST', {
      token: agent,
      params: { id: planId },
      body: { reason: 'ticket 4711: settings lost' },
    });
    expect(r.status).toBe(202);
    const job = r.body.job as { id: string; kind: string; status: string; dependsOn: string };
    const backup = r.body.safetyBackup as { id: string; kind: string; request: { trigger: string } };
    expect(job).toMatchObject({ kind: 'restore', status: 'queued', dependsOn: backup.id });
    expect(backup).toMatchObject({ kind: 'backup', request: { trigger: 'safety' } });
    jobId = job.id;

    const again = await call(executeRoute.POST, 'POST', { params: { id: planId }, body: { reason: 'again' } });
    expect(again.status).toBe(409);
    expect(err(again.body).code).toBe('already-run');
    expect((await call(executeRoute.POST, 'POST', { params: { id: 'nope' }, body: { reason: 'r' } })).status).toBe(404);

    const queued = await call(jobRoute.GET, 'GET', { token: agent, params: { id: jobId } });
    expect(queued.body).toMatchObject({
      id: jobId,
      kind: 'restore',
      status: 'queued',
      planId,
      reason: 'ticket 4711: settings lost',
      // Nothing differed when planned; what the damage changed is found by the safety backup.
      counts: { total: 0 },
      consents: [],
    });
    expect((await call(storedPlanRoute.GET, 'GET', { params: { id: planId } })).body.jobId).toBe(jobId);
  });

  it('the job shows every item verified and the consent entry once the handset has run it', async () => {
    await settle();
    const r = await call(jobRoute.GET, 'GET', { token: agent, params: { id: jobId } });
    const items = r.body.items as Array<{
      seq: number;
      kind: string;
      path: string;
      op: string;
      status: string;
      detail: string | null;
    }>;
    expect(r.body.status, JSON.stringify(items.filter((i) => i.status !== 'verified').slice(0, 3))).toBe('succeeded');
    const counts = r.body.counts as Record<string, number>;
    written = counts.verified!;
    expect(written).toBeGreaterThan(0);
    expect(counts).toMatchObject({ total: written, failed: 0 });
    expect(items.every((i) => i.status === 'verified')).toBe(true);
    expect(items.find((i) => i.op === 'replace')).toMatchObject({
      kind: 'node',
      status: 'verified',
      detail: 'read back: identical',
    });
    expect(r.body.consents).toEqual([
      expect.objectContaining({
        jobId,
        code: '1103',
        answer: 'accepted',
        prompt: expect.stringMatching(/^Restore settings from your backup of /),
        promptVersion: plan.prompt.version,
        cost: expect.any(String),
        reason: 'ticket 4711: settings lost',
      }),
    ]);
    expect(r.body.result).toMatchObject({ items: written, verified: written, unchanged: 0 });
  });

  it('retry: 409 with nothing failed, 404 for no such restore job; failed items only go again, and are restored', async () => {
    const none = await call(retryRoute.POST, 'POST', { params: { id: jobId } });
    expect(none.status).toBe(409);
    expect(err(none.body).code).toBe('invalid');
    expect((await call(retryRoute.POST, 'POST', { params: { id: 'nope' } })).status).toBe(404);
    const backupId = (await getJob(srv.ctx.db, jobId))!.dependsOn!;
    expect((await call(retryRoute.POST, 'POST', { params: { id: backupId } })).status).toBe(404);

    // One value the handset lost again, after a restore that failed on it.
    const write = (await listItems(srv.ctx.db, jobId)).find((i) => i.op === 'replace')!;
    await updateItem(srv.ctx.db, jobId, write.seq, { status: 'failed', code: 500, detail: 'the handset answered 500' });
    await updateJob(srv.ctx.db, jobId, { status: 'failed', error: '1 of n items not restored' });
    const r = await call(retryRoute.POST, 'POST', { token: agent, params: { id: jobId } });
    expect(r.status).toBe(202);
    expect(r.body).toMatchObject({
      id: jobId,
      status: 'queued',
      error: null,
      counts: { pending: 1, verified: written - 1 },
    });
    expect((r.body.items as Array<{ seq: number; status: string }>).find((i) => i.seq === write.seq)!.status).toBe(
      'pending',
    );

    await settle();
    const done = await call(jobRoute.GET, 'GET', { params: { id: jobId } });
    expect(done.body).toMatchObject({ status: 'succeeded', counts: { verified: written } });
    expect((done.body.consents as Array<{ answer: string }>).map((c) => c.answer)).toEqual(['accepted', 'accepted']);
  });

  it('undo: a plan from the safety backup that puts back what the restore changed; 404 for no such restore', async () => {
    const r = await call(undoRoute.POST, 'POST', { token: agent, params: { id: jobId } });
    expect(r.status).toBe(201);
    const undo = r.body.plan as RestorePlan;
    expect(undo).toMatchObject({ undoOf: jobId, removeExtra: true, targetDevId: handset.devId });
    expect(undo.summary!.change + undo.summary!.remove).toBeGreaterThan(0);
    expect((await call(undoRoute.POST, 'POST', { params: { id: 'nope' } })).status).toBe(404);
  });

  it("the subscriber's consent ledger lists every prompt and answer, newest first", async () => {
    const subscriberId = (await getDeviceByDevId(srv.ctx.db, handset.devId))!.subscriberId!;
    const r = await call(consentsRoute.GET, 'GET', { token: agent, params: { id: subscriberId } });
    expect(r.status).toBe(200);
    const ledger = r.body.consents as Array<Record<string, unknown>>;
    expect(ledger).toHaveLength(2);
    for (const c of ledger) {
      expect(c).toMatchObject({
        devId: handset.devId,
        subscriberId,
        jobId,
        code: '1103',
        prompt: expect.stringMatching(/^Restore settings from your backup of /),
        promptVersion: 'restore-consent/1',
        answer: 'accepted',
        cost: expect.any(String),
        at: expect.any(Number),
      });
      expect(c).toHaveProperty('network');
    }
    expect(ledger[0]!.at as number).toBeGreaterThanOrEqual(ledger[1]!.at as number);
    expect(
      (await call(consentsRoute.GET, 'GET', { params: { id: subscriberId }, query: { limit: '1' } })).body
        .consents as unknown[],
    ).toHaveLength(1);
    expect((await call(consentsRoute.GET, 'GET', { params: { id: subscriberId }, query: { limit: '0' } })).status).toBe(
      400,
    );
    expect((await call(consentsRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
    const stranger = (await getDeviceByDevId(srv.ctx.db, STRANGER))!.subscriberId!;
    expect((await call(consentsRoute.GET, 'GET', { params: { id: stranger } })).body.consents).toEqual([]);
  });
});
