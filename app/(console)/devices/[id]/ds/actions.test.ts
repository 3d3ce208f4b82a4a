/** "Back up contacts now" as each viewer: staff only, a DS account needed, a pending one joined, audited. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { jobsForDevice } from '@/db/queries/jobs';
import { addDsAccount } from '@/lib/ds/accounts';
import { provisionDevice } from '@/lib/devices/devices';
import { FORBIDDEN } from '@/lib/server/action';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { backUpContactsNow } from './actions';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

let t: Awaited<ReturnType<typeof tempContext>>;
let withAccount: { id: string; subscriberId: string | null };
let without: { id: string };

const form = (deviceId: string) => {
  const f = new FormData();
  f.set('deviceId', deviceId);
  return f;
};
const dsJobs = async (deviceId: string) =>
  (await jobsForDevice(t.ctx.db, deviceId, ['queued', 'running'])).filter((j) => j.kind === 'ds-backup');

beforeAll(async () => {
  t = await tempContext('rewind-ds-now-');
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  withAccount = await provisionDevice(t.ctx.db, { ...base, devId: 'IMEI:356938035643809', subscriber: 'Ada Lovelace' });
  without = await provisionDevice(t.ctx.db, { ...base, devId: 'IMEI:490154203237518' });
  await addDsAccount(t.ctx.db, { devId: 'IMEI:356938035643809', user: 'ada-phone', pass: 'secret' });
});
afterAll(() => t.close());

describe('backUpContactsNow', () => {
  it('refuses a subscriber, even on their own handset, and queues nothing', async () => {
    signedIn.viewer = subscriberViewer(withAccount.subscriberId!);
    expect(await backUpContactsNow(null, form(withAccount.id))).toEqual({ ok: false, error: FORBIDDEN });
    expect(await dsJobs(withAccount.id)).toHaveLength(0);
  });

  it('refuses a handset without a DS account in plain words', async () => {
    signedIn.viewer = staff('agent');
    expect(await backUpContactsNow(null, form(without.id))).toMatchObject({
      ok: false,
      error: expect.stringMatching(/no DS account/),
    });
    expect(await dsJobs(without.id)).toHaveLength(0);
    expect((await backUpContactsNow(null, form('nope'))).ok).toBe(false);
  });

  it('queues a DS backup for an agent, and a second press joins it, both audited under the agent', async () => {
    signedIn.viewer = staff('agent', 'agent-7@rewind.test');
    const first = await backUpContactsNow(null, form(withAccount.id));
    if (!first.ok) throw new Error(first.error);
    expect(first.data.created).toBe(true);
    const second = await backUpContactsNow(null, form(withAccount.id));
    expect(second).toEqual({ ok: true, data: { jobId: first.data.jobId, created: false } });
    expect((await dsJobs(withAccount.id)).map((j) => j.id)).toEqual([first.data.jobId]);
    const actions = (await listAudit(t.ctx.db, { deviceId: withAccount.id }))
      .filter((e) => e.actor === 'agent-7@rewind.test')
      .map((e) => e.action)
      .sort();
    expect(actions).toEqual(['ds-backup.joined', 'ds-backup.requested']);
  });
});
