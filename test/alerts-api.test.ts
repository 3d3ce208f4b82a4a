/**
 * The alerts and webhooks API as Next calls it: route handlers with real tokens over a test
 * database, every answer checked against the OpenAPI document; a real receiver on 127.0.0.1
 * for the test button; who may do what, and a read-only token's refusal.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { insertAlert } from '@/db/queries/alerts';
import { setContext, type AppContext } from '@/lib/core/context';
import { provisionDevice } from '@/lib/devices/devices';
import { apiCaller, apiTestContext, documentChecker } from './support/api-contract';
import * as alertsRoute from '@/app/api/v1/alerts/route';
import * as ackRoute from '@/app/api/v1/alerts/[id]/acknowledge/route';
import * as resolveRoute from '@/app/api/v1/alerts/[id]/resolve/route';
import * as rulesRoute from '@/app/api/v1/alert-rules/route';
import * as ruleRoute from '@/app/api/v1/alert-rules/[kind]/route';
import * as webhooksRoute from '@/app/api/v1/webhooks/route';
import * as webhookRoute from '@/app/api/v1/webhooks/[id]/route';
import * as deliveriesRoute from '@/app/api/v1/webhooks/[id]/deliveries/route';
import * as testRoute from '@/app/api/v1/webhooks/[id]/test/route';

/** The members these answers have, as the tests read them (the document check validates the rest). */
interface Body {
  alerts: Array<{ id: string; kind: string; status: string; devId: string | null }>;
  unresolved: number;
  alert: { status: string; resolvedBy: string | null };
  rules: Array<{ kind: string }>;
  rule: unknown;
  secret: string;
  webhook: { id: string };
  webhooks: unknown[];
  delivery: unknown;
  deliveries: unknown[];
  error: { code: string; fieldErrors: Record<string, string[]> };
}

const conformsToDocument = documentChecker([
  [alertsRoute.GET, 'GET /alerts'],
  [ackRoute.POST, 'POST /alerts/{id}/acknowledge'],
  [resolveRoute.POST, 'POST /alerts/{id}/resolve'],
  [rulesRoute.GET, 'GET /alert-rules'],
  [ruleRoute.PUT, 'PUT /alert-rules/{kind}'],
  [webhooksRoute.GET, 'GET /webhooks'],
  [webhooksRoute.POST, 'POST /webhooks'],
  [webhookRoute.DELETE, 'DELETE /webhooks/{id}'],
  [deliveriesRoute.GET, 'GET /webhooks/{id}/deliveries'],
  [testRoute.POST, 'POST /webhooks/{id}/test'],
]);

let dir: string;
let ctx: AppContext;
let admin: string;
let agent: string;
let reader: string;
let receiver: http.Server;
let hookUrl: string;
let deviceId: string;

const call = apiCaller<Body>(conformsToDocument, () => admin);

beforeAll(async () => {
  ({ dir, ctx, admin, agent, reader } = await apiTestContext('alerts-api'));
  deviceId = (
    await provisionDevice(ctx.db, {
      devId: 'IMEI:356938035600025',
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientPass: 'p',
      serverPass: 's',
    })
  ).id;
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  await new Promise((r) => receiver?.close(r));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('alerts', () => {
  it('lists unresolved alerts; an agent acknowledges and resolves them, audited under the token', async () => {
    const a = (await insertAlert(ctx.db, {
      kind: 'not-seen',
      conditionKey: `not-seen:${deviceId}:never`,
      deviceId,
      message: 'IMEI:356938035600025 has never connected.',
      details: '{"days":14}',
      raisedAt: Date.now(),
    }))!;
    const list = await call(alertsRoute.GET, 'GET', { token: agent });
    expect(list.status).toBe(200);
    expect(list.body.unresolved).toBe(1);
    expect(list.body.alerts[0]).toMatchObject({ id: a.id, devId: 'IMEI:356938035600025', status: 'open' });
    const ack = await call(ackRoute.POST, 'POST', { token: agent, params: { id: a.id } });
    expect(ack.body.alert.status).toBe('acknowledged');
    expect((await call(ackRoute.POST, 'POST', { token: agent, params: { id: a.id } })).status).toBe(409);
    const res = await call(resolveRoute.POST, 'POST', { token: agent, params: { id: a.id } });
    expect(res.body.alert).toMatchObject({ status: 'resolved', resolvedBy: expect.stringMatching(/^token:/) });
    expect((await call(alertsRoute.GET, 'GET', { token: agent })).body.alerts).toEqual([]);
    expect((await call(alertsRoute.GET, 'GET', { query: { status: 'resolved' } })).body.alerts).toHaveLength(1);
    expect((await call(alertsRoute.GET, 'GET', { query: { status: 'sideways' } })).status).toBe(400);
    expect((await call(resolveRoute.POST, 'POST', { params: { id: 'nope' } })).status).toBe(404);
    const actions = (await listAudit(ctx.db, { deviceId })).map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['alert.acknowledged', 'alert.resolved']));
  });

  it('rules: everyone reads them, only admins change them', async () => {
    const rules = await call(rulesRoute.GET, 'GET', { token: agent });
    expect(rules.body.rules.map((r) => r.kind)).toContain('backup-failures');
    const body = { threshold: 5, enabled: false };
    expect((await call(ruleRoute.PUT, 'PUT', { token: agent, body, params: { kind: 'backup-failures' } })).status).toBe(
      403,
    );
    const put = await call(ruleRoute.PUT, 'PUT', { body, params: { kind: 'backup-failures' } });
    expect(put.body.rule).toMatchObject({ kind: 'backup-failures', threshold: 5, enabled: false });
    expect((await call(ruleRoute.PUT, 'PUT', { body, params: { kind: 'weather' } })).status).toBe(404);
    expect((await call(ruleRoute.PUT, 'PUT', { body: { threshold: 0 }, params: { kind: 'not-seen' } })).status).toBe(
      400,
    );
  });
});

describe('webhooks', () => {
  it('adds, lists, tests, logs and removes a webhook; the secret is answered once', async () => {
    const add = await call(webhooksRoute.POST, 'POST', {
      body: { url: hookUrl, events: ['backup.failed', 'webhook.test'] },
    });
    expect(add.status).toBe(201);
    expect(add.body.secret).toMatch(/^whsec_/);
    const id = add.body.webhook.id;
    const list = await call(webhooksRoute.GET, 'GET');
    expect(JSON.stringify(list.body)).not.toContain(add.body.secret);
    expect(list.body.webhooks).toEqual([expect.objectContaining({ id, url: hookUrl })]);
    const test = await call(testRoute.POST, 'POST', { params: { id } });
    expect(test.body.delivery).toMatchObject({ event: 'webhook.test', status: 'delivered', lastStatus: 204 });
    const log = await call(deliveriesRoute.GET, 'GET', { params: { id } });
    expect(log.body.deliveries).toHaveLength(1);
    expect((await call(webhookRoute.DELETE, 'DELETE', { params: { id } })).status).toBe(200);
    expect((await call(webhookRoute.DELETE, 'DELETE', { params: { id } })).status).toBe(404);
  });

  it('refuses bad input, agents, and read-only tokens', async () => {
    const bad = await call(webhooksRoute.POST, 'POST', { body: { url: 'ftp://x', events: ['backup.exploded'] } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.fieldErrors).sort()).toEqual(['events', 'url']);
    expect((await call(webhooksRoute.GET, 'GET', { token: agent })).status).toBe(403);
    expect((await call(webhooksRoute.GET, 'GET', { token: reader })).status).toBe(200);
    const ro = await call(webhooksRoute.POST, 'POST', {
      token: reader,
      body: { url: hookUrl, events: ['alert.raised'] },
    });
    expect(ro.status).toBe(403);
    expect(ro.body.error.code).toBe('read-only-token');
  });
});
