/**
 * Restores end to end, one test per use case of the OMA contribution this product grew
 * from, with virtual handsets over the real /dm endpoint, a real database and blob store,
 * and packages served by Rewind itself.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet } from '../device/fleet';
import type { VirtualHandset } from '../device/handset';
import { VirtualUser } from '../device/user';
import { describeVirtualModels, provisionFleet, publishVirtualCatalog } from '../fleet-provision';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listConsents, listItems } from '@/db/queries/restore';
import { startTestServer, type TestServer } from '../gateway/test-server';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import type { Category } from '../omadm/mo/backup-restore';
import { createBackupJob } from '../backup/jobs';
import { decodeManifest } from '../backup/manifest';
import { getSnapshot } from '@/db/queries/snapshots';
import { sha256Hex } from '../backup/blob-store';
import { createPlan, type RestorePlan } from './plan';
import { executePlan, retryFailed } from './engine';

let srv: TestServer;
let stateDir: string;
let handsets: VirtualHandset[];

beforeAll(async () => {
  srv = await startTestServer();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-restore-'));
  handsets = openFleet({ server: srv.dmUrl, devices: 6, stateDir, encoding: 'mixed', auth: 'md5', mediaScale: 0.02, seed: 21 });
  describeVirtualModels(srv.ctx.db);
  await publishVirtualCatalog(srv.ctx, { kb: 8 });
  provisionFleet(srv.ctx.db, handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })), { inprocPush: true });
  for (const h of handsets) h.listen(srv.ctx.push.inproc);
});

afterAll(async () => {
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

const device = (h: VirtualHandset): DeviceRow => getDeviceByDevId(srv.ctx.db, h.devId)!;

async function settle(...hs: VirtualHandset[]): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await dispatchWakes(srv.ctx);
    for (const h of hs) await h.idle();
  }
}

async function backup(h: VirtualHandset): Promise<string> {
  const { job } = createBackupJob(srv.ctx.db, device(h), { trigger: 'on-demand', actor: 'test' });
  await h.connect({ initiator: 'client' });
  const done = getJob(srv.ctx.db, job.id)!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  return (JSON.parse(done.result!) as { snapshotId: string }).snapshotId;
}

/** The snapshot's leaves under `roots`, path -> sha256. */
async function snapshotUnder(snapshotId: string, roots: string[]): Promise<Map<string, string>> {
  const snap = getSnapshot(srv.ctx.db, snapshotId)!;
  const m = decodeManifest((await srv.ctx.blobs.get(snap.rootHash!))!);
  return new Map(m.entries.filter((e) => e.hash && roots.some((r) => e.path.startsWith(`${r}/`))).map((e) => [e.path, e.hash!]));
}

async function expectRestored(h: VirtualHandset, snapshotId: string, roots: string[]): Promise<void> {
  const want = await snapshotUnder(snapshotId, roots);
  expect(want.size).toBeGreaterThan(0);
  for (const [p, hash] of want) {
    const got = h.tree.read(p);
    expect(got, `${p} missing`).toBeDefined();
    expect(sha256Hex(got!), p).toBe(hash);
  }
}

async function restore(h: VirtualHandset, snapshotId: string, sel: { categories?: Category[]; paths?: string[]; apps?: string[]; to?: VirtualHandset }): Promise<{ jobId: string; plan: RestorePlan }> {
  const { row, plan } = await createPlan(srv.ctx, { snapshotId, ...(sel.to ? { targetDevId: sel.to.devId } : {}), ...sel }, 'test');
  const { job } = executePlan(srv.ctx, row.id, 'test');
  await settle(sel.to ?? h);
  return { jobId: job.id, plan };
}

function expectSucceeded(jobId: string): void {
  const job = getJob(srv.ctx.db, jobId)!;
  const bad = listItems(srv.ctx.db, jobId).filter((i) => i.status !== 'verified');
  expect(job.status, `${job.error} ${JSON.stringify(bad.slice(0, 3))}`).toBe('succeeded');
}

describe('restore use cases', () => {
  it('lost settings are restored, byte for byte, after the user accepts', async () => {
    const h = handsets[0]!;
    const snap = await backup(h);
    h.damage('settings');
    const { jobId, plan } = await restore(h, snap, { categories: ['settings'] });
    expectSucceeded(jobId);
    await expectRestored(h, snap, ['./Settings']);
    expect(plan.prompt.text).toMatch(/settings/);
    const ledger = listConsents(srv.ctx.db, { jobId });
    expect(ledger.map((c) => c.answer)).toEqual(['accepted']);
    expect(h.user.prompts.at(-1)!.text).toBe(plan.prompt.text);
  }, 60_000);
});
