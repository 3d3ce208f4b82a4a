/**
 * The portal and the restore wizard as each kind of viewer: a subscriber acts only on their
 * own handsets (another's id is refused and changes nothing), restores only onto their own
 * handsets, and the live job JSON answers only its owner or staff.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { exec, value } from '@/db/sql';
import { listAudit } from '@/db/queries/audit';
import { getJob, jobsForDevice } from '@/db/queries/jobs';
import { getPlan, listItems } from '@/db/queries/restore';
import { listSnapshots } from '@/db/queries/snapshots';
import { ensureModel, setProfile } from '@/db/queries/profiles';
import { provisionDevice } from '@/lib/devices/devices';
import { FORBIDDEN, NOT_SIGNED_IN } from '@/lib/server/action';
import type * as Session from '@/lib/server/session';
import { planRequestFor, type PlanPreview, type RestoreChoices } from '@/lib/restore/wizard';
import {
  backUpNowAction,
  eraseBackupsAction,
  portalConfirmRestoreAction,
  portalPreviewRestoreAction,
  portalRestoreChoicesAction,
} from '@/app/(portal)/portal/actions';
import {
  confirmRestoreAction,
  previewRestoreAction,
  restoreChoicesAction,
} from '@/app/(console)/devices/[id]/restore/actions';
import { retryFailedAction } from '@/app/(console)/jobs/[id]/actions';
import { GET as liveJobRoute } from '@/app/live/jobs/[id]/route';
import { eraseBackups } from '@/lib/subscribers/erasure';
import { getDevice } from '@/db/queries/devices';
import { upsertLocalBackup, listLocalBackups } from '@/db/queries/local-backups';
import { BEFORE, seedSnapshot } from './support/fixtures';
import { signedIn, staff, subscriberViewer, tempContext, type TempContext } from './support/as-viewer';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('./support/as-viewer')).signedIn.viewer,
}));

let t: TempContext;
let ada: string;
let adaPhone: string;
let adaTablet: string;
let bob: string;
let bobPhone: string;
let adaSnap: string;
/** An older backup of Ada's phone, with the ringtone she had before: restoring it changes 300 bytes. */
let adaOlderSnap: string;
let bobSnap: string;

const RINGTONE = './AppData/Ringtones/Aurora.mp3';
const NODES = {
  ...BEFORE,
  './AppData': { category: 'appdata' as const },
  './AppData/Ringtones': { category: 'appdata' as const },
  [RINGTONE]: { category: 'appdata' as const, value: new Uint8Array(300).fill(7), type: 'audio/mpeg' },
  './AppData/Ringtones/Chime.mid': {
    category: 'appdata' as const,
    value: new Uint8Array(40).fill(9),
    type: 'audio/midi',
  },
};

function unwrap<T>(r: { ok: true; data: T } | { ok: false; error: string }): T {
  if (!r.ok) throw new Error(`action refused: ${r.error}`);
  return r.data;
}

function refused(r: { ok: boolean; error?: string }, why: RegExp = /not yours/): void {
  expect(r.ok).toBe(false);
  expect(r.error).toMatch(why);
}

const planCount = async () => (await value<number>(t.ctx.db, sql`select count(*) as n from restore_plans`))!;
const jobCount = async () => (await value<number>(t.ctx.db, sql`select count(*) as n from jobs`))!;

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
  const model = await ensureModel(t.ctx.db, 'Nimbus', 'N1');
  await setProfile(t.ctx.db, model.id, 'settings', ['./Settings']);
  await setProfile(t.ctx.db, model.id, 'appdata', ['./AppData']);
  const a = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  const a2 = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643817',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  const b = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:490154203237518',
    subscriber: 'Bob Other',
    msisdn: '447700900456',
  });
  ada = a.subscriberId!;
  bob = b.subscriberId!;
  expect(a2.subscriberId).toBe(ada);
  expect(bob).not.toBe(ada);
  adaPhone = a.id;
  adaTablet = a2.id;
  bobPhone = b.id;
  adaOlderSnap = (
    await seedSnapshot(
      t.ctx.db,
      t.ctx.blobs,
      adaPhone,
      { ...NODES, [RINGTONE]: { ...NODES[RINGTONE], value: new Uint8Array(300).fill(5) } },
      { at: Date.now() - 86_400_000 },
    )
  ).id;
  adaSnap = (await seedSnapshot(t.ctx.db, t.ctx.blobs, adaPhone, NODES)).id;
  bobSnap = (await seedSnapshot(t.ctx.db, t.ctx.blobs, bobPhone, NODES)).id;
});
afterAll(() => t.close());

describe('a subscriber with another subscriber’s ids', () => {
  it('cannot back up their handset', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const before = await jobCount();
    refused(await backUpNowAction(null, { deviceId: bobPhone }));
    expect(await jobCount()).toBe(before);
    expect(await jobsForDevice(t.ctx.db, bobPhone)).toHaveLength(0);
  });

  it('cannot read their backup’s contents', async () => {
    signedIn.viewer = subscriberViewer(ada);
    refused(await portalRestoreChoicesAction(null, { snapshotId: bobSnap }));
  });

  it('cannot plan a restore from their backup, nor onto their handset', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const before = await planCount();
    refused(
      await portalPreviewRestoreAction(null, {
        snapshotId: bobSnap,
        targetDeviceId: adaPhone,
        categories: ['settings'],
      }),
    );
    refused(
      await portalPreviewRestoreAction(null, {
        snapshotId: adaSnap,
        targetDeviceId: bobPhone,
        categories: ['settings'],
      }),
    );
    expect(await planCount()).toBe(before);
  });

  it('cannot confirm a plan of theirs', async () => {
    signedIn.viewer = staff('agent');
    const plan = unwrap(
      await previewRestoreAction(null, { snapshotId: bobSnap, targetDeviceId: bobPhone, categories: ['settings'] }),
    );
    signedIn.viewer = subscriberViewer(ada);
    const jobs = await jobCount();
    refused(await portalConfirmRestoreAction(null, { planId: plan.planId, reason: 'the subscriber asked' }));
    expect((await getPlan(t.ctx.db, plan.planId))!.jobId).toBeNull();
    expect(await jobCount()).toBe(jobs);
    // The agent who made it may.
    signedIn.viewer = staff('agent', 'agent-7@rewind.test');
    const { jobId } = unwrap(await confirmRestoreAction(null, { planId: plan.planId, reason: 'ticket 42' }));
    expect((await getPlan(t.ctx.db, plan.planId))!.jobId).toBe(jobId);
    expect((await listAudit(t.ctx.db, { deviceId: bobPhone, action: 'restore.started' }))[0]).toMatchObject({
      actor: 'agent-7@rewind.test',
    });
  });

  it('cannot delete their backups, even with the right confirmation', async () => {
    signedIn.viewer = subscriberViewer(ada);
    refused(await eraseBackupsAction(null, { deviceId: bobPhone, confirm: 'Nimbus N1' }));
    expect((await listSnapshots(t.ctx.db, bobPhone)).map((s) => s.id)).toContain(bobSnap);
  });

  it('is refused the agents’ actions, whatever the id', async () => {
    signedIn.viewer = subscriberViewer(ada);
    expect(await restoreChoicesAction(null, { snapshotId: adaSnap })).toEqual({ ok: false, error: FORBIDDEN });
    expect(
      await previewRestoreAction(null, { snapshotId: adaSnap, targetDeviceId: adaPhone, categories: ['settings'] }),
    ).toEqual({ ok: false, error: FORBIDDEN });
    expect(await retryFailedAction(null, { jobId: 'x' })).toEqual({ ok: false, error: FORBIDDEN });
  });

  it('and the portal’s actions are refused to staff and to visitors', async () => {
    signedIn.viewer = staff('agent');
    expect(await backUpNowAction(null, { deviceId: adaPhone })).toEqual({ ok: false, error: FORBIDDEN });
    signedIn.viewer = null;
    expect(await backUpNowAction(null, { deviceId: adaPhone })).toEqual({ ok: false, error: NOT_SIGNED_IN });
    expect(await jobsForDevice(t.ctx.db, adaPhone)).toHaveLength(0);
  });
});

describe('restore targets', () => {
  it('a subscriber may copy a backup to another handset of theirs', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const plan = unwrap(
      await portalPreviewRestoreAction(null, {
        snapshotId: adaSnap,
        targetDeviceId: adaTablet,
        categories: ['appdata'],
      }),
    );
    expect(plan).toMatchObject({ migration: true, targetDevId: 'IMEI:356938035643817', nodes: 2 });
  });

  it('an agent may restore any subscriber’s backup, but not onto another subscriber’s handset', async () => {
    signedIn.viewer = staff('agent');
    const ok = await previewRestoreAction(null, {
      snapshotId: adaSnap,
      targetDeviceId: adaPhone,
      categories: ['settings'],
    });
    expect(ok.ok).toBe(true);
    const before = await planCount();
    refused(
      await previewRestoreAction(null, { snapshotId: adaSnap, targetDeviceId: bobPhone, categories: ['settings'] }),
      /same subscriber/,
    );
    expect(await planCount()).toBe(before);
  });
});

describe('the subscriber’s own restore', () => {
  let choices: RestoreChoices;
  let plan: PlanPreview;

  it('offers the backup’s records by category, without the identity nodes', async () => {
    signedIn.viewer = subscriberViewer(ada);
    choices = unwrap(await portalRestoreChoicesAction(null, { snapshotId: adaSnap }));
    const appdata = choices.categories.find((c) => c.category === 'appdata')!;
    expect(appdata.items.map((i) => i.path)).toEqual([RINGTONE, './AppData/Ringtones/Chime.mid']);
    const settings = choices.categories.find((c) => c.category === 'settings')!;
    expect(settings.items.map((i) => i.path)).toEqual(['./Settings/Ringtone']);
    expect(choices.categories.find((c) => c.category === 'applications')!.items[0]).toMatchObject({
      label: 'ShieldAV 3.2.1',
    });
  });

  it('previews exactly the one ringtone picked: bytes, cost and the prompt the handset shows', async () => {
    signedIn.viewer = subscriberViewer(ada);
    plan = unwrap(
      await portalPreviewRestoreAction(null, { snapshotId: adaOlderSnap, targetDeviceId: adaPhone, items: [RINGTONE] }),
    );
    expect(plan).toMatchObject({ nodes: 1, bytes: 300, migration: false, categories: ['appdata'] });
    expect(plan.prompt.text).toMatch(
      /^Restore ringtones, wallpapers and screensavers from your backup of \d{4}-\d\d-\d\d \(300 B\)\?/,
    );
    expect(plan.prompt.choices).toEqual(['Now', 'Later on Wi-Fi', 'Reject']);
    expect(plan.prompt.fallback.code).toBe('1101');
    expect(plan.cost.text).toBeTruthy();
  });

  it('refuses an item the backup does not hold, and an empty selection', async () => {
    signedIn.viewer = subscriberViewer(ada);
    refused(
      await portalPreviewRestoreAction(null, {
        snapshotId: adaSnap,
        targetDeviceId: adaPhone,
        items: ['./Settings/Nope'],
      }),
      /no item/,
    );
    refused(await portalPreviewRestoreAction(null, { snapshotId: adaSnap, targetDeviceId: adaPhone }), /at least one/);
  });

  it('confirming runs that plan once, behind a safety backup, and the live JSON follows it', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const { jobId, safetyBackupId } = unwrap(
      await portalConfirmRestoreAction(null, { planId: plan.planId, reason: 'the subscriber asked' }),
    );
    expect(await getJob(t.ctx.db, jobId)).toMatchObject({
      kind: 'restore',
      status: 'queued',
      dependsOn: safetyBackupId,
    });
    // The folder is on the handset already: only the ringtone is written.
    expect((await listItems(t.ctx.db, jobId)).map((i) => i.path)).toEqual([RINGTONE]);
    expect(plan.folders).toBe(0);
    refused(
      await portalConfirmRestoreAction(null, { planId: plan.planId, reason: 'the subscriber asked' }),
      /confirmed already/,
    );

    const res = await liveJobRoute(new Request('http://x/live/jobs/' + jobId), {
      params: Promise.resolve({ id: jobId }),
    });
    expect(res.status).toBe(200);
    const live = (await res.json()) as {
      finished: boolean;
      waiting: string;
      dependsOn: { id: string };
      job: { counts: { total: number } };
    };
    expect(live).toMatchObject({ finished: false, dependsOn: { id: safetyBackupId }, job: { counts: { total: 1 } } });
    expect(live.waiting).toMatch(/safety backup/);

    // Not signed in: 401. Another subscriber: 404, as if there were no such job.
    signedIn.viewer = null;
    expect((await liveJobRoute(new Request('http://x'), { params: Promise.resolve({ id: jobId }) })).status).toBe(401);
    signedIn.viewer = subscriberViewer(bob);
    expect((await liveJobRoute(new Request('http://x'), { params: Promise.resolve({ id: jobId }) })).status).toBe(404);
    signedIn.viewer = staff('agent');
    expect((await liveJobRoute(new Request('http://x'), { params: Promise.resolve({ id: jobId }) })).status).toBe(200);
  });
});

describe('back up now and delete my backups', () => {
  it('queues one backup, joined by a second press', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const first = unwrap(await backUpNowAction(null, { deviceId: adaTablet }));
    const again = unwrap(await backUpNowAction(null, { deviceId: adaTablet }));
    expect(first.created).toBe(true);
    expect(again).toEqual({ jobId: first.jobId, created: false });
  });

  it('refuses erasure without the handset’s name, and while work is under way', async () => {
    signedIn.viewer = subscriberViewer(ada);
    const r = await eraseBackupsAction(null, { deviceId: adaPhone, confirm: 'yes' });
    expect(r).toMatchObject({ ok: false, fieldErrors: { confirm: [expect.stringMatching(/Nimbus N1/)] } });
    refused(await eraseBackupsAction(null, { deviceId: adaPhone, confirm: 'nimbus  n1' }), /under way/);
    expect(await listSnapshots(t.ctx.db, adaPhone)).toHaveLength(2);
  });

  it('erases a handset’s backups once nothing runs, and audits it', async () => {
    signedIn.viewer = subscriberViewer(ada);
    await exec(t.ctx.db, sql`update jobs set status = 'cancelled' where device_id = ${adaPhone}`);
    const r = unwrap(await eraseBackupsAction(null, { deviceId: adaPhone, confirm: 'Nimbus N1' }));
    expect(r).toMatchObject({ snapshots: 2, held: 0 });
    expect(await listSnapshots(t.ctx.db, adaPhone)).toHaveLength(0);
    expect(await listSnapshots(t.ctx.db, bobPhone)).toHaveLength(1);
    expect(await listAudit(t.ctx.db, { deviceId: adaPhone, action: 'backups.erased' })).toHaveLength(1);
  });
});

describe('erasure and garbage collection', () => {
  it('sweeps the content only that handset held, keeps what another backup shares, and keeps a legal hold', async () => {
    await exec(t.ctx.db, sql`update jobs set status = 'cancelled' where device_id = ${adaTablet}`);
    const own = new Uint8Array(128).fill(42);
    const snap = await seedSnapshot(t.ctx.db, t.ctx.blobs, adaTablet, {
      ...NODES,
      './AppData/Ringtones/Mine.mp3': { category: 'appdata', value: own },
    });
    const held = await seedSnapshot(t.ctx.db, t.ctx.blobs, adaTablet, NODES);
    await exec(t.ctx.db, sql`update snapshots set legal_hold = 1 where id = ${held.id}`);
    await upsertLocalBackup(t.ctx.db, {
      deviceId: adaTablet,
      localId: 'L1',
      target: 'device',
      takenAt: '2026-01-01T00:00:00Z',
      categories: '["settings"]',
      entries: 3,
      size: 10,
      rootHash: 'a'.repeat(64),
    });
    const { sha256Hex } = await import('@/lib/backup/blob-store');
    const ownHash = sha256Hex(own);
    const sharedHash = sha256Hex(NODES[RINGTONE].value);
    expect(await t.ctx.blobs.get(ownHash)).toBeDefined();

    const r = await eraseBackups(t.ctx, (await getDevice(t.ctx.db, adaTablet))!, { graceMs: 0 });
    expect(r).toMatchObject({ snapshots: 1, held: 1, localBackups: 1 });
    expect(r.gc?.hashes).toContain(ownHash);
    expect(await t.ctx.blobs.get(ownHash)).toBeUndefined();
    // Bob's backup (and the held one) hold the same ringtone: it stays.
    expect(await t.ctx.blobs.get(sharedHash)).toBeDefined();
    expect((await listSnapshots(t.ctx.db, adaTablet)).map((s) => s.id)).toEqual([held.id]);
    expect(await listLocalBackups(t.ctx.db, adaTablet)).toHaveLength(0);
    expect(snap.id).not.toBe(held.id);
  });
});

describe('a selection as a plan request', () => {
  const choices: RestoreChoices = {
    snapshotId: 's1',
    takenAt: 0,
    categories: [
      {
        category: 'settings',
        label: 'Settings',
        bytes: 3,
        items: [
          { path: './Settings/A', label: 'A', bytes: 1 },
          { path: './Settings/B', label: 'B', bytes: 2 },
        ],
      },
      { category: 'appdata', label: 'Media', bytes: 5, items: [{ path: './AppData/R/x', label: 'x', bytes: 5 }] },
      { category: 'firmware', label: 'Firmware', bytes: 1, items: [] },
    ],
  };

  it('is whole categories alone when no single item is picked', () => {
    expect(planRequestFor(choices, { categories: ['firmware', 'settings'], items: [] }, 'IMEI:1')).toEqual({
      snapshotId: 's1',
      targetDevId: 'IMEI:1',
      categories: ['settings', 'firmware'],
    });
  });

  it('narrows to paths when an item is picked, a whole category beside it contributing all of its items', () => {
    expect(planRequestFor(choices, { categories: ['settings'], items: ['./AppData/R/x'] }, 'IMEI:1')).toEqual({
      snapshotId: 's1',
      targetDevId: 'IMEI:1',
      categories: ['settings', 'appdata'],
      paths: ['./AppData/R/x', './Settings/A', './Settings/B'],
    });
    // An item of a category picked whole adds nothing.
    expect(planRequestFor(choices, { categories: ['settings'], items: ['./Settings/A'] }, 'IMEI:1')).toEqual({
      snapshotId: 's1',
      targetDevId: 'IMEI:1',
      categories: ['settings'],
    });
  });
});
