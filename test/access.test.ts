/** The tenant rule and the action wrapper, as each kind of viewer. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { listAudit } from '@/db/queries/audit';
import { provisionDevice } from '@/lib/devices/devices';
import { authedAction, FORBIDDEN, NOT_SIGNED_IN } from '@/lib/server/action';
import { deviceFor } from '@/lib/server/access';
import type * as Session from '@/lib/server/session';
import { signedIn, staff, subscriberViewer, tempContext, type TempContext } from './support/as-viewer';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('./support/as-viewer')).signedIn.viewer,
}));

let t: TempContext;
let mine: string;
let theirs: string;
let me: string;

beforeAll(async () => {
  t = await tempContext();
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  const a = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  mine = a.id;
  me = a.subscriberId!;
  theirs = (
    await provisionDevice(t.ctx.db, {
      ...base,
      devId: 'IMEI:490154203237518',
      subscriber: 'Bob Other',
      msisdn: '447700900456',
    })
  ).id;
});
afterAll(() => t.close());

// What a "back up now" action looks like: the id comes from the caller, so it is checked.
const touch = authedAction(
  { roles: ['admin', 'agent', 'subscriber'], schema: z.object({ deviceId: z.string() }), audit: 'device.touch' },
  async ({ deviceId }, ctx) => {
    const d = await deviceFor(ctx.db, ctx.viewer, deviceId);
    await ctx.audit('device.touch', { deviceId: d.id });
    return d.devId;
  },
);
const adminOnly = authedAction({ roles: ['admin'], schema: z.object({}), audit: false }, () => 'done');

describe('actions', () => {
  it('refuse a visitor who is not signed in', async () => {
    signedIn.viewer = null;
    expect(await touch(null, { deviceId: mine })).toEqual({ ok: false, error: NOT_SIGNED_IN });
  });

  it('let a subscriber act on their own handset only; another id is "not found"', async () => {
    signedIn.viewer = subscriberViewer(me);
    expect(await touch(null, { deviceId: mine })).toEqual({ ok: true, data: 'IMEI:356938035643809' });
    const r = await touch(null, { deviceId: theirs });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/not yours/);
  });

  it('let staff act on any handset, and audit it under their email', async () => {
    signedIn.viewer = staff('agent', 'agent-1@rewind.test');
    expect((await touch(null, { deviceId: theirs })).ok).toBe(true);
    expect((await listAudit(t.ctx.db, { deviceId: theirs }))[0]).toMatchObject({
      actor: 'agent-1@rewind.test',
      action: 'device.touch',
    });
  });

  it('check the role before anything else', async () => {
    signedIn.viewer = staff('agent');
    expect(await adminOnly(null, {})).toEqual({ ok: false, error: FORBIDDEN });
    signedIn.viewer = staff('admin');
    expect(await adminOnly(null, {})).toEqual({ ok: true, data: 'done' });
  });

  it('answer bad input with field errors', async () => {
    signedIn.viewer = staff('admin');
    const r = await touch(null, { deviceId: 42 });
    expect(r).toMatchObject({ ok: false, fieldErrors: { deviceId: expect.any(Array) } });
  });
});
