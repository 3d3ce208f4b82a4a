/** The search box's JSON route: staff only, checked by the route itself (no layout runs for it). */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { insertJob } from '@/db/queries/jobs';
import { insertSnapshot, updateSnapshot } from '@/db/queries/snapshots';
import { subscriberActivity } from '@/db/queries/subscribers';
import { provisionDevice } from '@/lib/devices/devices';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { GET } from './route';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));

let t: Awaited<ReturnType<typeof tempContext>>;
let ada: { id: string; subscriberId: string | null };
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
  t = await tempContext();
  ada = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:490154203237518',
    subscriber: 'Bob Other',
    msisdn: '447700900456',
  });
});
afterAll(() => t.close());

const ask = async (q: string) => {
  const r = await GET(new Request(`http://rewind.test/search?q=${encodeURIComponent(q)}`));
  return { status: r.status, body: (await r.json()) as { hits?: Array<{ name: string }>; error?: string } };
};

describe('GET /search', () => {
  it('answers agents and admins with the hits, best first', async () => {
    for (const role of ['agent', 'admin'] as const) {
      signedIn.viewer = staff(role);
      const r = await ask('07700 900123');
      expect(r.status).toBe(200);
      expect(r.body.hits!.map((h) => h.name)).toEqual(['Ada Lovelace']);
    }
    expect((await ask('')).body.hits).toEqual([]);
  });

  it('refuses a visitor and a subscriber, even one looking for themselves', async () => {
    signedIn.viewer = null;
    expect(await ask('Ada')).toEqual({ status: 401, body: { error: 'Sign in to search.' } });
    signedIn.viewer = subscriberViewer(ada.subscriberId!);
    const r = await ask('Ada');
    expect(r.status).toBe(403);
    expect(r.body.hits).toBeUndefined();
  });
});

describe('subscriberActivity', () => {
  it("lists the subscriber's jobs and backups newest first, and nobody else's", async () => {
    const db = t.ctx.db;
    const old = await insertSnapshot(db, { deviceId: ada.id, trigger: 'scheduled', categories: ['settings'] });
    await updateSnapshot(db, old.id, { status: 'complete', startedAt: 1_000, completedAt: 2_000 });
    const job = await insertJob(db, {
      deviceId: ada.id,
      kind: 'restore',
      payload: { planId: 'plan-1', actor: 'test' },
    });
    const entries = await subscriberActivity(db, ada.subscriberId!, 10);
    expect(entries.map((e) => (e.type === 'job' ? e.job.id : e.snapshot.id))).toEqual([job.id, old.id]);
    expect(entries.every((e) => e.devId === 'IMEI:356938035643809')).toBe(true);
    const bob = await provisionDevice(db, {
      ...base,
      devId: 'IMEI:490154203237518',
      subscriber: 'Bob Other',
      msisdn: '447700900456',
    });
    expect(await subscriberActivity(db, bob.subscriberId!, 10)).toEqual([]);
  });
});
