/**
 * The groups and policies API as Next calls it: route handlers with real tokens over a test
 * database, every answer checked against the OpenAPI document; who may do what; the safety
 * backup setting seen by a restore.
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getPolicyByName, insertPolicy, setAssignment, updatePolicy } from '@/db/queries/policies';
import { setContext, type AppContext } from '@/lib/core/context';
import { provisionDevice } from '@/lib/devices/devices';
import { ensureDefaultPolicy } from '@/lib/backup/policy';
import { apiCaller, apiTestContext, documentChecker } from './support/api-contract';
import * as groupsRoute from '@/app/api/v1/groups/route';
import * as groupRoute from '@/app/api/v1/groups/[name]/route';
import * as membersRoute from '@/app/api/v1/groups/[name]/members/route';
import * as policiesRoute from '@/app/api/v1/policies/route';
import * as policyRoute from '@/app/api/v1/policies/[id]/route';

/** The members these answers have, as the tests read them (the document check validates the rest). */
interface Body {
  groups: Array<{ name: string; kind: string; matches: number; policy: { name: string } | null }>;
  group: { name: string; matches: number; priority: number } | string;
  import: { added: number; unknown: string[] };
  added: number;
  removed: number;
  members: number;
  unknown: string[];
  policyUnassigned: string | null;
  policies: Array<{ name: string; safetyBackupBeforeUpdates: boolean; handsets: number }>;
  deleted: { name: string; ownHandsets: number; assignments: unknown[] };
  error: { code: string };
}

const conformsToDocument = documentChecker([
  [groupsRoute.GET, 'GET /groups'],
  [groupsRoute.POST, 'POST /groups'],
  [groupRoute.GET, 'GET /groups/{name}'],
  [groupRoute.PUT, 'PUT /groups/{name}'],
  [groupRoute.DELETE, 'DELETE /groups/{name}'],
  [membersRoute.POST, 'POST /groups/{name}/members'],
  [policiesRoute.GET, 'GET /policies'],
  [policyRoute.DELETE, 'DELETE /policies/{id}'],
]);

let dir: string;
let ctx: AppContext;
let admin: string;
let agent: string;
let reader: string;

const call = apiCaller<Body>(conformsToDocument, () => admin);

const base = {
  manufacturer: 'Nimbus',
  model: 'N1',
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'u',
  clientPass: 'p',
  serverPass: 's',
};

beforeAll(async () => {
  ({ dir, ctx, admin, agent, reader } = await apiTestContext('groups-api'));
  await provisionDevice(ctx.db, { ...base, devId: 'IMEI:356938035600025', firmware: '1.2' });
  await provisionDevice(ctx.db, { ...base, devId: 'IMEI:356938035600033', firmware: '2.0' });
});

afterAll(async () => {
  setContext(undefined);
  if (ctx) await closeDb(ctx.db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('groups', () => {
  it('creates, lists, changes, imports and deletes groups, audited under the token', async () => {
    const rule = await call(groupsRoute.POST, 'POST', {
      body: { kind: 'rule', name: 'old-n1', rule: { model: 'N1', firmwareTo: '1.9' } },
    });
    expect(rule).toMatchObject({ status: 201, body: { group: { name: 'old-n1', matches: 1 } } });
    const list = await call(groupsRoute.POST, 'POST', {
      body: { kind: 'static', name: 'vip', members: 'devId\nIMEI:356938035600033\nIMEI:1\n', priority: 10 },
    });
    expect(list).toMatchObject({ status: 201, body: { group: { matches: 1, priority: 10 }, import: { added: 1 } } });
    expect(list.body.import.unknown).toEqual(['IMEI:1']);
    expect(
      (await call(groupsRoute.POST, 'POST', { body: { kind: 'rule', name: 'vip', rule: { model: 'N1' } } })).status,
    ).toBe(400);
    expect((await call(groupsRoute.POST, 'POST', { body: { kind: 'rule', name: 'empty', rule: {} } })).status).toBe(
      400,
    );

    const all = await call(groupsRoute.GET, 'GET', { token: agent });
    expect(all.body.groups.map((g) => `${g.name}:${g.kind}:${g.matches}`)).toEqual(['vip:static:1', 'old-n1:rule:1']);

    const moved = await call(groupRoute.PUT, 'PUT', {
      params: { name: 'old-n1' },
      body: { name: 'n1-before-2', rule: { model: 'N1', firmwareTo: '2.0' } },
    });
    expect(moved).toMatchObject({ status: 200, body: { group: { name: 'n1-before-2', matches: 2 } } });
    expect((await call(groupRoute.GET, 'GET', { params: { name: 'old-n1' } })).status).toBe(404);

    const imported = await call(membersRoute.POST, 'POST', {
      params: { name: 'vip' },
      body: { csv: '356938035600025\n', replace: true },
    });
    expect(imported.body).toMatchObject({ added: 1, removed: 1, members: 1, unknown: [] });
    expect(
      (await call(membersRoute.POST, 'POST', { params: { name: 'n1-before-2' }, body: { csv: 'IMEI:1' } })).status,
    ).toBe(400);

    const p = await insertPolicy(ctx.db, {
      name: 'VIP',
      categories: '["settings"]',
      intervalMinutes: 60,
      retention: '{}',
    });
    await setAssignment(ctx.db, 'group', 'vip', p.id);
    const gone = await call(groupRoute.DELETE, 'DELETE', { params: { name: 'vip' } });
    expect(gone.body).toMatchObject({ group: 'vip', policyUnassigned: 'VIP' });

    const actions = (await listAudit(ctx.db)).filter((a) => a.actor.startsWith('token:')).map((a) => a.action);
    expect(actions).toEqual(
      expect.arrayContaining(['group.created', 'group.updated', 'group.members-imported', 'group.deleted']),
    );
  });

  it('refuses agents and read-only tokens a change', async () => {
    const body = { kind: 'rule', name: 'nope', rule: { model: 'N1' } };
    expect((await call(groupsRoute.POST, 'POST', { token: agent, body })).status).toBe(403);
    expect((await call(groupsRoute.POST, 'POST', { token: reader, body })).status).toBe(403);
    expect((await call(groupRoute.DELETE, 'DELETE', { token: agent, params: { name: 'n1-before-2' } })).status).toBe(
      403,
    );
  });
});

describe('policies', () => {
  it('lists policies with their safety backup setting and counts; deletes one, never the default', async () => {
    const fallback = await ensureDefaultPolicy(ctx.db);
    const p = await insertPolicy(ctx.db, {
      name: 'Quick',
      categories: '["settings"]',
      intervalMinutes: 30,
      retention: '{}',
    });
    await updatePolicy(ctx.db, p.id, { safetyBackupBeforeUpdates: false });
    await setAssignment(ctx.db, 'model', 'Nimbus/N1', p.id);
    const listed = await call(policiesRoute.GET, 'GET', { token: agent });
    expect(listed.body.policies.find((x) => x.name === 'Quick')).toMatchObject({
      safetyBackupBeforeUpdates: false,
      handsets: 2,
    });
    expect(listed.body.policies.find((x) => x.name === fallback.name)).toMatchObject({
      safetyBackupBeforeUpdates: true,
    });
    expect((await call(policyRoute.DELETE, 'DELETE', { token: agent, params: { id: 'Quick' } })).status).toBe(403);
    const deleted = await call(policyRoute.DELETE, 'DELETE', { params: { id: 'Quick' } });
    expect(deleted).toMatchObject({ status: 200, body: { deleted: { name: 'Quick', ownHandsets: 0 } } });
    expect(deleted.body.deleted.assignments).toHaveLength(1);
    expect(await getPolicyByName(ctx.db, 'Quick')).toBeUndefined();
    expect((await call(policyRoute.DELETE, 'DELETE', { params: { id: fallback.id } })).status).toBe(409);
    expect((await call(policyRoute.DELETE, 'DELETE', { params: { id: 'Nothing' } })).status).toBe(404);
  });
});
