/** Policy resolution (own, group, model, default), the scheduler following it, and the next-backup preview. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDevice, updateDevice } from '@/db/queries/devices';
import { deleteAssignment, insertPolicy, setAssignment, setDeviceGroup } from '@/db/queries/policies';
import { jobsForDevice } from '@/db/queries/jobs';
import { provisionDevice } from '@/lib/devices';
import { handsetNextBackup, policyPreview, policyFormSchema, savePolicy } from '@/lib/admin-policies';
import { tempContext } from '@/test/as-viewer';
import { seedSnapshot } from '@/test/fixtures';
import { ensureDefaultPolicy, jitterMs, policyFor, policyResolver, resolvePolicy } from './policy';
import { scheduleDueBackups } from './scheduler';

let t: ReturnType<typeof tempContext>;
const base = { manufacturer: 'Nimbus', model: 'N1', serverId: 'rewind', clientAuth: 'md5' as const, clientUser: 'u', clientPass: 'p', serverPass: 's' };
const policy = (name: string, intervalMinutes: number, jitterMinutes = 0) =>
  insertPolicy(t.ctx.db, { name, categories: '["settings"]', intervalMinutes, jitterMinutes, retention: '{}' });

beforeAll(() => { t = tempContext('rewind-policy-'); });
afterAll(() => t.close());

describe('policy resolution', () => {
  it("takes the device's own policy, then its group's, then its model's, then the default", () => {
    const db = t.ctx.db;
    const fallback = ensureDefaultPolicy(db);
    const own = policy('Own', 60);
    const group = policy('Group', 120);
    const model = policy('Model', 180);
    const d = provisionDevice(db, { ...base, devId: 'IMEI:356938035643809' });
    const resolved = () => {
      const row = getDevice(db, d.id)!;
      const one = resolvePolicy(db, row);
      // The batch resolver (the scheduler's) must agree with the per-device one.
      const many = policyResolver(db)(row);
      expect(many.policy.id).toBe(one.policy.id);
      expect(many.source).toBe(one.source);
      expect(policyFor(db, row).id).toBe(one.policy.id);
      return `${one.source}:${one.policy.name}`;
    };
    expect(resolved()).toBe(`default:${fallback.name}`);
    setAssignment(db, 'model', 'Nimbus/N1', model.id);
    expect(resolved()).toBe('model:Model');
    setAssignment(db, 'group', 'trial', group.id);
    expect(resolved()).toBe('model:Model'); // not in the group yet
    setDeviceGroup(db, d.devId, 'trial');
    expect(resolved()).toBe('group:Group');
    updateDevice(db, d.id, { policyId: own.id });
    expect(resolved()).toBe('device:Own');
    // A policy id that names nothing (deleted) falls through to the next rule.
    updateDevice(db, d.id, { policyId: 'gone' });
    expect(resolved()).toBe('group:Group');
    setDeviceGroup(db, d.devId, null);
    expect(resolved()).toBe('model:Model');
    const a = setAssignment(db, 'model', 'Nimbus/N1', model.id);
    deleteAssignment(db, a.id);
    expect(resolved()).toBe(`default:${fallback.name}`);
    // Another model's assignment does not apply.
    setAssignment(db, 'model', 'Nimbus/N2', model.id);
    expect(resolved()).toBe(`default:${fallback.name}`);
  });

  it('is what the scheduler follows: a device whose group policy is due is queued, one on the default is not', async () => {
    const db = t.ctx.db;
    const hourly = policy('Hourly', 60);
    const now = Date.now();
    const inGroup = provisionDevice(db, { ...base, devId: 'IMEI:490154203237518' });
    const onDefault = provisionDevice(db, { ...base, devId: 'IMEI:353918057452738' });
    for (const d of [inGroup, onDefault]) await seedSnapshot(db, t.ctx.blobs, d.id, { './DevInfo/Man': { category: 'settings', value: 'Nimbus' } }, { at: now - 2 * 3_600_000 });
    setAssignment(db, 'group', 'hourly', hourly.id);
    setDeviceGroup(db, inGroup.devId, 'hourly');
    await scheduleDueBackups(t.ctx, now);
    expect(jobsForDevice(db, inGroup.id, ['queued']).map((j) => j.kind)).toEqual(['backup']);
    expect(jobsForDevice(db, onDefault.id, ['queued'])).toEqual([]);
  });
});

describe('next backup preview', () => {
  it("shows the scheduler's time for each device the policy applies to, and moves when the interval changes", async () => {
    const db = t.ctx.db;
    const form = (over: Record<string, unknown>) => policyFormSchema.parse({ name: 'Weekly', interval: '7', intervalUnit: 'days', jitterMinutes: '30', categories: ['settings', 'appdata'], ...over });
    const { policy: weekly } = savePolicy(db, form({}));
    expect(weekly.intervalMinutes).toBe(7 * 24 * 60);
    const d = provisionDevice(db, { ...base, manufacturer: 'Acme', model: 'A5', devId: 'IMEI:013977000272744' });
    const never = provisionDevice(db, { ...base, manufacturer: 'Acme', model: 'A5', devId: 'IMEI:359881234567890' });
    const other = provisionDevice(db, { ...base, manufacturer: 'Acme', model: 'A6', devId: 'IMEI:352099001761481' });
    const last = Date.UTC(2025, 2, 1, 12);
    await seedSnapshot(db, t.ctx.blobs, d.id, { './DevInfo/Man': { category: 'settings', value: 'Acme' } }, { at: last });
    setAssignment(db, 'model', 'Acme/A5', weekly.id);

    const preview = policyPreview(db, weekly.id);
    expect(preview.map((p) => p.devId).sort()).toEqual([d.devId, never.devId].sort());
    expect(preview.find((p) => p.devId === other.devId)).toBeUndefined();
    const mine = preview.find((p) => p.devId === d.devId)!;
    expect(mine.source).toBe('model');
    expect(mine.nextAt).toBe(last + 7 * 86_400_000 + jitterMs(d.devId, 30));
    // Without a backup the interval counts from registration, as the scheduler counts it.
    expect(preview.find((p) => p.devId === never.devId)!.nextAt).toBe(getDevice(db, never.id)!.createdAt + 7 * 86_400_000 + jitterMs(never.devId, 30));
    // Soonest first.
    expect(preview.map((p) => p.nextAt)).toEqual([...preview.map((p) => p.nextAt)].sort((a, b) => a! - b!));

    savePolicy(db, form({ id: weekly.id, interval: '2' }));
    expect(handsetNextBackup(db, d.devId)).toMatchObject({ policyName: 'Weekly', source: 'model', nextAt: last + 2 * 86_400_000 + jitterMs(d.devId, 30) });

    // An interval of 0 schedules nothing.
    savePolicy(db, form({ id: weekly.id, interval: '0' }));
    expect(handsetNextBackup(db, d.devId)!.nextAt).toBeUndefined();
    expect(handsetNextBackup(db, 'IMEI:000000000000000')).toBeUndefined();
  });

  it('keeps policy names unique and one default', () => {
    const db = t.ctx.db;
    const f = policyFormSchema.parse({ name: 'Nightly', interval: '1', intervalUnit: 'days', categories: 'settings', makeDefault: 'on' });
    const { policy: nightly } = savePolicy(db, f);
    expect(ensureDefaultPolicy(db).id).toBe(nightly.id);
    expect(() => savePolicy(db, { ...f, makeDefault: false })).toThrow(/already exists/);
    expect(policyFormSchema.safeParse({ name: 'X', interval: '1', categories: [] }).success).toBe(false);
  });
});
