/**
 * Backups and restores over the real /dm with the blobs in an S3-compatible object store
 * (BLOB_STORE=s3://…, s3rver on loopback): the same content as on files, encrypted in the
 * bucket, deduplicated, verified, and restored byte for byte.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listItems } from '@/db/queries/restore';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { createBackupJob } from '../backup/jobs';
import { readManifest } from '../backup/read';
import { S3BlobStore } from '../backup/s3-store';
import type { SealedBlobStore } from '../backup/sealed-store';
import { verifySnapshot } from '../backup/verify';
import type { VirtualHandset } from '../../sim/handset';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import { executePlan } from '../restore/engine';
import { createPlan } from '../restore/plan';
import { sha256Hex } from '../backup/blob-store';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';

let s3: LocalS3;
let fleet: TestFleet;

beforeAll(async () => {
  s3 = await startLocalS3();
  fleet = await startTestFleet({ devices: 1, seed: 4242, encoding: 'wbxml', mediaScale: 0.05, env: s3.env });
}, 120_000);
afterAll(async () => {
  await fleet?.close();
  await s3?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(fleet.ctx.db, h.devId))!;

async function backup(h: VirtualHandset): Promise<{ snapshotId: string; newBytes: number }> {
  const { job } = await createBackupJob(fleet.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
  await h.connect({ initiator: 'client' });
  const done = (await getJob(fleet.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  return JSON.parse(done.result!) as { snapshotId: string; newBytes: number };
}

it('backs up into the bucket, deduplicates the second backup, and restores lost media byte for byte', async () => {
  const store = fleet.ctx.blobs as SealedBlobStore;
  expect(store.raw).toBeInstanceOf(S3BlobStore);
  const h = fleet.handsets[0]!;
  const first = await backup(h);
  expect(first.newBytes).toBeGreaterThan(0);
  expect(await verifySnapshot(fleet.ctx.db, store, first.snapshotId)).toMatchObject({ ok: true });
  const again = await backup(h);
  expect(again.newBytes).toBe(0);

  // In the bucket, values are in pack objects (none loose), sealed: no pack holds a value's bytes in the clear.
  const { entries } = await readManifest(fleet.ctx.db, store, first.snapshotId);
  const media = entries.filter((e) => e.hash && e.path.startsWith('./AppData/'));
  expect(media.length).toBeGreaterThan(0);
  const packs: Buffer[] = [];
  for await (const p of store.packs!.list()) packs.push(Buffer.from((await store.packs!.readAll(p.id))!));
  expect(packs.length).toBeGreaterThan(0);
  for (const e of media.slice(0, 5)) {
    expect(await store.raw.get(e.hash!)).toBeUndefined();
    const plain = Buffer.from((await store.get(e.hash!))!);
    expect(sha256Hex(plain)).toBe(e.hash);
    for (const p of packs) expect(p.includes(plain.subarray(0, 64))).toBe(false);
  }

  h.damage('appdata');
  const { row } = await createPlan(fleet.ctx, { snapshotId: first.snapshotId, categories: ['appdata'] }, 'test');
  const { job } = await executePlan(fleet.ctx, row.id, 'test');
  for (let i = 0; i < 6 && (await getJob(fleet.ctx.db, job.id))!.status !== 'succeeded'; i++) {
    await dispatchWakes(fleet.ctx);
    await h.idle();
  }
  const done = (await getJob(fleet.ctx.db, job.id))!;
  expect(
    done.status,
    `${done.error} ${JSON.stringify((await listItems(fleet.ctx.db, job.id)).filter((x) => x.status !== 'verified').slice(0, 3))}`,
  ).toBe('succeeded');
  for (const e of media) expect(sha256Hex(h.tree.read(e.path)!), e.path).toBe(e.hash);
}, 120_000);
