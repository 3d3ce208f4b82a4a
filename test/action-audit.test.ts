/**
 * Every privileged server action leaves an audit entry. The actions are found by walking
 * app/ for actions.ts modules (not listed by hand), so a new action is covered the day it is
 * written: it must be built by authedAction (which makes it declare its audit), it must have
 * a fixture here, and run as its role with that fixture it must write its own entry naming
 * the actor, the action and the target. authedAction's safety net for a forgotten entry is
 * checked on its own at the end.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { isPg } from '@/db/client';
import { rows, value } from '@/db/sql';
import { auditMark } from '@/db/queries/audit';
import { dsAccountsOfDevice } from '@/db/queries/ds';
import { getPolicyByName } from '@/db/queries/policies';
import { listItems, updateItem } from '@/db/queries/restore';
import { getJob, updateJob } from '@/db/queries/jobs';
import { listTokens } from '@/db/queries/tokens';
import { getUserByEmail } from '@/db/queries/users';
import { createUser } from '@/lib/auth/users';
import { provisionDevice } from '@/lib/devices/devices';
import { AppError } from '@/lib/core/errors';
import { handsetName } from '@/lib/subscribers/erasure';
import { getDevice } from '@/db/queries/devices';
import { ACTION_META, authedAction, type Action, type ActionMeta } from '@/lib/server/action';
import { apiError, apiHandler } from '@/lib/server/api';
import { insertAudit } from '@/db/queries/audit';
import { insertAlert } from '@/db/queries/alerts';
import { webhookList } from '@/lib/alerts/webhooks';
import { createApiToken } from '@/lib/auth/tokens';
import type * as Navigation from 'next/navigation';
import type * as Session from '@/lib/server/session';
import type { Viewer } from '@/lib/server/session';
import { AFTER, BEFORE, seedSnapshot } from './support/fixtures';
import { signedIn, staff, subscriberViewer, tempContext, type TempContext } from './support/as-viewer';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('./support/as-viewer')).signedIn.viewer,
}));
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('next/navigation', async (orig) => ({ ...(await orig<typeof Navigation>()), redirect: () => undefined }));

const ROOT = path.resolve(__dirname, '..');

/** Exports of actions modules that are not built by authedAction or publicAction, and why that is right. */
const UNWRAPPED: Record<string, string> = {
  'app/(auth)/actions.ts#signOutAction': "no input, ends only the caller's own session; audits sign-out itself",
};

/** Actions that change nothing, reviewed as such: adding one here is a decision, not an accident. */
const READ_ONLY = new Set([
  'app/(console)/devices/[id]/restore/actions.ts#restoreChoicesAction',
  'app/(console)/bulk/actions.ts#previewBulkAction',
  'app/(portal)/portal/actions.ts#portalRestoreChoicesAction',
]);

interface Found {
  key: string;
  action: Action<unknown>;
  meta: ActionMeta | undefined;
}

async function allActions(): Promise<Found[]> {
  const files = (fs.readdirSync(path.join(ROOT, 'app'), { recursive: true }) as string[])
    .filter((f) => path.basename(f) === 'actions.ts')
    .map((f) => `app/${f.split(path.sep).join('/')}`)
    .sort();
  const out: Found[] = [];
  for (const file of files) {
    const mod = (await import(path.join(ROOT, file))) as Record<string, unknown>;
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value !== 'function') continue;
      out.push({
        key: `${file}#${name}`,
        action: value as Action<unknown>,
        meta: (value as unknown as { [ACTION_META]?: ActionMeta })[ACTION_META],
      });
    }
  }
  return out;
}

let t: TempContext;
let found: Found[];
const ADMIN = 'audit-admin@rewind.test';
let admin: Viewer;
let subscriber: Viewer;
let staffDevice: string;
let subDevice: string;
let staffSnap: string;
let subSnap: string;
let erasedSubscriber: string;
const DEV = 'IMEI:356938035643809';
const SUB_DEV = 'IMEI:490154203237518';
/** What earlier steps made that later ones act on (a plan, a token, a user). */
const made: Record<string, string> = {};

beforeAll(async () => {
  t = await tempContext('rewind-action-audit-');
  const db = t.ctx.db;
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  staffDevice = (await provisionDevice(db, { ...base, devId: DEV, subscriber: 'Ada Staffcase' })).id;
  const sub = await provisionDevice(db, { ...base, devId: SUB_DEV, subscriber: 'Bob Portal' });
  subDevice = sub.id;
  admin = {
    ...staff('admin', ADMIN),
    userId: (await createUser(db, { email: ADMIN, password: 'a long password', role: 'admin' })).id,
  };
  subscriber = subscriberViewer(sub.subscriberId!, 'bob.portal@rewind.test');
  erasedSubscriber = (await provisionDevice(db, { ...base, devId: 'IMEI:353918050000008', subscriber: 'Cara Erased' }))
    .subscriberId!;
  staffSnap = (await seedSnapshot(db, t.ctx.blobs, staffDevice, BEFORE)).id;
  subSnap = (await seedSnapshot(db, t.ctx.blobs, subDevice, BEFORE)).id;
  // The handsets changed since (a newer backup): restoring the older one has something to write.
  await seedSnapshot(db, t.ctx.blobs, staffDevice, AFTER, { at: Date.now() + 1000 });
  found = await allActions();
});
afterAll(() => t.close());

type Step = {
  as: () => Viewer;
  input: () => Record<string, unknown> | Promise<Record<string, unknown>>;
  after?: (data: unknown) => void | Promise<void>;
  target?: () => string;
};

/** A valid call of every privileged action, in an order where each finds what it needs. */
const STEPS: Record<string, Step> = {
  'app/(console)/admin/models/actions.ts#addModelAction': {
    as: () => admin,
    input: () => ({ manufacturer: 'Acme', model: 'A1' }),
  },
  'app/(console)/admin/models/actions.ts#saveProfileAction': {
    as: () => admin,
    input: () => ({ manufacturer: 'Nimbus', model: 'N1', settings: './Settings' }),
  },
  'app/(console)/admin/policies/actions.ts#savePolicyAction': {
    as: () => admin,
    input: () => ({
      name: 'Audit trial',
      interval: '12',
      intervalUnit: 'hours',
      jitterMinutes: '15',
      categories: ['settings'],
    }),
    after: async () => {
      made.policy = (await getPolicyByName(t.ctx.db, 'Audit trial'))!.id;
    },
  },
  'app/(console)/admin/groups/actions.ts#importGroupAction': {
    as: () => admin,
    input: () => ({ name: 'audit-trial', csv: `devId\n${SUB_DEV}\n` }),
  },
  'app/(console)/admin/groups/actions.ts#saveRuleGroupAction': {
    as: () => admin,
    input: () => ({ name: 'audit-n1', model: 'Nimbus/N1', firmwareFrom: '1.0', notSeenForDays: '14' }),
  },
  'app/(console)/admin/groups/actions.ts#deleteGroupAction': { as: () => admin, input: () => ({ name: 'audit-n1' }) },
  'app/(console)/admin/policies/actions.ts#assignPolicyAction': {
    as: () => admin,
    input: () => ({ kind: 'group', key: 'audit-trial', policyId: made.policy }),
    after: async () => {
      made.assignment = (await value<string>(
        t.ctx.db,
        sql`select id from policy_assignments where key = 'audit-trial'`,
      ))!;
    },
  },
  'app/(console)/admin/policies/actions.ts#unassignPolicyAction': {
    as: () => admin,
    input: () => ({ id: made.assignment }),
  },
  'app/(console)/admin/policies/actions.ts#setGroupAction': {
    as: () => admin,
    input: () => ({ devId: DEV, group: 'audit-trial' }),
    target: () => staffDevice,
  },
  'app/(console)/admin/policies/actions.ts#deletePolicyAction': {
    as: () => admin,
    input: () => ({ id: made.policy! }),
  },
  'app/(console)/admin/tokens/actions.ts#createTokenAction': {
    as: () => admin,
    input: () => ({ name: 'audit billing', role: 'agent' }),
    after: async () => {
      made.token = (await listTokens(t.ctx.db)).find((x) => x.name === 'audit billing')!.id;
    },
  },
  'app/(console)/admin/tokens/actions.ts#revokeTokenAction': { as: () => admin, input: () => ({ id: made.token }) },
  'app/(console)/alerts/actions.ts#acknowledgeAlertAction': {
    as: () => admin,
    input: async () => {
      made.alert = (await insertAlert(t.ctx.db, {
        kind: 'not-seen',
        conditionKey: `not-seen:${staffDevice}:audit`,
        deviceId: staffDevice,
        message: 'not seen',
        details: '{}',
        raisedAt: Date.now(),
      }))!.id;
      return { id: made.alert };
    },
    target: () => staffDevice,
  },
  'app/(console)/alerts/actions.ts#resolveAlertAction': {
    as: () => admin,
    input: () => ({ id: made.alert }),
    target: () => staffDevice,
  },
  'app/(console)/alerts/actions.ts#saveAlertRuleAction': {
    as: () => admin,
    input: () => ({ kind: 'not-seen', threshold: '21', enabled: 'on' }),
  },
  'app/(console)/bulk/actions.ts#orderBulkAction': {
    as: () => admin,
    input: () => ({ action: 'backup', deviceIds: [DEV] }),
    after: (d) => {
      made.bulk = (d as { id: string }).id;
    },
  },
  'app/(console)/bulk/actions.ts#cancelBulkAction': { as: () => admin, input: () => ({ id: made.bulk }) },
  'app/(console)/bulk/actions.ts#setWakeBudgetAction': {
    as: () => admin,
    input: () => ({ wakeBudgetPerMinute: '120' }),
  },
  'app/(console)/admin/webhooks/actions.ts#addWebhookAction': {
    as: () => admin,
    // Port 9 (discard) refuses at once: the test button's delivery fails and is kept for a retry.
    input: () => ({ url: 'http://127.0.0.1:9/hook', events: ['alert.raised', 'backup.failed'] }),
    after: async () => {
      made.webhook = (await webhookList(t.ctx.db))[0]!.id;
    },
  },
  'app/(console)/admin/webhooks/actions.ts#testWebhookAction': { as: () => admin, input: () => ({ id: made.webhook }) },
  'app/(console)/admin/webhooks/actions.ts#removeWebhookAction': {
    as: () => admin,
    input: () => ({ id: made.webhook }),
  },
  'app/(console)/admin/users/actions.ts#createUserAction': {
    as: () => admin,
    input: () => ({ email: 'audit.agent@rewind.test', role: 'agent', subscriberId: '', password: 'a long password' }),
    after: async () => {
      made.user = (await getUserByEmail(t.ctx.db, 'audit.agent@rewind.test'))!.id;
    },
  },
  'app/(console)/admin/users/actions.ts#changeRoleAction': {
    as: () => admin,
    input: () => ({ id: made.user, role: 'admin' }),
  },
  'app/(console)/admin/users/actions.ts#resetPasswordAction': {
    as: () => admin,
    input: () => ({ id: made.user, password: 'another long password' }),
  },
  'app/(console)/admin/users/actions.ts#unlockUserAction': { as: () => admin, input: () => ({ id: made.user }) },
  'app/(console)/admin/users/actions.ts#deleteUserAction': { as: () => admin, input: () => ({ id: made.user }) },
  'app/(console)/admin/ds/actions.ts#createDsAccountAction': {
    as: () => admin,
    input: () => ({ devId: DEV, user: 'ada-phone', pass: 'ds s3cret', auth: 'md5' }),
    target: () => staffDevice,
    after: async () => {
      made.dsAccount = (await dsAccountsOfDevice(t.ctx.db, staffDevice))[0]!.id;
    },
  },
  'app/(console)/admin/ds/actions.ts#resetDsPasswordAction': {
    as: () => admin,
    input: () => ({ id: made.dsAccount, pass: 'ds s3cret 2' }),
    target: () => staffDevice,
  },
  'app/(console)/subscribers/[id]/actions.ts#eraseSubscriberAction': {
    as: () => admin,
    input: () => ({ subscriberId: erasedSubscriber, confirm: 'Cara Erased' }),
  },
  'app/(console)/devices/actions.ts#saveDeviceViewAction': {
    as: () => admin,
    input: () => ({ name: 'N1 without a week of backups', search: 'model=N1&noBackupForDays=7&sort=lastBackup' }),
    after: (d) => {
      made.view = (d as { id: string }).id;
    },
  },
  'app/(console)/devices/actions.ts#deleteDeviceViewAction': { as: () => admin, input: () => ({ id: made.view }) },
  'app/(console)/devices/[id]/actions.ts#backUpNow': {
    as: () => admin,
    input: () => ({ deviceId: staffDevice }),
    target: () => staffDevice,
  },
  'app/(console)/devices/[id]/ds/actions.ts#backUpContactsNow': {
    as: () => admin,
    input: () => ({ deviceId: staffDevice }),
    target: () => staffDevice,
  },
  'app/(console)/devices/[id]/restore/actions.ts#previewRestoreAction': {
    as: () => admin,
    input: () => ({ snapshotId: staffSnap, targetDeviceId: staffDevice, categories: ['settings'] }),
    target: () => staffDevice,
    after: (d) => {
      made.plan = (d as { planId: string }).planId;
    },
  },
  'app/(console)/devices/[id]/restore/actions.ts#confirmRestoreAction': {
    as: () => admin,
    input: () => ({ planId: made.plan, reason: 'ticket 42' }),
    target: () => staffDevice,
    after: async (d) => {
      // The restore ran and one item failed: what "Retry failed items" is for.
      const jobId = (d as { jobId: string }).jobId;
      await updateItem(t.ctx.db, jobId, (await listItems(t.ctx.db, jobId))[0]!.seq, {
        status: 'failed',
        code: 500,
        detail: 'the handset answered 500',
      });
      await updateJob(t.ctx.db, jobId, { status: 'failed', error: '1 item not restored' });
      await safetyBackupTook(jobId, staffSnap);
      made.restoreJob = jobId;
    },
  },
  'app/(console)/devices/[id]/restore/actions.ts#undoPreviewAction': {
    as: () => admin,
    input: () => ({ jobId: made.restoreJob }),
    target: () => staffDevice,
  },
  'app/(console)/jobs/[id]/actions.ts#retryFailedAction': {
    as: () => admin,
    input: () => ({ jobId: made.restoreJob }),
    target: () => staffDevice,
  },
  // First of the portal's: erasure is refused while a backup or restore of the handset is under way.
  'app/(portal)/portal/actions.ts#eraseBackupsAction': {
    as: () => subscriber,
    input: async () => ({ deviceId: subDevice, confirm: handsetName((await getDevice(t.ctx.db, subDevice))!) }),
    target: () => subDevice,
    after: async () => {
      subSnap = (await seedSnapshot(t.ctx.db, t.ctx.blobs, subDevice, BEFORE)).id;
      await seedSnapshot(t.ctx.db, t.ctx.blobs, subDevice, AFTER, { at: Date.now() + 1000 });
    },
  },
  'app/(portal)/portal/actions.ts#backUpNowAction': {
    as: () => subscriber,
    input: () => ({ deviceId: subDevice }),
    target: () => subDevice,
  },
  'app/(portal)/portal/actions.ts#portalPreviewRestoreAction': {
    as: () => subscriber,
    input: () => ({ snapshotId: subSnap, targetDeviceId: subDevice, categories: ['settings'] }),
    target: () => subDevice,
    after: (d) => {
      made.subPlan = (d as { planId: string }).planId;
    },
  },
  'app/(portal)/portal/actions.ts#portalConfirmRestoreAction': {
    as: () => subscriber,
    input: () => ({ planId: made.subPlan, reason: 'my old settings' }),
    target: () => subDevice,
    after: async (d) => {
      const jobId = (d as { jobId: string }).jobId;
      await updateJob(t.ctx.db, jobId, { status: 'succeeded' });
      await safetyBackupTook(jobId, subSnap);
      made.subRestoreJob = jobId;
    },
  },
  'app/(portal)/portal/actions.ts#portalUndoPreviewAction': {
    as: () => subscriber,
    input: () => ({ jobId: made.subRestoreJob }),
    target: () => subDevice,
  },
};

type Entry = { action: string; deviceId: string | null; details: string | null };
/** The actor's entries after a mark (auditMark: SQLite's rowid, or PostgreSQL's time). */
const entriesSince = (actor: string, mark: number) =>
  rows<Entry>(
    t.ctx.db,
    isPg(t.ctx.db)
      ? sql`select action, device_id as "deviceId", details from audit_events where actor = ${actor} and at >= ${mark} order by at`
      : sql`select action, device_id as "deviceId", details from audit_events where actor = ${actor} and rowid > ${mark} order by rowid`,
  );
/** The restore's safety backup ran and kept `snapshotId`: what undoing the restore goes back to. */
async function safetyBackupTook(restoreJobId: string, snapshotId: string): Promise<void> {
  const safety = (await getJob(t.ctx.db, restoreJobId))!.dependsOn!;
  await updateJob(t.ctx.db, safety, { status: 'succeeded', result: JSON.stringify({ snapshotId }) });
}

/** A mark no earlier entry shares: on PostgreSQL it is a time, so a millisecond goes by first. */
async function markNow(): Promise<number> {
  if (isPg(t.ctx.db)) await new Promise((r) => setTimeout(r, 2));
  return auditMark(t.ctx.db);
}

describe('the action registry', () => {
  it('finds the actions modules, and every export is built by authedAction or publicAction (or is a reviewed exception)', () => {
    expect(found.length).toBeGreaterThan(20);
    const unwrapped = found.filter((f) => !f.meta).map((f) => f.key);
    expect(unwrapped).toEqual(Object.keys(UNWRAPPED));
  });

  it('declares an audit action for everything that is not a reviewed read-only action', () => {
    const readOnly = found.filter((f) => f.meta?.audit === false).map((f) => f.key);
    expect(new Set(readOnly)).toEqual(READ_ONLY);
    for (const f of found)
      if (f.meta && f.meta.audit !== false) expect(f.meta.audit, f.key).toMatch(/^[a-z-]+(\.[a-z-]+)+$|^self$/);
  });

  it('has a valid call here for every privileged action (a new action needs one, so its audit is checked)', () => {
    const privileged = found
      .filter((f) => f.meta && f.meta.roles !== 'public' && f.meta.audit !== false)
      .map((f) => f.key)
      .sort();
    expect(Object.keys(STEPS).sort()).toEqual(privileged);
  });
});

describe('every privileged action', () => {
  it('writes its own audit entry with actor, action and target when it succeeds', async () => {
    for (const [key, step] of Object.entries(STEPS)) {
      const f = found.find((x) => x.key === key)!;
      const viewer = step.as();
      signedIn.viewer = viewer;
      const since = await markNow();
      const r = await f.action(null, await step.input());
      expect(r, `${key}: ${JSON.stringify(r)}`).toMatchObject({ ok: true });
      await step.after?.((r as { data: unknown }).data);
      const entries = await entriesSince(viewer.email, since);
      const noun = String(f.meta!.audit).split('.')[0];
      const own = entries.filter((e) => e.action.split('.')[0] === noun);
      // Its own entry, not authedAction's safety net (which has no details).
      expect(own.length, `${key}: ${JSON.stringify(entries.map((e) => e.action))}`).toBeGreaterThan(0);
      expect(
        own.some((e) => e.details !== null),
        key,
      ).toBe(true);
      if (step.target)
        expect(
          own.some((e) => e.deviceId === step.target!()),
          `${key} names its handset`,
        ).toBe(true);
    }
  });
});

describe('authedAction', () => {
  const schema = z.object({ deviceId: z.string() });

  it('writes the declared entry itself when a successful action forgot to, naming the actor and the handset', async () => {
    const forgetful = authedAction({ roles: ['admin'], schema, audit: 'test.forgotten' }, () => 'done');
    signedIn.viewer = admin;
    const since = await markNow();
    expect(await forgetful(null, { deviceId: staffDevice })).toEqual({ ok: true, data: 'done' });
    expect((await entriesSince(ADMIN, since)).map((e) => [e.action, e.deviceId])).toEqual([
      ['test.forgotten', staffDevice],
    ]);
  });

  it('adds nothing when the action wrote its entry, when it failed, when it was refused, or when it reads only', async () => {
    const careful = authedAction({ roles: ['admin'], schema, audit: 'test.done' }, async (i, ctx) => {
      await ctx.audit('test.done', { deviceId: i.deviceId, details: { why: 'own' } });
    });
    const failing = authedAction({ roles: ['admin'], schema, audit: 'test.failed' }, () => {
      throw AppError.invalid('no');
    });
    const reading = authedAction({ roles: ['admin'], schema, audit: false }, () => 1);
    const since = await markNow();
    signedIn.viewer = admin;
    await careful(null, { deviceId: staffDevice });
    expect(await failing(null, { deviceId: staffDevice })).toMatchObject({ ok: false });
    expect(await failing(null, { nothing: 1 })).toMatchObject({ ok: false });
    await reading(null, { deviceId: staffDevice });
    signedIn.viewer = staff('agent', 'audit-agent@rewind.test');
    expect(await careful(null, { deviceId: staffDevice })).toMatchObject({ ok: false });
    expect((await entriesSince(ADMIN, since)).map((e) => e.action)).toEqual(['test.done']);
    expect(await entriesSince('audit-agent@rewind.test', since)).toEqual([]);
  });
});

describe('the REST API', () => {
  it('builds every route that changes something with apiHandler (bearer token, role, audit)', () => {
    const routes = (fs.readdirSync(path.join(ROOT, 'app/api/v1'), { recursive: true }) as string[]).filter(
      (f) => path.basename(f) === 'route.ts',
    );
    expect(routes.length).toBeGreaterThan(20);
    let mutations = 0;
    for (const f of routes) {
      const src = fs.readFileSync(path.join(ROOT, 'app/api/v1', f), 'utf8');
      for (const m of src.matchAll(/export (?:const|async function) (POST|PUT|PATCH|DELETE)\b(.{0,30})/g)) {
        mutations++;
        expect(m[2], `${f} ${m[1]}`).toMatch(/^ = apiHandler\b/);
      }
    }
    expect(mutations).toBeGreaterThan(10);
  });

  it('records a successful mutation that wrote no entry of its own, and nothing for reads, refusals or routes that audit', async () => {
    const { token, id } = await createApiToken(t.ctx.db, 'admin', 'audit net');
    const actor = `token:${id}`;
    const call = (h: ReturnType<typeof apiHandler>, method: string) =>
      h(new Request('http://127.0.0.1/api/v1/things/7', { method, headers: { authorization: `Bearer ${token}` } }), {
        params: Promise.resolve({}),
      });
    const forgetful = apiHandler(['admin'], () => Response.json({}, { status: 201 }));
    const careful = apiHandler(['admin'], async (_r, ctx) => {
      await insertAudit(ctx.db, { actor: `token:${ctx.tokenId}`, action: 'thing.made', details: { n: 1 } });
      return Response.json({}, { status: 201 });
    });
    const refusing = apiHandler(['admin'], () => apiError(409, 'conflict', 'no'));
    const mark = await markNow();
    expect((await call(forgetful, 'POST')).status).toBe(201);
    expect(await entriesSince(actor, mark)).toEqual([
      { action: 'api.request', deviceId: null, details: JSON.stringify({ method: 'POST', path: '/api/v1/things/7' }) },
    ]);
    const mark2 = await markNow();
    await call(forgetful, 'GET');
    await call(careful, 'PUT');
    await call(refusing, 'DELETE');
    expect((await entriesSince(actor, mark2)).map((e) => e.action)).toEqual(['thing.made']);
  });
});
