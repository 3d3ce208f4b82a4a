/**
 * Device groups: rules evaluated live, static lists from CSV, deletion, and the policy order
 * they take part in (own, first group by priority, model, default), on either database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countDevices, deviceWhere } from '@/db/queries/device-list';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { getAssignment, insertPolicy, setAssignment } from '@/db/queries/policies';
import { rows } from '@/db/sql';
import { sql } from 'drizzle-orm';
import { ensureDefaultPolicy, policyResolver, resolvePolicy } from '@/lib/backup/policy';
import { provisionDevice } from '@/lib/devices/devices';
import {
  assignPolicy,
  deletePolicyAs,
  policyDeletionImpact,
  policiesPage,
  policyFormSchema,
  savePolicy,
} from '@/lib/policies/policies';
import { tempContext } from '@/test/support/as-viewer';
import {
  createGroup,
  deleteGroup,
  editGroup,
  importGroup,
  listGroupViews,
  memberIdentifiers,
  setHandsetGroup,
} from './groups';

let t: Awaited<ReturnType<typeof tempContext>>;
const base = {
  manufacturer: 'Nimbus',
  model: 'N1',
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'u',
  clientPass: 'p',
  serverPass: 's',
};
const ADMIN = 'admin@example.com';

beforeAll(async () => {
  t = await tempContext('rewind-groups-');
});
afterAll(async () => {
  await t.close();
});

async function matches(group: string): Promise<number> {
  return countDevices(t.ctx.db, await deviceWhere(t.ctx.db, { group }));
}
/** What `actor` wrote to the audit log, sorted (entries of one millisecond have no order). */
async function auditOf(actor: string): Promise<string[]> {
  const r = await rows<{ action: string }>(t.ctx.db, sql`select action from audit_events where actor = ${actor}`);
  return r.map((x) => x.action).sort();
}

describe('rule groups', () => {
  it('are evaluated live: a handset moves in and out as its firmware changes', async () => {
    const db = t.ctx.db;
    const d = await provisionDevice(db, { ...base, devId: 'IMEI:356938035643809', firmware: '2.5' });
    await provisionDevice(db, { ...base, model: 'N2', devId: 'IMEI:490154203237518', firmware: '2.5' });
    await createGroup(
      db,
      {
        kind: 'rule',
        name: 'old-n1',
        rule: { manufacturer: 'Nimbus', model: 'N1', firmwareFrom: '2.0', firmwareTo: '2.9' },
      },
      'maker@example.com',
    );
    expect(await auditOf('maker@example.com')).toEqual(['group.created']);
    expect(await matches('old-n1')).toBe(1);
    await updateDevice(db, d.id, { firmware: '2.10' }); // a version after 2.9, though it sorts before as text
    expect(await matches('old-n1')).toBe(0);
    await updateDevice(db, d.id, { firmware: '2.9' });
    expect(await matches('old-n1')).toBe(1);
    await editGroup(db, 'old-n1', { rule: { model: 'N2' } }, ADMIN);
    expect((await listGroupViews(db)).find((g) => g.name === 'old-n1')).toMatchObject({ matches: 1, kind: 'rule' });
    await expect(createGroup(db, { kind: 'rule', name: 'old-n1', rule: { model: 'N1' } }, ADMIN)).rejects.toThrow(
      /already exists/,
    );
  });
});

describe('static groups from CSV', () => {
  it('reads DevIds or IMEIs one a line, or a devId column', () => {
    expect(memberIdentifiers('IMEI:1\n356938035643809\r\n\nIMEI:1\n')).toEqual(['IMEI:1', '356938035643809']);
    expect(memberIdentifiers('name,devId\nAda,IMEI:2\nBob,"IMEI:3"\n')).toEqual(['IMEI:2', 'IMEI:3']);
  });

  it('imports members, reports unknown ones, replaces on request, and a deleted group takes its assignment', async () => {
    const db = t.ctx.db;
    const c = await provisionDevice(db, { ...base, devId: 'IMEI:353918057452738' });
    const first = await importGroup(
      db,
      { name: 'vip', csv: 'devId\nIMEI:356938035643809\n353918057452738\nIMEI:000\n' },
      'importer@example.com',
    );
    expect(first).toMatchObject({ group: 'vip', added: 2, removed: 0, members: 2, unknown: ['IMEI:000'] });
    expect(await auditOf('importer@example.com')).toEqual(['group.created', 'group.members-imported']);
    const again = await importGroup(db, { name: 'vip', csv: 'IMEI:353918057452738\n', replace: true }, ADMIN);
    expect(again).toMatchObject({ added: 0, removed: 1, members: 1, unknown: [] });
    expect(await matches('vip')).toBe(1);
    await expect(importGroup(db, { name: 'old-n1', csv: 'IMEI:1' }, ADMIN)).rejects.toThrow(/rule group/);

    const p = await insertPolicy(db, { name: 'VIP', categories: '["settings"]', intervalMinutes: 60, retention: '{}' });
    await assignPolicy(db, { kind: 'group', key: 'vip', policyId: p.id }, ADMIN);
    expect((await resolvePolicy(db, c)).policy.name).toBe('VIP');
    await editGroup(db, 'vip', { name: 'very-important' }, ADMIN);
    expect(await getAssignment(db, 'group', 'very-important')).toMatchObject({ policyId: p.id });
    expect(await deleteGroup(db, 'very-important', ADMIN)).toEqual({
      group: 'very-important',
      policyUnassigned: 'VIP',
    });
    expect(await getAssignment(db, 'group', 'very-important')).toBeUndefined();
    expect((await resolvePolicy(db, c)).source).toBe('default');
    await expect(assignPolicy(db, { kind: 'group', key: 'nobody', policyId: p.id }, ADMIN)).rejects.toThrow(
      /no device group/,
    );
  });
});

describe('policy resolution with groups', () => {
  it('takes the own policy, then the first group by priority, then the model, then the default; SQL agrees', async () => {
    const db = t.ctx.db;
    const fallback = await ensureDefaultPolicy(db);
    const mk = (name: string) =>
      insertPolicy(db, { name, categories: '["settings"]', intervalMinutes: 60, retention: '{}' });
    const [own, low, high, model] = [await mk('Own'), await mk('Low'), await mk('High'), await mk('ModelP')];
    const d = await provisionDevice(db, {
      ...base,
      manufacturer: 'Acme',
      model: 'A5',
      devId: 'IMEI:013977000272744',
      firmware: '1.0',
    });
    const check = async (expected: string) => {
      const row = (await getDeviceByDevId(db, d.devId))!;
      const one = await resolvePolicy(db, row);
      const many = (await policyResolver(db))(row);
      expect(`${many.source}:${many.policy.name}:${many.group ?? ''}`).toBe(
        `${one.source}:${one.policy.name}:${one.group ?? ''}`,
      );
      // The device list's policy filter (SQL) finds the handset under the same policy.
      const where = await deviceWhere(db, { policy: one.policy.id, q: d.devId });
      expect(await countDevices(db, where)).toBe(1);
      expect(`${one.source}:${one.policy.name}`).toBe(expected);
    };
    await check(`default:${fallback.name}`);
    await setAssignment(db, 'model', 'Acme/A5', model.id);
    await check('model:ModelP');
    await createGroup(
      db,
      { kind: 'rule', name: 'acme-1', rule: { model: 'A5', firmwareTo: '1.5' }, priority: 50 },
      ADMIN,
    );
    await setHandsetGroup(db, { devId: d.devId, group: 'acme-list' }, ADMIN);
    await setAssignment(db, 'group', 'acme-list', high.id);
    await check('group:High');
    await setAssignment(db, 'group', 'acme-1', low.id);
    await check('group:Low'); // priority 50 comes before the list's 100
    await editGroup(db, 'acme-1', { priority: 200 }, ADMIN);
    await check('group:High');
    await setHandsetGroup(db, { devId: d.devId, group: null }, ADMIN);
    await check('group:Low');
    await updateDevice(db, d.id, { firmware: '1.6' }); // out of the rule now
    await check('model:ModelP');
    await updateDevice(db, d.id, { policyId: own.id });
    await check('device:Own');

    // Deleting a policy: its assignments go, its own handsets fall back; the default stays.
    await setAssignment(db, 'group', 'acme-1', own.id);
    const impact = await policyDeletionImpact(db, own.id);
    expect(impact).toMatchObject({
      name: 'Own',
      ownHandsets: 1,
      handsets: 1,
      assignments: [{ kind: 'group', key: 'acme-1' }],
    });
    await deletePolicyAs(db, own.id, 'deleter@example.com');
    expect(await auditOf('deleter@example.com')).toEqual(['policy.deleted']);
    expect(await getAssignment(db, 'group', 'acme-1')).toBeUndefined();
    expect((await getDeviceByDevId(db, d.devId))!.policyId).toBeNull();
    await check('model:ModelP');
    await expect(deletePolicyAs(db, fallback.id, ADMIN)).rejects.toThrow(/default policy/);
    const page = await policiesPage(db, { creating: false });
    expect(page.all.find((p) => p.name === 'ModelP')).toMatchObject({ handsets: 1 });
    expect(page.assignments.find((a) => a.key === 'Acme/A5')).toMatchObject({ matches: 1 });
  });
});

describe('the safety backup setting', () => {
  it('is saved from the policy form: ticked on, unticked (absent) off', async () => {
    const form = { name: 'Safety', interval: '1', intervalUnit: 'days', categories: ['settings'] };
    const on = await savePolicy(t.ctx.db, policyFormSchema.parse({ ...form, safetyBackupBeforeUpdates: 'on' }));
    expect(on.policy.safetyBackupBeforeUpdates).toBe(true);
    const off = await savePolicy(t.ctx.db, policyFormSchema.parse({ ...form, id: on.policy.id }));
    expect(off.policy.safetyBackupBeforeUpdates).toBe(false);
  });
});
