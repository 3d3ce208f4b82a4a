/** The fleet overview's figures: days, coverage, failure reasons and storage from aggregates. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertJob, updateJob } from '@/db/queries/jobs';
import { provisionDevice } from '@/lib/devices/devices';
import { tempContext, type TempContext } from '@/test/support/as-viewer';
import { seedSnapshot } from '@/test/support/fixtures';
import { FLEET_DAYS, fleetOverview } from './fleet-overview';
import { authGate, resetAuthGates } from '@/lib/auth/limits';

let t: TempContext;
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
  t = await tempContext('rewind-fleet-');
});
afterAll(() => t.close());

describe('fleet overview', () => {
  it('counts backups per day, coverage by age, failures by reason and storage', async () => {
    const db = t.ctx.db;
    const now = Date.now(); // the store stamps content with the real time
    const fresh = await provisionDevice(db, { ...base, devId: 'IMEI:356938035643809' });
    const stale = await provisionDevice(db, { ...base, devId: 'IMEI:490154203237518' });
    await provisionDevice(db, { ...base, devId: 'IMEI:353918057452738' }); // never backed up
    await seedSnapshot(
      db,
      t.ctx.blobs,
      fresh.id,
      { './DevInfo/Man': { category: 'settings', value: 'Nimbus' } },
      { at: now - 3_600_000 },
    );
    await seedSnapshot(
      db,
      t.ctx.blobs,
      fresh.id,
      { './DevInfo/Man': { category: 'settings', value: 'Nimbus' } },
      { at: now - 2 * 86_400_000 },
    );
    await seedSnapshot(
      db,
      t.ctx.blobs,
      stale.id,
      { './DevDetail/FwV': { category: 'firmware', value: '1.0' } },
      { at: now - 3 * 86_400_000 },
    );
    for (const error of ['handset unreachable', 'handset unreachable', 'session timed out']) {
      const j = await insertJob(db, {
        deviceId: stale.id,
        kind: 'backup',
        payload: { trigger: 'scheduled', categories: ['settings'], actor: 'scheduler' },
      });
      await updateJob(db, j.id, { status: 'failed', error, updatedAt: now - 1000 });
    }
    const f = await fleetOverview(db, now);
    expect(f.backups).toHaveLength(FLEET_DAYS);
    const onDay = (at: number) => f.backups.find((d) => d.day === Math.floor(at / 86_400_000) * 86_400_000)!;
    expect(onDay(now - 3_600_000 - 1000).complete).toBeGreaterThanOrEqual(1);
    expect(onDay(now - 3 * 86_400_000 - 1000).complete).toBe(1);
    expect(f.backups.reduce((n, d) => n + d.complete, 0)).toBe(3);
    expect(f.coverage).toEqual({ day: 1, week: 1, older: 0, never: 1, devices: 3 });
    expect(f.failures).toEqual([
      { kind: 'backup', reason: 'handset unreachable', n: 2 },
      { kind: 'backup', reason: 'session timed out', n: 1 },
    ]);
    expect(f.categories).toEqual([
      { category: 'firmware', devices: 1, share: 1 / 3 },
      { category: 'settings', devices: 1, share: 1 / 3 },
    ]);
    // Two backups of the same value: stored once, counted twice logically.
    expect(f.totals.logical).toBe(6 + 6 + 3);
    expect(f.totals.stored).toBeLessThan(f.totals.logical + 1000);
    expect(f.storage.at(-1)!.stored).toBe(f.totals.stored);
  });

  it('counts the refused authentications of this process by door and reason', async () => {
    resetAuthGates();
    expect((await fleetOverview(t.ctx.db)).refusals.rows).toEqual([]);
    const dm = authGate('dm');
    dm.refused({ reason: 'unknown', retryAfterSeconds: 600 }, '192.0.2.1', 'IMEI:1');
    dm.refused({ reason: 'unknown', retryAfterSeconds: 590 }, '192.0.2.1', 'IMEI:2');
    authGate('api').refused({ reason: 'identity', retryAfterSeconds: 600 }, '192.0.2.2');
    const r = (await fleetOverview(t.ctx.db)).refusals;
    expect(r.perProcess).toBe(true);
    expect(r.rows.map(({ door, reason, count }) => ({ door, reason, count }))).toEqual([
      { door: 'dm', reason: 'unknown', count: 2 },
      { door: 'api', reason: 'identity', count: 1 },
    ]);
    expect(r.rows[0]).toMatchObject({ doorName: '/dm', meaning: expect.stringContaining('unknown DevIds') });
    resetAuthGates();
  });
});
