/**
 * The bulk API as Next calls it: route handlers with real tokens over a test database, every
 * answer checked against the OpenAPI document; the dry run, an order worked through by the
 * worker, its progress, cancelling, and who may do it.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { updateDevice } from '@/db/queries/devices';
import { setContext, type AppContext } from '@/lib/core/context';
import { provisionDevice } from '@/lib/devices/devices';
import { runBulkPass } from '@/lib/bulk/worker';
import { apiCaller, apiTestContext, documentChecker } from './support/api-contract';
import * as bulkRoute from '@/app/api/v1/bulk/route';
import * as oneRoute from '@/app/api/v1/bulk/[id]/route';
import * as cancelRoute from '@/app/api/v1/bulk/[id]/cancel/route';

interface Body {
  preview: { total: number; skipped: number; acting: number; summary: string };
  bulk: { id: string; status: string; total: number; handled: number; jobs: { waiting: number }; finished: boolean };
  error: { code: string; fieldErrors?: Record<string, string[]> };
}

const conformsToDocument = documentChecker([
  [bulkRoute.POST, 'POST /bulk'],
  [oneRoute.GET, 'GET /bulk/{id}'],
  [cancelRoute.POST, 'POST /bulk/{id}/cancel'],
]);

let dir: string;
let ctx: AppContext;
let admin: string;
let agent: string;
let reader: string;

const call = apiCaller<Body>(conformsToDocument, () => admin);

beforeAll(async () => {
  ({ dir, ctx, admin, agent, reader } = await apiTestContext('bulk-api'));
  for (let i = 0; i < 5; i++) {
    const d = await provisionDevice(ctx.db, {
      devId: `IMEI:35693803561${String(i).padStart(4, '0')}`,
      manufacturer: 'Nimbus',
      model: i < 3 ? 'N1' : 'N2',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'p',
      serverPass: 's',
    });
    await updateDevice(ctx.db, d.id, { lastGoodBackupAt: i === 0 ? Date.now() : null });
  }
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const ORDER = { action: 'backup', filter: { model: 'N1', noBackupForDays: 7 } };

describe('bulk actions over the API', () => {
  it('counts, orders, follows and cancels, audited under the token', async () => {
    const dry = await call(bulkRoute.POST, 'POST', { body: { ...ORDER, dryRun: true } });
    expect(dry.status).toBe(200);
    expect(dry.body.preview).toMatchObject({ total: 2, skipped: 0, acting: 2 });
    expect(await listAudit(ctx.db, { action: 'bulk.ordered' })).toHaveLength(0);

    const ordered = await call(bulkRoute.POST, 'POST', { body: ORDER });
    expect(ordered.status).toBe(202);
    expect(ordered.body.bulk).toMatchObject({ status: 'queued', total: 2, handled: 0 });
    const id = ordered.body.bulk.id;
    expect((await listAudit(ctx.db, { action: 'bulk.ordered' }))[0]!.actor).toMatch(/^token:/);

    await runBulkPass(ctx.db, 'test');
    const got = await call(oneRoute.GET, 'GET', { token: reader, params: { id } });
    expect(got.status).toBe(200);
    expect(got.body.bulk).toMatchObject({ status: 'complete', handled: 2, jobs: { waiting: 2 }, finished: false });

    const cancelled = await call(cancelRoute.POST, 'POST', { params: { id } });
    expect(cancelled.status).toBe(200);
    // The walk was over, its queued jobs were not: they are cancelled.
    expect(cancelled.body.bulk).toMatchObject({ status: 'cancelled', jobs: { waiting: 0 }, finished: true });
    const again = await call(cancelRoute.POST, 'POST', { params: { id } });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'bulk-over' } } });
    expect((await listAudit(ctx.db, { action: 'bulk.cancelled' }))[0]!.actor).toMatch(/^token:/);
  });

  it('refuses what is not valid, not there, or not theirs to order', async () => {
    const both = await call(bulkRoute.POST, 'POST', { body: { ...ORDER, deviceIds: ['x'] } });
    expect(both.status).toBe(400);
    expect(both.body.error.fieldErrors).toHaveProperty('filter');
    const none = await call(bulkRoute.POST, 'POST', { body: { action: 'backup', filter: { model: 'K7' } } });
    expect(none.status).toBe(400);
    const noPolicy = await call(bulkRoute.POST, 'POST', { body: { action: 'assign-policy', deviceIds: ['x'] } });
    expect(noPolicy.status).toBe(400);
    expect(noPolicy.body.error.fieldErrors).toHaveProperty(['params.policyId']);
    expect((await call(oneRoute.GET, 'GET', { params: { id: 'nope' } })).status).toBe(404);
    expect((await call(cancelRoute.POST, 'POST', { params: { id: 'nope' } })).status).toBe(404);
    expect((await call(bulkRoute.POST, 'POST', { token: agent, body: ORDER })).status).toBe(403);
    expect((await call(oneRoute.GET, 'GET', { token: agent, params: { id: 'nope' } })).status).toBe(403);
    const ro = await call(bulkRoute.POST, 'POST', { token: reader, body: ORDER });
    expect(ro).toMatchObject({ status: 403, body: { error: { code: 'read-only-token' } } });
  });
});
