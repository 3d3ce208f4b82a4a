/** Policy resolution (own, group, model, default), the scheduler following it, and the next-backup preview. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDevice, updateDevice } from '@/db/queries/devices';
import { deleteAssignment, insertPolicy, setAssignment } from '@/db/queries/policies';
import { setHandsetGroup } from '@/lib/groups/groups';
import { jobsForDevice } from '@/db/queries/jobs';
import { provisionDevice } from '@/lib/devices/devices';
import { handsetNextBackup, policyPreview, policyFormSchema, savePolicy } from '@/lib/policies/policies';
import { tempContext } from '@/test/support/as-viewer';
import { testDb } from '@/test/support/db';
import { closeDb, schema } from '@/db/client';
import { seedSnapshot } from '@/test/support/fixtures';
import { ensureDefaultPolicy, jitterMs, policyFor, policyResolver, resolvePolicy } from './policy';
import { scheduleDueBackups } from './scheduler';

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
const policy = (name: string, intervalMinutes: number, jitterMinutes = 0) =>
  insertPolicy(t.ctx.db, { name, categories: '["settings"]', intervalMinutes, jitterMinutes, retention: '{}' });

beforeAll(async () => {
  t = await tempContext('rewind-policy-');
});
afterAll(async () => {
  await t.close();
});

describe('policy resolution', () => {
  it("takes the device's own policy, then its group's, then its model's, then the default", async () => {
    const db = t.ctx.db;
    const fallback = await ensureDefaultPolicy(db);
    const own = await policy('Own', 60);
    const group = await policy('Group', 120);
    const model = await policy('Model', 180);
    const d = await provisionDevice(db, { ...base, devId: 'IMEI:356938035643809' });
    const resolved = async () => {
      const row = (await getDevice(db, d.id))!;
      const one = await resolvePolicy(db, row);
      // The batch resolver (the scheduler's) must agree with the per-device one.
      const many = (await policyResolver(db))(row);
      expect(many.policy.id).toBe(one.policy.id);
      expect(many.source).toBe(one.source);
      expect((await policyFor(db, row)).id).toBe(one.policy.id);
      return `${one.source}:${one.policy.name}`;
    };
    expect(await resolved()).toBe(`default:${fallback.name}`);
    await setAssignment(db, 'model', 'Nimbus/N1', model.id);
    expect(await resolved()).toBe('model:Model');
    await setAssignment(db, 'group', 'trial', group.id);
    expect(await resolved()).toBe('model:Model'); // not in the group yet
    await setHandsetGroup(db, { devId: d.devId, group: 'trial' }, 'test');
    expect(await resolved()).toBe('group:Group');
    await updateDevice(db, d.id, { policyId: own.id });
    expect(await resolved()).toBe('device:Own');
    // A policy id that names nothing (deleted) falls through to the next rule.
    await updateDevice(db, d.id, { policyId: 'gone' });
    expect(await resolved()).toBe('group:Group');
    await setHandsetGroup(db, { devId: d.devId, group: null }, 'test');
    expect(await resolved()).toBe('model:Model');
    const a = await setAssignment(db, 'model', 'Nimbus/N1', model.id);
    await deleteAssignment(db, a.id);
    expect(await resolved()).toBe(`default:${fallback.name}`);
    // Another model's assignment does not apply.
    await setAssignment(db, 'model', 'Nimbus/N2', model.id);
    expect(await resolved()).toBe(`default:${fallback.name}`);
  });

  it('is what the scheduler follows: a device whose group policy is due is queued, one on the default is not', async () => {
    const db = t.ctx.db;
    const hourly = await policy('Hourly', 60);
    const now = Date.now();
    const inGroup = await provisionDevice(db, { ...base, devId: 'IMEI:490154203237518' });
    const onDefault = await provisionDevice(db, { ...base, devId: 'IMEI:353918057452738' });
    for (const d of [inGroup, onDefault])
      await seedSnapshot(
        db,
        t.ctx.blobs,
        d.id,
        { './DevInfo/Man': { category: 'settings', value: 'Nimbus' } },
        { at: now - 2 * 3_600_000 },
      );
    await setHandsetGroup(db, { devId: inGroup.devId, group: 'hourly' }, 'test');
    await setAssignment(db, 'group', 'hourly', hourly.id);
    await scheduleDueBackups(t.ctx, now);
    expect((await jobsForDevice(db, inGroup.id, ['queued'])).map((j) => j.kind)).toEqual(['backup']);
    expect(await jobsForDevice(db, onDefault.id, ['queued'])).toEqual([]);
  });
});

describe('next backup preview', () => {
  it("shows the scheduler's time for each device the policy applies to, and moves when the interval changes", async () => {
    const db = t.ctx.db;
    const form = (over: Record<string, unknown>) =>
      policyFormSchema.parse({
        name: 'Weekly',
        interval: '7',
        intervalUnit: 'days',
        jitterMinutes: '30',
        categories: ['settings', 'appdata'],
        ...over,
      });
    const { policy: weekly } = await savePolicy(db, form({}));
    expect(weekly.intervalMinutes).toBe(7 * 24 * 60);
    const d = await provisionDevice(db, { ...base, manufacturer: 'Acme', model: 'A5', devId: 'IMEI:013977000272744' });
    const never = await provisionDevice(db, {
      ...base,
      manufacturer: 'Acme',
      model: 'A5',
      devId: 'IMEI:359881234567890',
    });
    const other = await provisionDevice(db, {
      ...base,
      manufacturer: 'Acme',
      model: 'A6',
      devId: 'IMEI:352099001761481',
    });
    const last = Date.UTC(2025, 2, 1, 12);
    await seedSnapshot(
      db,
      t.ctx.blobs,
      d.id,
      { './DevInfo/Man': { category: 'settings', value: 'Acme' } },
      { at: last },
    );
    await setAssignment(db, 'model', 'Acme/A5', weekly.id);

    const preview = await policyPreview(db, weekly.id);
    expect(preview.map((p) => p.devId).sort()).toEqual([d.devId, never.devId].sort());
    expect(preview.find((p) => p.devId === other.devId)).toBeUndefined();
    const mine = preview.find((p) => p.devId === d.devId)!;
    expect(mine.source).toBe('model');
    expect(mine.nextAt).toBe(last + 7 * 86_400_000 + jitterMs(d.devId, 30));
    // Without a backup the interval counts from registration, as the scheduler counts it.
    expect(preview.find((p) => p.devId === never.devId)!.nextAt).toBe(
      (await getDevice(db, never.id))!.createdAt + 7 * 86_400_000 + jitterMs(never.devId, 30),
    );
    // Soonest first.
    expect(preview.map((p) => p.nextAt)).toEqual([...preview.map((p) => p.nextAt)].sort((a, b) => a! - b!));

    await savePolicy(db, form({ id: weekly.id, interval: '2' }));
    expect(await handsetNextBackup(db, d.devId)).toMatchObject({
      policyName: 'Weekly',
      source: 'model',
      nextAt: last + 2 * 86_400_000 + jitterMs(d.devId, 30),
    });

    // An interval of 0 schedules nothing.
    await savePolicy(db, form({ id: weekly.id, interval: '0' }));
    expect((await handsetNextBackup(db, d.devId))!.nextAt).toBeUndefined();
    expect(await handsetNextBackup(db, 'IMEI:000000000000000')).toBeUndefined();
  });

  it('keeps policy names unique and one default', async () => {
    const db = t.ctx.db;
    const f = policyFormSchema.parse({
      name: 'Nightly',
      interval: '1',
      intervalUnit: 'days',
      categories: 'settings',
      makeDefault: 'on',
    });
    const { policy: nightly } = await savePolicy(db, f);
    expect((await ensureDefaultPolicy(db)).id).toBe(nightly.id);
    await expect(savePolicy(db, { ...f, makeDefault: false })).rejects.toThrow(/already exists/);
    expect(policyFormSchema.safeParse({ name: 'X', interval: '1', categories: [] }).success).toBe(false);
  });
});

describe('the default policy', () => {
  it('is made once when sessions on a fresh database ask for it together', async () => {
    const db = await testDb();
    const made = await Promise.all(Array.from({ length: 8 }, () => ensureDefaultPolicy(db)));
    expect(new Set(made.map((p) => p.id)).size).toBe(1);
    expect((await db.select().from(schema.policies)).length).toBe(1);
    await closeDb(db);
  });
});
