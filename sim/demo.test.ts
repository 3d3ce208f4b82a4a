/** The demo's history is made by real DM sessions against the real endpoint, then dated back week by week. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDevices } from '@/db/queries/devices';
import { listSnapshots } from '@/db/queries/snapshots';
import { getSubscriber } from '@/db/queries/subscribers';
import { diffSnapshots } from '../lib/backup/read';
import { startTestServer, type TestServer } from '../test/support/test-server';
import { DEMO_PEOPLE, startDemo, type RunningDemo } from './demo';
import { getDeviceByDevId } from '@/db/queries/devices';
import { jobsForDevice } from '@/db/queries/jobs';
import { deviceHistoryData } from '../lib/devices/history';

let t: TestServer;
let demo: RunningDemo;
/** The demo's first handset: the seven's only one without trouble (the last six have theirs). */
let ordinaryDevId: string;

beforeAll(async () => {
  t = await startTestServer();
  demo = await startDemo({ serverUrl: `http://127.0.0.1:${t.server.port}`, devices: 7, everyMs: 3_600_000 });
  await demo.ready;
  ordinaryDevId = demo.handsets[0]!.devId;
}, 300_000);

afterAll(async () => {
  await demo?.stop();
  await t?.close();
});

describe('the demo', () => {
  it('gives each handset a named subscriber and four weekly backups taken in real sessions', async () => {
    const devices = await listDevices(t.ctx.db);
    expect(devices).toHaveLength(7);
    const week = 7 * 86_400_000;
    for (const d of devices) expect(DEMO_PEOPLE).toContain((await getSubscriber(t.ctx.db, d.subscriberId!))?.name);
    // The handsets in trouble have more (or older) backups than their four weeks: the ordinary one.
    for (const d of devices.filter((x) => x.devId === ordinaryDevId)) {
      const snaps = await listSnapshots(t.ctx.db, d.id, { status: 'complete' });
      expect(snaps).toHaveLength(4);
      const times = snaps.map((s) => s.completedAt!).sort((a, b) => a - b);
      // A week apart, give or take the per-handset hour offset; the last one is today.
      expect(Date.now() - times[3]!).toBeLessThan(10 * 60_000);
      expect(times[3]! - times[0]!).toBeGreaterThan(2.5 * week);
      expect(new Set(snaps.map((s) => s.trigger))).toEqual(new Set(['on-demand', 'device']));
    }
  });

  it('backs contacts and calendar up through Data Sync in the first week and the last, a contact changed and one added between', async () => {
    const { dsSnapshotsOf } = await import('@/db/queries/ds');
    const { readDsManifest, diffDsManifests } = await import('../lib/ds/snapshot');
    for (const d of await listDevices(t.ctx.db)) {
      const snaps = await dsSnapshotsOf(t.ctx.db, d.id);
      expect(snaps).toHaveLength(2);
      const [newest, oldest] = snaps;
      expect(newest!.createdAt - oldest!.createdAt).toBeGreaterThan(2.5 * 7 * 86_400_000);
      const diff = diffDsManifests(
        (await readDsManifest(t.ctx.db, t.ctx.blobs, oldest!.id)).entries,
        (await readDsManifest(t.ctx.db, t.ctx.blobs, newest!.id)).entries,
      );
      expect(diff.byStore.contacts.added).toBe(3); // one a week
      expect(diff.byStore.contacts.changed).toBeGreaterThan(0);
    }
  });

  it('has histories worth diffing: settings change every week, and a lost antivirus shows as removed', async () => {
    let first: Awaited<ReturnType<typeof listDevices>>[number] | undefined;
    for (const d of await listDevices(t.ctx.db))
      if ((await getSubscriber(t.ctx.db, d.subscriberId!))?.name === DEMO_PEOPLE[0]) first ??= d;
    const snaps = (await listSnapshots(t.ctx.db, first!.id, { status: 'complete' })).sort(
      (a, b) => a.completedAt! - b.completedAt!,
    );
    const d = await diffSnapshots(t.ctx.db, t.ctx.blobs, snaps[0]!.id, snaps[3]!.id);
    expect(d.changed.some((c) => c.path.endsWith('/Display/Brightness') || c.path.endsWith('/Sound/Ringtone'))).toBe(
      true,
    );
    expect(d.apps.some((a) => a.change === 'removed' && /shield/i.test(a.id + (a.name ?? '')))).toBe(true);
  });

  it('has handsets in trouble, each told in plain words on its page', async () => {
    const { db } = t.ctx;
    const [, retried, firmware, wrongPassword, rejecting, roaming, offline] = demo.handsets;
    const page = async (h: { devId: string }) => {
      const d = (await getDeviceByDevId(db, h.devId))!;
      return { d, h: await deviceHistoryData(db, d.id, {}) };
    };

    const wrong = await page(wrongPassword!);
    expect(wrong.h.last).toMatchObject({ kind: 'attempt', outcome: 'failed' });
    expect(wrong.h.last!.reason).toMatch(/^wrong credentials/);

    const away = await page(offline!);
    expect(Date.now() - away.d.lastSeenAt!).toBeGreaterThan(2 * 86_400_000);
    expect(away.h.jobs[0]).toMatchObject({ title: 'Backup (on-demand)', status: 'queued', actor: 'agent@rewind.test' });
    expect(away.h.sessions.some((e) => e.kind === 'wake')).toBe(true);

    const abroad = await page(roaming!);
    expect(abroad.h.consents[0]).toMatchObject({ answer: 'rejected', roaming: true });
    expect(abroad.h.consents[0]!.words).toMatch(/roaming declined/);
    expect(abroad.h.consents[0]!.cost).toBeTruthy();
    expect(abroad.h.jobs.find((j) => j.kind === 'restore')).toMatchObject({ status: 'rejected' });

    const said = await page(rejecting!);
    expect(said.h.consents[0]).toMatchObject({ answer: 'rejected', roaming: false });
    expect(said.h.jobs.find((j) => j.kind === 'restore')!.reason).toMatch(/rejected/);

    const fw = await page(firmware!);
    const failedUpdate = fw.h.jobs.find((j) => j.kind === 'restore');
    expect(failedUpdate).toMatchObject({ status: 'failed' });
    expect(fw.h.firmware[0]!.firmware).toMatch(/-corrupt$/);
    expect(fw.h.firmware.length).toBeGreaterThanOrEqual(2);

    const again = await page(retried!);
    expect(again.h.sessions.some((e) => e.kind === 'dm' && /^timed out at message \d+/.test(e.reason ?? ''))).toBe(
      true,
    );
    const backup = (await jobsForDevice(db, again.d.id)).find((j) => j.kind === 'backup' && j.attempts >= 2);
    expect(backup).toMatchObject({ status: 'succeeded' });

    // Every handset's sessions are spread over the weeks, not all made today.
    const ordinary = await page({ devId: ordinaryDevId });
    const dm = ordinary.h.sessions.filter((e) => e.kind === 'dm');
    expect(dm.at(0)!.at - dm.at(-1)!.at).toBeGreaterThan(2.5 * 7 * 86_400_000);
    expect(ordinary.h.firmware).toHaveLength(1);
    expect(Date.now() - ordinary.h.firmware[0]!.from).toBeGreaterThan(2.5 * 7 * 86_400_000);
  });
});
