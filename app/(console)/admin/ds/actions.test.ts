/** The DS accounts page's actions as each kind of viewer: admins only, validated, audited, another handset's user name refused. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { getDsAccountByUser } from '@/db/queries/ds';
import { provisionDevice } from '@/lib/devices/devices';
import { md5Derived } from '@/lib/omadm/auth';
import { FORBIDDEN } from '@/lib/server/action';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { createDsAccountAction, resetDsPasswordAction } from './actions';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

const ADA = 'IMEI:356938035643809';
const BOB = 'IMEI:490154203237518';
let t: Awaited<ReturnType<typeof tempContext>>;
let adaId: string;
let adaSub: string;

const form = (v: Record<string, string>) => {
  const f = new FormData();
  for (const [k, x] of Object.entries(v)) f.set(k, x);
  return f;
};

beforeAll(async () => {
  t = await tempContext('rewind-ds-admin-');
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  const a = await provisionDevice(t.ctx.db, { ...base, devId: ADA, subscriber: 'Ada Lovelace' });
  adaId = a.id;
  adaSub = a.subscriberId!;
  await provisionDevice(t.ctx.db, { ...base, devId: BOB });
});
afterAll(() => t.close());

describe('createDsAccountAction', () => {
  it('refuses agents and subscribers, creating nothing', async () => {
    for (const v of [staff('agent'), subscriberViewer(adaSub)]) {
      signedIn.viewer = v;
      expect(
        await createDsAccountAction(null, form({ devId: ADA, user: 'ada-phone', pass: 'secret', auth: 'basic' })),
      ).toEqual({ ok: false, error: FORBIDDEN });
    }
    expect(await getDsAccountByUser(t.ctx.db, 'ada-phone')).toBeUndefined();
  });

  it('lets an admin create one, audited on the handset without the password', async () => {
    signedIn.viewer = staff('admin', 'admin-1@rewind.test');
    expect(
      await createDsAccountAction(null, form({ devId: ` ${ADA} `, user: 'ada-phone', pass: 'secret', auth: 'md5' })),
    ).toEqual({ ok: true, data: { user: 'ada-phone', created: true } });
    expect(await getDsAccountByUser(t.ctx.db, 'ada-phone')).toMatchObject({
      deviceId: adaId,
      auth: 'md5',
      derived: md5Derived('ada-phone', 'secret'),
    });
    const [e] = await listAudit(t.ctx.db, { deviceId: adaId });
    expect(e).toMatchObject({ actor: 'admin-1@rewind.test', action: 'ds-account.created' });
    expect(JSON.stringify(e)).not.toContain('secret');
  });

  it("answers in plain words for an unknown handset, a short password and another handset's user name", async () => {
    signedIn.viewer = staff('admin');
    const unknown = await createDsAccountAction(
      null,
      form({ devId: 'IMEI:000', user: 'x-phone', pass: 'secret', auth: 'basic' }),
    );
    expect(unknown).toMatchObject({ ok: false, error: 'No handset IMEI:000 is registered.' });
    const short = await createDsAccountAction(
      null,
      form({ devId: BOB, user: 'bob-phone', pass: 'abc', auth: 'basic' }),
    );
    expect(short.ok).toBe(false);
    expect(!short.ok && short.fieldErrors?.pass).toBeDefined();
    const taken = await createDsAccountAction(
      null,
      form({ devId: BOB, user: 'ada-phone', pass: 'hijack', auth: 'basic' }),
    );
    expect(taken).toMatchObject({ ok: false, fieldErrors: { user: ['already taken'] } });
    expect((await getDsAccountByUser(t.ctx.db, 'ada-phone'))!.derived).toBe(md5Derived('ada-phone', 'secret'));
  });
});

describe('resetDsPasswordAction', () => {
  it('gives an account a new password (admins only), audited', async () => {
    const id = (await getDsAccountByUser(t.ctx.db, 'ada-phone'))!.id;
    signedIn.viewer = staff('agent');
    expect(await resetDsPasswordAction(null, form({ id, pass: 'agent-pass' }))).toEqual({
      ok: false,
      error: FORBIDDEN,
    });
    signedIn.viewer = staff('admin', 'admin-2@rewind.test');
    expect(await resetDsPasswordAction(null, form({ id, pass: 'new-secret', auth: 'basic' }))).toEqual({
      ok: true,
      data: { user: 'ada-phone' },
    });
    expect(await getDsAccountByUser(t.ctx.db, 'ada-phone')).toMatchObject({
      derived: md5Derived('ada-phone', 'new-secret'),
      auth: 'basic',
    });
    expect((await listAudit(t.ctx.db, { deviceId: adaId }))[0]).toMatchObject({
      actor: 'admin-2@rewind.test',
      action: 'ds-account.password-reset',
    });
    expect(await resetDsPasswordAction(null, form({ id: 'nope', pass: 'new-secret' }))).toMatchObject({
      ok: false,
      error: 'No such DS account.',
    });
  });
});
