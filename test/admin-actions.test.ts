/** The admin actions: refused to agents and subscribers, audited for admins, and their own rules. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { getAssignment, getPolicyByName, listPolicies } from '@/db/queries/policies';
import { listTokens } from '@/db/queries/tokens';
import { getUserByEmail, listUsers } from '@/db/queries/users';
import { createUser } from '@/lib/auth/users';
import { provisionDevice } from '@/lib/devices/devices';
import { FORBIDDEN } from '@/lib/server/action';
import { authenticateBearer } from '@/lib/auth/tokens';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext, type TempContext } from './support/as-viewer';
import {
  assignPolicyAction,
  savePolicyAction,
  setGroupAction,
  deletePolicyAction,
  unassignPolicyAction,
} from '@/app/(console)/admin/policies/actions';
import {
  changeRoleAction,
  createUserAction,
  deleteUserAction,
  resetPasswordAction,
  unlockUserAction,
} from '@/app/(console)/admin/users/actions';
import { createTokenAction, revokeTokenAction } from '@/app/(console)/admin/tokens/actions';
import { addModelAction, saveProfileAction } from '@/app/(console)/admin/models/actions';
import { deleteGroupAction, importGroupAction, saveRuleGroupAction } from '@/app/(console)/admin/groups/actions';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('./support/as-viewer')).signedIn.viewer,
}));
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

let t: TempContext;
let adminId: string;
const DEV_ID = 'IMEI:356938035643809';

beforeAll(async () => {
  t = await tempContext('rewind-admin-');
  await provisionDevice(t.ctx.db, {
    devId: DEV_ID,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
  adminId = (await createUser(t.ctx.db, { email: 'boss@rewind.test', password: 'a long password', role: 'admin' })).id;
});
afterAll(() => t.close());

/** What an action refused must leave as it was. */
async function counts() {
  return {
    policies: (await listPolicies(t.ctx.db)).length,
    users: (await listUsers(t.ctx.db)).length,
    tokens: (await listTokens(t.ctx.db)).length,
    audit: (await listAudit(t.ctx.db)).length,
  };
}

const admin = () => ({ ...staff('admin', 'boss@rewind.test'), userId: adminId });
const policyForm = {
  name: 'Trial',
  interval: '12',
  intervalUnit: 'hours',
  jitterMinutes: '15',
  categories: ['settings'],
};

describe('admin actions', () => {
  const every = {
    savePolicyAction: () => savePolicyAction(null, policyForm),
    assignPolicyAction: () => assignPolicyAction(null, { kind: 'model', key: 'Nimbus/N1', policyId: 'x' }),
    unassignPolicyAction: () => unassignPolicyAction(null, { id: 'x' }),
    setGroupAction: () => setGroupAction(null, { devId: DEV_ID, group: 'trial' }),
    deletePolicyAction: () => deletePolicyAction(null, { id: 'x' }),
    saveRuleGroupAction: () => saveRuleGroupAction(null, { name: 'g', model: 'Nimbus/N1' }),
    importGroupAction: () => importGroupAction(null, { name: 'g', csv: DEV_ID }),
    deleteGroupAction: () => deleteGroupAction(null, { name: 'g' }),
    createUserAction: () =>
      createUserAction(null, { email: 'x@rewind.test', role: 'admin', subscriberId: '', password: 'a long password' }),
    changeRoleAction: () => changeRoleAction(null, { id: adminId, role: 'agent' }),
    resetPasswordAction: () => resetPasswordAction(null, { id: adminId, password: 'another long password' }),
    unlockUserAction: () => unlockUserAction(null, { id: adminId }),
    deleteUserAction: () => deleteUserAction(null, { id: adminId }),
    createTokenAction: () => createTokenAction(null, { name: 'x', role: 'admin' }),
    revokeTokenAction: () => revokeTokenAction(null, { id: 'x' }),
    addModelAction: () => addModelAction(null, { manufacturer: 'Acme', model: 'A1' }),
    saveProfileAction: () => saveProfileAction(null, { manufacturer: 'Nimbus', model: 'N1', settings: './Settings' }),
  };

  it.each(Object.keys(every))('%s refuses agents and subscribers, and changes nothing', async (name) => {
    const before = await counts();
    for (const v of [staff('agent'), subscriberViewer('someone')]) {
      signedIn.viewer = v;
      expect(await every[name as keyof typeof every]()).toEqual({ ok: false, error: FORBIDDEN });
    }
    expect(await counts()).toEqual(before);
  });

  it('let an admin create a policy, assign it and group a handset, each audited under their email', async () => {
    signedIn.viewer = admin();
    expect(await savePolicyAction(null, policyForm)).toMatchObject({ ok: true });
    const trial = (await getPolicyByName(t.ctx.db, 'Trial'))!;
    expect(trial.intervalMinutes).toBe(12 * 60);
    // A group must exist to be assigned a policy: it is made by putting a handset in it.
    expect(await assignPolicyAction(null, { kind: 'group', key: 'trial', policyId: trial.id })).toMatchObject({
      ok: false,
      fieldErrors: { key: [expect.stringMatching(/device groups/)] },
    });
    expect(await setGroupAction(null, { devId: DEV_ID, group: 'trial' })).toMatchObject({ ok: true });
    expect(await assignPolicyAction(null, { kind: 'group', key: 'trial', policyId: trial.id })).toMatchObject({
      ok: true,
    });
    expect((await getAssignment(t.ctx.db, 'group', 'trial'))?.policyId).toBe(trial.id);
    expect(await assignPolicyAction(null, { kind: 'model', key: 'not a model', policyId: trial.id })).toMatchObject({
      ok: false,
      fieldErrors: { key: [expect.stringMatching(/Manufacturer\/Model/)] },
    });
    // A model is one some handset reports (or one with a profile): a typo would match no handset.
    const unknown = await assignPolicyAction(null, { key: 'model:Nimbus/N9', policyId: trial.id });
    expect(unknown).toMatchObject({ ok: false, fieldErrors: { key: [expect.stringMatching(/known models/)] } });
    expect(await getAssignment(t.ctx.db, 'model', 'Nimbus/N9')).toBeUndefined();
    expect(await assignPolicyAction(null, { key: 'model:Nimbus/N1', policyId: trial.id })).toMatchObject({ ok: true });
    expect((await getAssignment(t.ctx.db, 'model', 'Nimbus/N1'))?.policyId).toBe(trial.id);
    expect(await setGroupAction(null, { devId: 'IMEI:000000000000000', group: 'trial' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no handset/),
    });
    expect(await setGroupAction(null, { devId: DEV_ID, group: 'trial' })).toMatchObject({ ok: true });
    const actions = (await listAudit(t.ctx.db)).filter((a) => a.actor === 'boss@rewind.test').map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['policy.created', 'policy.assigned', 'device.group-set']));
  });

  it('never let an admin delete or demote themselves', async () => {
    signedIn.viewer = admin();
    expect(await deleteUserAction(null, { id: adminId })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/own account/),
    });
    expect(await changeRoleAction(null, { id: adminId, role: 'agent' })).toMatchObject({ ok: false });
    expect((await getUserByEmail(t.ctx.db, 'boss@rewind.test'))?.role).toBe('admin');
    expect(
      await createUserAction(null, {
        email: 'Agent.Two@rewind.test',
        role: 'agent',
        subscriberId: '',
        password: 'a long password',
      }),
    ).toMatchObject({ ok: true });
    const other = (await getUserByEmail(t.ctx.db, 'agent.two@rewind.test'))!;
    expect(await changeRoleAction(null, { id: other.id, role: 'admin' })).toMatchObject({ ok: true });
    expect(await deleteUserAction(null, { id: other.id })).toMatchObject({ ok: true });
    expect(await getUserByEmail(t.ctx.db, 'agent.two@rewind.test')).toBeUndefined();
  });

  it('show a token once, and a revoked token no longer authenticates', async () => {
    signedIn.viewer = admin();
    const r = await createTokenAction(null, { name: 'billing', role: 'agent' });
    if (!r.ok) throw new Error(r.error);
    expect(await authenticateBearer(t.ctx.db, `Bearer ${r.data.token}`)).toMatchObject({
      name: 'billing',
      scope: 'full',
    });
    const row = (await listTokens(t.ctx.db)).find((x) => x.name === 'billing')!;
    expect(row).not.toHaveProperty('tokenHash');
    expect(await revokeTokenAction(null, { id: row.id })).toMatchObject({ ok: true });
    expect(await authenticateBearer(t.ctx.db, `Bearer ${r.data.token}`)).toBeUndefined();
    expect(await revokeTokenAction(null, { id: row.id })).toMatchObject({ ok: false });
  });

  it("save a model's own paths per category and refuse what is not a DM path", async () => {
    signedIn.viewer = admin();
    expect(
      await saveProfileAction(null, {
        manufacturer: 'Nimbus',
        model: 'N1',
        settings: './Settings/\n\n./Ext/Sound',
        appdata: 'not/a/path',
      }),
    ).toMatchObject({ ok: false, fieldErrors: { appdata: [expect.stringMatching(/^Line 1/)] } });
    const ok = await saveProfileAction(null, {
      manufacturer: 'Nimbus',
      model: 'N1',
      settings: './Settings/\n\n./Ext/Sound',
    });
    expect(ok).toEqual({ ok: true, data: { changed: ['settings'] } });
    expect((await listAudit(t.ctx.db, { action: 'profile.set' }))[0]?.details).toContain('./Ext/Sound');
  });
});
