/**
 * The backup engine end to end: virtual handsets over the real /dm endpoint, a real SQLite
 * file and a real blob store, for each of the five triggers.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualHandset } from '../../sim/handset';
import { withFaults, dropAt } from '../../sim/faults';
import { httpTransport } from '../../sim/transport';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob, jobsForDevice } from '@/db/queries/jobs';
import { blobStats, getSnapshot, listSnapshots, updateSnapshot } from '@/db/queries/snapshots';
import { listLocalBackups } from '@/db/queries/local-backups';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { createBackupJob, createLocalBackupJob, createLocalRestoreJob, withSafetyBackup } from './jobs';
import { decodeManifest } from './manifest';
import { backupRoots, profileFor } from './profiles';
import { scheduleDueBackups } from './scheduler';
import type { FileBlobStore } from './blob-store';
import { sha256Hex } from './blob-store';
import { base64Encode } from '../omadm/util/bytes';

let srv: TestFleet;
let handsets: VirtualHandset[];

beforeAll(async () => {
  // Seeds chosen so the fleet holds every model: Struct-capable ones and one that says 406.
  srv = await startTestFleet({ devices: 6, seed: 11 });
  handsets = srv.handsets;
});

afterAll(async () => {
  await srv?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(srv.ctx.db, h.devId))!;

async function wakeAndWait(h: VirtualHandset): Promise<void> {
  await dispatchWakes(srv.ctx);
  await h.idle();
}

/** The handset's leaves under the backed-up subtrees, as path -> bytes (what Get may read). */
async function treeLeaves(h: VirtualHandset, categories: readonly Category[]): Promise<Map<string, Uint8Array>> {
  const d = await device(h);
  const out = new Map<string, Uint8Array>();
  for (const root of backupRoots(await profileFor(srv.ctx.db, d.manufacturer, d.model), categories)) {
    if (!h.tree.has(root.path)) continue;
    for (const { path: p, node } of h.tree.walk(root.path)) {
      if (node.kind === 'leaf' && node.access.includes('Get')) out.set(p, node.value);
    }
  }
  return out;
}

async function snapshotLeaves(snapshotId: string): Promise<Map<string, Uint8Array>> {
  const snap = (await getSnapshot(srv.ctx.db, snapshotId))!;
  const manifest = decodeManifest((await srv.ctx.blobs.get(snap.rootHash!))!);
  const out = new Map<string, Uint8Array>();
  for (const e of manifest.entries) if (e.hash) out.set(e.path, (await srv.ctx.blobs.get(e.hash))!);
  return out;
}

async function expectSnapshotEqualsTree(
  snapshotId: string,
  h: VirtualHandset,
  categories: readonly Category[],
): Promise<void> {
  const want = await treeLeaves(h, categories);
  const got = await snapshotLeaves(snapshotId);
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [p, bytes] of want) expect(sha256Hex(got.get(p)!), p).toBe(sha256Hex(bytes));
  expect(want.size).toBeGreaterThan(10);
}

describe('backup triggers', () => {
  it('on demand: Package #0, a session, a complete snapshot equal to the tree byte for byte (Struct and walked handsets)', async () => {
    const models = new Set<string>();
    for (const h of handsets.slice(0, 4)) {
      const { job } = await createBackupJob(srv.ctx.db, await device(h), {
        trigger: 'on-demand',
        actor: 'test',
        wake: true,
      });
      await wakeAndWait(h);
      const done = (await getJob(srv.ctx.db, job.id))!;
      expect(done.status, done.error ?? '').toBe('succeeded');
      const { snapshotId } = JSON.parse(done.result!) as { snapshotId: string };
      const snap = (await getSnapshot(srv.ctx.db, snapshotId))!;
      expect(snap).toMatchObject({ status: 'complete', trigger: 'on-demand' });
      expect(h.sessions.at(-1)!.initiator).toBe('server');
      await expectSnapshotEqualsTree(snapshotId, h, CATEGORIES);
      models.add(h.identity.model);
    }
    // At least one handset answered ?list=Struct with 406 and was walked node by node.
    expect(handsets.slice(0, 4).some((h) => !h.tree.options.listStruct)).toBe(true);
    expect(models.size).toBeGreaterThan(1);
  }, 120_000);

  it('30 backups of an unchanged handset add no content to the store', async () => {
    const h = handsets[0]!;
    const store = srv.ctx.blobs as FileBlobStore;
    const files = async () => {
      let n = 0;
      for await (const _ of store.list()) n++;
      return n;
    };
    const before = { stats: await blobStats(srv.ctx.db), files: await files() };
    const roots = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const { job } = await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
      await h.connect({ initiator: 'client' });
      const r = JSON.parse((await getJob(srv.ctx.db, job.id))!.result!) as {
        snapshotId: string;
        newBytes: number;
        rootHash: string;
      };
      expect(r.newBytes).toBe(0);
      roots.add(r.rootHash);
    }
    expect(roots.size).toBe(1);
    // The default policy's retention (keep the last 5, one a day...) pruned the rest as it went.
    expect((await listSnapshots(srv.ctx.db, (await device(h)).id, { status: 'complete' })).length).toBeLessThanOrEqual(
      6,
    );
    expect(await blobStats(srv.ctx.db)).toEqual(before.stats);
    expect(await files()).toBe(before.files);
  }, 180_000);

  it('scheduled: the scheduler queues due backups and wakes the handsets; a handset that connects while due is backed up then', async () => {
    const h = handsets[4]!;
    const now = Date.now();
    // Never backed up, its policy (the default: daily) makes it due a day after provisioning.
    expect(await scheduleDueBackups(srv.ctx, now + 2 * 86_400_000)).toBeGreaterThan(0);
    const job = (await jobsForDevice(srv.ctx.db, (await device(h)).id, ['queued'])).find((j) => j.kind === 'backup')!;
    expect(job.payload).toMatchObject({ trigger: 'scheduled' });
    await wakeAndWait(h);
    for (const other of handsets) await other.idle();
    expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded');
    // Nothing is due again straight after.
    expect(await scheduleDueBackups(srv.ctx, Date.now())).toBe(0);

    // The last good backup is two days old: connecting by itself, the handset gets one.
    const last = (await listSnapshots(srv.ctx.db, (await device(h)).id, { status: 'complete' }))[0]!;
    await updateSnapshot(srv.ctx.db, last.id, { completedAt: now - 2 * 86_400_000 });
    const count = (await listSnapshots(srv.ctx.db, (await device(h)).id)).length;
    await h.connect({ initiator: 'client' });
    const snaps = await listSnapshots(srv.ctx.db, (await device(h)).id);
    expect(snaps.length).toBe(count + 1);
    expect(snaps[0]).toMatchObject({ status: 'complete', trigger: 'scheduled' });
  }, 120_000);

  it('safety: an operation waits for its safety backup, then runs in the same session', async () => {
    const h = handsets[1]!;
    const target = './Settings/Display/Brightness';
    const old = h.tree.read(target)!;
    const { backup, job } = await withSafetyBackup(
      srv.ctx.db,
      await device(h),
      {
        kind: 'dm-commands',
        payload: {
          work: [
            {
              id: 'set',
              kind: 'replace',
              items: [{ path: target, format: 'int', value: base64Encode(new TextEncoder().encode('17')) }],
            },
          ],
        },
      },
      { actor: 'test' },
    );
    const sessions = h.sessions.length;
    await wakeAndWait(h);
    expect(h.sessions.length).toBe(sessions + 1);
    expect((await getJob(srv.ctx.db, backup.id))!.status).toBe('succeeded');
    expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded');
    expect(h.tree.text(target)).toBe('17');
    // The snapshot holds the value from before the operation.
    const { snapshotId } = JSON.parse((await getJob(srv.ctx.db, backup.id))!.result!) as { snapshotId: string };
    expect((await snapshotLeaves(snapshotId)).get(target)).toEqual(old);
  }, 60_000);

  it('a firmware version that is not text (binary, a NUL) is not kept as the firmware, and the backup completes', async () => {
    const h = handsets[2]!;
    const before = (await device(h)).firmware;
    const real = h.tree.read('./DevDetail/FwV');
    h.tree.set('./DevDetail/FwV', Uint8Array.from([0x31, 0x00, 0x32, 0xff]), { format: 'bin' });
    try {
      const { job } = await createBackupJob(srv.ctx.db, await device(h), {
        trigger: 'on-demand',
        categories: ['settings'],
        actor: 'test',
      });
      const s = await h.connect({ initiator: 'client' });
      expect(s.ok, s.error?.message).toBe(true);
      expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded');
      expect((await device(h)).firmware).toBe(before);
    } finally {
      h.tree.set('./DevDetail/FwV', real!, { format: 'chr' });
    }
  }, 60_000);

  it('device-initiated: the user presses backup; the server answers with a backup in the same session', async () => {
    const h = handsets[2]!;
    const before = (await listSnapshots(srv.ctx.db, (await device(h)).id)).length;
    const sessions = h.sessions.length;
    const s = await h.pressBackupButton(['settings', 'appdata']);
    expect(s.ok).toBe(true);
    await h.idle();
    expect(h.sessions.length).toBe(sessions + 1);
    const snaps = await listSnapshots(srv.ctx.db, (await device(h)).id);
    expect(snaps.length).toBe(before + 1);
    expect(snaps[0]).toMatchObject({ status: 'complete', trigger: 'device' });
    expect(JSON.parse(snaps[0]!.categories)).toEqual(['settings', 'appdata']);
    await expectSnapshotEqualsTree(snaps[0]!.id, h, ['settings', 'appdata']);
  }, 60_000);

  it('local: the handset backs up to its own storage, reports the manifest, and restores it on order', async () => {
    const h = handsets[3]!;
    const job = await createLocalBackupJob(srv.ctx.db, await device(h), {
      target: 'device',
      categories: ['settings', 'appdata'],
      actor: 'test',
    });
    await wakeAndWait(h);
    const done = (await getJob(srv.ctx.db, job.id))!;
    expect(done.status, done.error ?? '').toBe('succeeded');
    const rows = await listLocalBackups(srv.ctx.db, (await device(h)).id);
    expect(rows).toHaveLength(1);
    const onHandset = h.localBackups();
    expect(onHandset).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      localId: onHandset[0]!.id,
      target: 'device',
      rootHash: onHandset[0]!.rootHash,
      entries: onHandset[0]!.entries,
      size: onHandset[0]!.size,
    });

    const restore = await createLocalRestoreJob(srv.ctx.db, await device(h), {
      localId: rows[0]!.localId,
      actor: 'test',
    });
    await wakeAndWait(h);
    expect((await getJob(srv.ctx.db, restore.id))!.status, (await getJob(srv.ctx.db, restore.id))!.error ?? '').toBe(
      'succeeded',
    );
  }, 60_000);
});

describe('profiles', () => {
  it('a handset of a model nobody described is backed up with the generic profile: DevInfo and DevDetail, exactly', async () => {
    const h = handsets[4]!;
    const real = h.state.identity;
    // The handset now reports a model the server has no profile for.
    h.state.identity = { ...real, mod: 'Prototype X9' };
    try {
      const { job } = await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
      await h.connect({ initiator: 'client' });
      expect((await device(h)).model).toBe('Prototype X9');
      const done = (await getJob(srv.ctx.db, job.id))!;
      expect(done.status, done.error ?? '').toBe('succeeded');
      const { snapshotId } = JSON.parse(done.result!) as { snapshotId: string };
      const got = await snapshotLeaves(snapshotId);
      expect([...got.keys()].every((p) => p.startsWith('./DevInfo/') || p.startsWith('./DevDetail/'))).toBe(true);
      const want = new Map<string, Uint8Array>();
      for (const root of ['./DevInfo', './DevDetail']) {
        for (const { path: p, node } of h.tree.walk(root))
          if (node.kind === 'leaf' && node.access.includes('Get')) want.set(p, node.value);
      }
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [p, bytes] of want) expect(sha256Hex(got.get(p)!), p).toBe(sha256Hex(bytes));
    } finally {
      h.state.identity = real;
    }
  }, 60_000);
});

describe('interrupted backups', () => {
  it('a handset dropping at each message boundary leaves no incomplete snapshot marked good, and the retry completes', async () => {
    const h = handsets[5]!;
    // How many messages a whole backup session of this handset takes.
    // Twice: the first backup may still be learning how the model tells what changed, and
    // the ones below are of a handset unchanged since a backup that knew.
    let probe = withFaults(httpTransport);
    for (let i = 0; i < 2; i++) {
      probe = withFaults(httpTransport);
      h.transport = probe;
      await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
      await h.connect({ initiator: 'client' });
    }
    const messages = probe.count;
    // An unchanged handset whose model reports digests needs 2: the inventory with the root
    // digest request, then the end.
    expect(messages).toBeGreaterThanOrEqual(2);
    const good = (await listSnapshots(srv.ctx.db, (await device(h)).id, { status: 'complete' }))[0]!;
    // Retention prunes old snapshots after each backup; a legal hold keeps this one whatever happens.
    await updateSnapshot(srv.ctx.db, good.id, { legalHold: true });

    for (let at = 1; at <= messages; at++) {
      for (const phase of ['request', 'reply'] as const) {
        const faulty = withFaults(httpTransport, { rules: [dropAt(at, phase)] });
        h.transport = faulty;
        const { job } = await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
        const s = await h.connect({ initiator: 'client' });
        expect(s.ok, `drop ${phase} ${at}`).toBe(false);
        // Nothing half-done is complete; the last good snapshot is untouched.
        for (const snap of await listSnapshots(srv.ctx.db, (await device(h)).id)) {
          if (snap.status === 'complete') expect(snap.rootHash).toBe(good.rootHash);
        }
        expect(await getSnapshot(srv.ctx.db, good.id)).toMatchObject({ status: 'complete', rootHash: good.rootHash });
        // The retry: the handset comes back and the job completes.
        h.transport = httpTransport;
        const again = await h.connect({ initiator: 'client' });
        expect(again.ok, `retry after drop ${phase} ${at}: ${again.error?.message}`).toBe(true);
        const finished = (await getJob(srv.ctx.db, job.id))!;
        expect(finished.status, `job after drop ${phase} ${at}: ${finished.error}`).toBe('succeeded');
        expect(
          (await getSnapshot(srv.ctx.db, (JSON.parse(finished.result!) as { snapshotId: string }).snapshotId))!
            .rootHash,
        ).toBe(good.rootHash);
      }
    }
    const incomplete = (await listSnapshots(srv.ctx.db, (await device(h)).id)).filter((s) => s.status !== 'complete');
    expect(incomplete.every((s) => s.rootHash === null)).toBe(true);
  }, 300_000);
});
