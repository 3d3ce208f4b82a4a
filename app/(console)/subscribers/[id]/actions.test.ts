/** "Erase subscriber" as each kind of viewer: admins only, confirmed by the name, audited, keys destroyed. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { getContentKey } from '@/db/queries/content-keys';
import { getSubscriber } from '@/db/queries/subscribers';
import { provisionDevice } from '@/lib/devices/devices';
import { FORBIDDEN } from '@/lib/server/action';
import type * as Session from '@/lib/server/session';
import { seedSnapshot } from '@/test/support/fixtures';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { eraseSubscriberAction } from './actions';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));
vi.mock('next/cache', () => ({ revalidatePath: vi.fn() }));

let t: Awaited<ReturnType<typeof tempContext>>;
let subscriberId: string;

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
    devId: 'IMEI:356938035643810',
    subscriber: 'Grace Hopper',
    msisdn: '447700900124',
  });
  subscriberId = d.subscriberId!;
  await seedSnapshot(t.ctx.db, t.ctx.blobs, d.id, {
    './Settings/Display/Brightness': { category: 'settings', value: '40' },
  });
});
afterAll(() => t.close());

describe('erase subscriber', () => {
  it('is refused to agents and to the subscriber themselves, with nothing changed', async () => {
    for (const viewer of [staff('agent'), subscriberViewer(subscriberId)]) {
      signedIn.viewer = viewer;
      expect(await eraseSubscriberAction(null, { subscriberId, confirm: 'Grace Hopper' })).toEqual({
        ok: false,
        error: FORBIDDEN,
      });
    }
    expect(await getSubscriber(t.ctx.db, subscriberId)).toBeDefined();
  });

  it('needs the name typed, then erases, destroys the key and audits ids only', async () => {
    signedIn.viewer = staff('admin', 'dpo@rewind.test');
    const wrong = await eraseSubscriberAction(null, { subscriberId, confirm: 'Grace' });
    expect(wrong).toMatchObject({ ok: false, fieldErrors: { confirm: [expect.stringContaining('Grace Hopper')] } });
    expect(await getContentKey(t.ctx.db, subscriberId)).toBeDefined();
    const r = await eraseSubscriberAction(null, { subscriberId, confirm: ' grace  hopper ' });
    expect(r).toEqual({ ok: true, data: { devices: 1, snapshots: 1 } });
    expect(await getSubscriber(t.ctx.db, subscriberId)).toBeUndefined();
    expect(await getContentKey(t.ctx.db, subscriberId)).toBeUndefined();
    const [entry] = await listAudit(t.ctx.db, { action: 'subscriber.erased' });
    expect(entry).toMatchObject({ actor: 'dpo@rewind.test', action: 'subscriber.erased' });
    expect(entry!.details).not.toContain('Grace');
  });
});
