/** The demo's history is made by real DM sessions against the real endpoint, then dated back week by week. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDevices } from '@/db/queries/devices';
import { listSnapshots } from '@/db/queries/snapshots';
import { getSubscriber } from '@/db/queries/subscribers';
import { diffSnapshots } from '../lib/backup/read';
import { startTestServer, type TestServer } from '../test/support/test-server';
import { DEMO_PEOPLE, startDemo, type RunningDemo } from './demo';

let t: TestServer;
let demo: RunningDemo;

beforeAll(async () => {
  t = await startTestServer();
  demo = await startDemo({ serverUrl: `http://127.0.0.1:${t.server.port}`, devices: 3, everyMs: 3_600_000 });
  await demo.ready;
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await t?.close();
});

describe('the demo', () => {
  it('gives each handset a named subscriber and four weekly backups taken in real sessions', async () => {
    const devices = await listDevices(t.ctx.db);
    expect(devices).toHaveLength(3);
    const week = 7 * 86_400_000;
    for (const d of devices) {
      expect(DEMO_PEOPLE).toContain((await getSubscriber(t.ctx.db, d.subscriberId!))?.name);
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
});
