/** "Back up now" as each kind of viewer: queued once, joined after, audited, and only for staff. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { jobsForDevice } from '@/db/queries/jobs';
import { provisionDevice } from '@/lib/devices/devices';
import { FORBIDDEN, NOT_SIGNED_IN } from '@/lib/server/action';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { backUpNow } from './actions';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));
// Outside a Next request there is no cache to revalidate.
vi.mock('next/cache', () => ({ revalidatePath: vi.fn() }));

let t: Awaited<ReturnType<typeof tempContext>>;
let deviceId: string;
let owner: string;

beforeAll(async () => {
  t = await tempContext();
  const d = await provisionDevice(t.ctx.db, {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  deviceId = d.id;
  owner = d.subscriberId!;
});
afterAll(() => t.close());

describe('back up now', () => {
  it('is for staff only: a visitor and a subscriber (even the owner) are refused, and nothing is queued', async () => {
    signedIn.viewer = null;
    expect(await backUpNow(null, { deviceId })).toEqual({ ok: false, error: NOT_SIGNED_IN });
    signedIn.viewer = subscriberViewer(owner);
    expect(await backUpNow(null, { deviceId })).toEqual({ ok: false, error: FORBIDDEN });
    expect(await jobsForDevice(t.ctx.db, deviceId)).toHaveLength(0);
  });

  it('queues an on-demand backup that wakes the handset, audited under the agent', async () => {
    signedIn.viewer = staff('agent', 'care-1@rewind.test');
    const r = await backUpNow(null, { deviceId });
    expect(r).toMatchObject({ ok: true, data: { created: true } });
    const [job] = await jobsForDevice(t.ctx.db, deviceId);
    expect(job).toMatchObject({ id: r.ok && r.data.jobId, kind: 'backup', status: 'queued', wakePending: true });
    expect(job!.payload).toMatchObject({ trigger: 'on-demand', actor: 'care-1@rewind.test' });
    expect((await listAudit(t.ctx.db, { deviceId }))[0]).toMatchObject({
      actor: 'care-1@rewind.test',
      action: 'backup.requested',
    });
  });

  it('joins the backup already pending instead of starting a second, and audits that too', async () => {
    signedIn.viewer = staff('admin', 'admin-1@rewind.test');
    const r = await backUpNow(null, { deviceId });
    expect(r).toMatchObject({ ok: true, data: { created: false } });
    expect(await jobsForDevice(t.ctx.db, deviceId)).toHaveLength(1);
    expect((await listAudit(t.ctx.db, { deviceId }))[0]).toMatchObject({
      actor: 'admin-1@rewind.test',
      action: 'backup.joined',
    });
  });

  it('answers "not found" for an unknown handset and a bad id', async () => {
    signedIn.viewer = staff('agent');
    const r = await backUpNow(null, { deviceId: 'not-a-device' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/No such handset/);
    expect(await backUpNow(null, { deviceId: '' })).toMatchObject({
      ok: false,
      fieldErrors: { deviceId: expect.any(Array) },
    });
  });
});
