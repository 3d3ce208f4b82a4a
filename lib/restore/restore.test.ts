/**
 * Restores end to end, one test per use case of the OMA contribution this product grew
 * from, with virtual handsets over the real /dm endpoint, a real database and blob store,
 * and packages served by Rewind itself.
 */
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec, row as firstRow } from '@/db/sql';
import { VirtualHandset } from '../../sim/handset';
import { MODELS } from '../../sim/catalog';
import { provisionFleet } from '../../sim/provision';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listConsents, listItems } from '@/db/queries/restore';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import type { Category } from '../omadm/mo/backup-restore';
import { createBackupJob } from '../backup/jobs';
import { decodeManifest } from '../backup/manifest';
import { getSnapshot } from '@/db/queries/snapshots';
import { sha256Hex } from '../backup/blob-store';
import { createPlan, isValueStep, type RestorePlan } from './plan';
import { executePlan, retryFailed } from './engine';

let srv: TestFleet;
let handsets: VirtualHandset[];

beforeAll(async () => {
  srv = await startTestFleet({ devices: 6, seed: 21, catalogKb: 8 });
  handsets = srv.handsets;
});

afterAll(async () => {
  await srv?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(srv.ctx.db, h.devId))!;

async function settle(...hs: VirtualHandset[]): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await dispatchWakes(srv.ctx);
    for (const h of hs) await h.idle();
  }
}

async function backup(h: VirtualHandset): Promise<string> {
  const { job } = await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
  await h.connect({ initiator: 'client' });
  const done = (await getJob(srv.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  return (JSON.parse(done.result!) as { snapshotId: string }).snapshotId;
}

/** The snapshot's leaves under `roots`, path -> sha256. */
async function snapshotUnder(snapshotId: string, roots: string[]): Promise<Map<string, string>> {
  const snap = (await getSnapshot(srv.ctx.db, snapshotId))!;
  const m = decodeManifest((await srv.ctx.blobs.get(snap.rootHash!))!);
  return new Map(
    m.entries.filter((e) => e.hash && roots.some((r) => e.path.startsWith(`${r}/`))).map((e) => [e.path, e.hash!]),
  );
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

async function restore(
  h: VirtualHandset,
  snapshotId: string,
  sel: { categories?: Category[]; paths?: string[]; apps?: string[]; to?: VirtualHandset },
): Promise<{ jobId: string; plan: RestorePlan }> {
  const { row, plan } = await createPlan(
    srv.ctx,
    { snapshotId, ...(sel.to ? { targetDevId: sel.to.devId } : {}), ...sel },
    'test',
  );
  const { job } = await executePlan(srv.ctx, row.id, 'test');
  await settle(sel.to ?? h);
  return { jobId: job.id, plan };
}

async function expectSucceeded(jobId: string): Promise<void> {
  const job = (await getJob(srv.ctx.db, jobId))!;
  const bad = (await listItems(srv.ctx.db, jobId)).filter((i) => i.status !== 'verified');
  expect(job.status, `${job.error} ${JSON.stringify(bad.slice(0, 3))}`).toBe('succeeded');
}

describe('restore use cases', () => {
  it('lost settings are restored, byte for byte, after the user accepts', async () => {
    const h = handsets[0]!;
    const snap = await backup(h);
    h.damage('settings');
    const { jobId, plan } = await restore(h, snap, { categories: ['settings'] });
    await expectSucceeded(jobId);
    await expectRestored(h, snap, ['./Settings']);
    expect(plan.prompt.text).toMatch(/settings/);
    const ledger = await listConsents(srv.ctx.db, { jobId });
    expect(ledger.map((c) => c.answer)).toEqual(['accepted']);
    // The preview was made against the backup itself; the prompt carries what the safety backup found to differ.
    expect(h.user.prompts.at(-1)!.text).toBe(ledger[0]!.prompt);
    expect(ledger[0]!.prompt).toMatch(/^Restore settings from your backup of .* \((\d+(\.\d+)? [kK]?B)\)/);
    expect(ledger[0]!.prompt).not.toMatch(/\(0 B\)/);
  }, 60_000);

  it('lost ringtones and screensavers are restored, Large Objects and all', async () => {
    const h = handsets[1]!;
    const snap = await backup(h);
    h.damage('appdata');
    expect(h.tree.children('./AppData/Ringtones')).toEqual([]);
    const { jobId } = await restore(h, snap, { categories: ['appdata'] });
    await expectSucceeded(jobId);
    await expectRestored(h, snap, ['./AppData/Ringtones', './AppData/Screensavers', './AppData/Wallpapers']);
  }, 60_000);

  it('a lost certificate is restored as one Atomic record', async () => {
    const h = handsets[2]!;
    const snap = await backup(h);
    h.damage('certificates');
    const { jobId, plan } = await restore(h, snap, {
      paths: ['./Certificates/EmailSMIME'],
      categories: ['certificates'],
    });
    await expectSucceeded(jobId);
    await expectRestored(h, snap, ['./Certificates/EmailSMIME']);
    const values = plan.steps.filter(isValueStep);
    expect(values.length).toBeGreaterThan(0);
    expect(values.every((s) => s.group === './Certificates/EmailSMIME')).toBe(true);
  }, 60_000);

  it('a corrupted app and a corrupted antivirus are reinstalled at their recorded versions', async () => {
    const h = handsets[3]!;
    const snap = await backup(h);
    const before = h.tree.children('./SCOMO/Inventory/Deployed');
    h.damage('applications');
    h.damage('antivirus');
    expect(h.tree.children('./SCOMO/Inventory/Deployed')).toEqual([]);
    const { jobId, plan } = await restore(h, snap, { categories: ['applications'] });
    await expectSucceeded(jobId);
    expect(plan.steps.filter((s) => s.kind === 'app').map((s) => s.kind === 'app' && s.appId)).toContain(
      'com.shieldsec.shieldav',
    );
    expect(h.tree.children('./SCOMO/Inventory/Deployed').sort()).toEqual(before.sort());
    const versions = await snapshotUnder(snap, ['./SCOMO/Inventory/Deployed']);
    for (const [p, hash] of versions)
      if (p.endsWith('/Version') || p.endsWith('/ID')) expect(sha256Hex(h.tree.read(p)!), p).toBe(hash);
  }, 60_000);

  it('corrupted firmware is brought back to the recorded version through FUMO', async () => {
    const h = handsets[4]!;
    const snap = await backup(h);
    const fw = h.tree.text('./DevDetail/FwV')!;
    h.damage('firmware');
    await h.connect({ initiator: 'client' }); // the server reads the broken version
    expect((await device(h)).firmware).toBe(`${fw}-corrupt`);
    const { jobId, plan } = await restore(h, snap, { categories: ['firmware'] });
    expect(plan.steps).toMatchObject([{ kind: 'firmware', from: `${fw}-corrupt`, to: fw }]);
    await expectSucceeded(jobId);
    expect(h.tree.text('./DevDetail/FwV')).toBe(fw);
    expect(h.tree.text('./FUMO/State')).toBe('100');
  }, 60_000);

  it('a new handset of the same brand gets settings, app data, apps and certificates; device-bound certificates are flagged, not copied', async () => {
    const from = handsets[0]!;
    // The subscriber's new handset: another model of the same brand, fresh from the box.
    const model =
      MODELS.find((m) => m.man === from.identity.man && m.id !== from.identity.model) ??
      MODELS.find((m) => m.id === from.identity.model)!;
    const to = VirtualHandset.create(991, model.id, { serverUri: srv.dmUrl, encoding: 'wbxml', mediaScale: 0.02 });
    await provisionFleet(srv.ctx.db, [{ ...to.identity, nonces: { ...to.state.nonces } }], { inprocPush: true });
    to.listen(srv.ctx.push.inproc);
    await exec(
      srv.ctx.db,
      sql`update devices set subscriber_id = ${(await device(from)).subscriberId} where id = ${(await device(to)).id}`,
    );
    await to.connect({ initiator: 'client' });
    expect((await device(from)).manufacturer).toBe((await device(to)).manufacturer);
    const snap = await backup(from);
    const { jobId, plan } = await restore(from, snap, {
      categories: ['settings', 'appdata', 'applications', 'certificates'],
      to,
    });
    expect(plan.migration).toBe(true);
    expect(plan.reissue).toContain('./Certificates/WifiClient');
    expect(plan.notCarried.some((n) => n.path === './Certificates/WifiClient' && /bound/.test(n.reason))).toBe(true);
    await expectSucceeded(jobId);
    await expectRestored(to, snap, [
      './Settings',
      './AppData',
      './Certificates/EmailSMIME',
      './Certificates/OperatorRoot',
    ]);
    const apps = plan.steps.filter((s) => s.kind === 'app');
    expect(apps.length).toBeGreaterThan(0);
    for (const a of apps) if (a.kind === 'app') expect(to.tree.text(`${a.path}/Version`), a.appId).toBe(a.version);
    expect(
      to.tree.has('./Certificates/WifiClient/Data') ? to.tree.text('./Certificates/WifiClient/Subject') : undefined,
    ).not.toContain(from.devId);
    const link = await firstRow(
      srv.ctx.db,
      sql`select * from device_links where from_device_id = ${(await device(from)).id} and to_device_id = ${(await device(to)).id}`,
    );
    expect(link).toBeDefined();
  }, 90_000);
});

describe('consent and cost', () => {
  const settingsRestore = async (h: VirtualHandset) => {
    const snap = await backup(h);
    h.damage('settings');
    const { row, plan } = await createPlan(srv.ctx, { snapshotId: snap, categories: ['settings'] }, 'test');
    const { job } = await executePlan(srv.ctx, row.id, 'test');
    return { snap, plan, jobId: job.id };
  };
  const answers = async (jobId: string) => (await listConsents(srv.ctx.db, { jobId })).map((c) => c.answer).reverse();

  it('rejected: the job ends as rejected with the reason, nothing is written', async () => {
    const h = handsets[1]!;
    h.user.behaviour = 'reject';
    try {
      const { jobId } = await settingsRestore(h);
      await settle(h);
      const job = (await getJob(srv.ctx.db, jobId))!;
      expect(job.status).toBe('rejected');
      expect(job.error).toMatch(/rejected/);
      expect(await answers(jobId)).toEqual(['rejected']);
      expect((await listItems(srv.ctx.db, jobId)).every((i) => i.status === 'skipped')).toBe(true);
      expect(h.tree.children('./Settings/Email')).toEqual([]);
    } finally {
      h.user.behaviour = 'accept';
    }
  }, 60_000);

  it('deferred: "later on Wi-Fi" waits, says why, and resumes once the handset is on Wi-Fi', async () => {
    const h = handsets[2]!;
    h.setNetwork({ bearer: 'cellular' });
    h.user.behaviour = 'later';
    const { snap, jobId } = await settingsRestore(h);
    await settle(h);
    let job = (await getJob(srv.ctx.db, jobId))!;
    expect(job.status).toBe('queued');
    expect(job.error).toMatch(/Wi-Fi/);
    expect(await answers(jobId)).toEqual(['deferred']);
    // Still on cellular: a session goes by and the restore keeps waiting, without asking again.
    await h.connect({ initiator: 'client' });
    expect((await getJob(srv.ctx.db, jobId))!.status).toBe('queued');
    h.user.behaviour = 'accept';
    h.setNetwork({ bearer: 'wifi' });
    await h.connect({ initiator: 'client' });
    await settle(h);
    job = (await getJob(srv.ctx.db, jobId))!;
    await expectSucceeded(jobId);
    await expectRestored(h, snap, ['./Settings']);
    expect(await answers(jobId)).toEqual(['deferred']);
  }, 60_000);

  it('time-out: no answer is recorded, the job waits and asks again later', async () => {
    const h = handsets[3]!;
    h.user.behaviour = 'timeout';
    const { jobId } = await settingsRestore(h);
    await settle(h);
    const job = (await getJob(srv.ctx.db, jobId))!;
    expect(job.status).toBe('queued');
    expect(job.notBefore).toBeGreaterThan(Date.now());
    expect(job.error).toMatch(/no answer/);
    expect(await answers(jobId)).toEqual(['timeout']);
    // Asked again (here: now), and accepted.
    h.user.behaviour = 'accept';
    await exec(srv.ctx.db, sql`update jobs set not_before = null where id = ${jobId}`);
    await h.connect({ initiator: 'client' });
    await settle(h);
    await expectSucceeded(jobId);
    expect(await answers(jobId)).toEqual(['timeout', 'accepted']);
  }, 60_000);

  it('roaming: the prompt quotes the roaming cost; declined, it waits for Wi-Fi; accepted with the cost, it goes ahead', async () => {
    const h = handsets[4]!;
    h.setNetwork({ bearer: 'cellular', roaming: true });
    await h.connect({ initiator: 'client' });
    h.user.behaviour = 'later';
    const first = await settingsRestore(h);
    expect(first.plan.cost.network).toBe('roaming');
    expect(first.plan.prompt.text).toMatch(/Charges may apply: about EUR [\d.]+ while roaming/);
    await settle(h);
    expect((await getJob(srv.ctx.db, first.jobId))!.status).toBe('queued');
    expect((await listConsents(srv.ctx.db, { jobId: first.jobId }))[0]).toMatchObject({
      answer: 'deferred',
      cost: first.plan.cost.text,
    });
    expect(JSON.parse((await listConsents(srv.ctx.db, { jobId: first.jobId }))[0]!.network!)).toMatchObject({
      roaming: true,
    });
    h.setNetwork({ bearer: 'wifi', roaming: false });
    await h.connect({ initiator: 'client' });
    await settle(h);
    await expectSucceeded(first.jobId);

    // Accepting the quoted roaming cost: the restore runs while roaming.
    h.setNetwork({ bearer: 'cellular', roaming: true });
    await h.connect({ initiator: 'client' });
    h.user.behaviour = 'accept';
    const second = await settingsRestore(h);
    await settle(h);
    await expectSucceeded(second.jobId);
    expect((await listConsents(srv.ctx.db, { jobId: second.jobId }))[0]).toMatchObject({
      answer: 'accepted',
      cost: second.plan.cost.text,
    });
    h.setNetwork({ bearer: 'wifi', roaming: false });
  }, 60_000);

  it('a handset without single-choice prompts is asked with a plain confirmation', async () => {
    const h = handsets[0]!;
    h.user.behaviour = (req) => (req.code === '1103' ? { status: 406 } : { status: 200 });
    try {
      const { jobId, plan } = await settingsRestore(h);
      await settle(h);
      await expectSucceeded(jobId);
      expect(await answers(jobId)).toEqual(['unsupported', 'accepted']);
      const ledger = await listConsents(srv.ctx.db, { jobId });
      expect(h.user.prompts.at(-1)!.text).toBe(ledger[0]!.prompt);
      expect(ledger[0]!.prompt).toMatch(/OK to go ahead now\?$/);
      expect(plan.prompt.fallback.text).toMatch(/OK to go ahead now\?$/);
    } finally {
      h.user.behaviour = 'accept';
    }
  }, 60_000);
});

describe('execution', () => {
  it('the read-back catches a handset that answers 200 without storing; retrying the failed items fixes it', async () => {
    const h = handsets[1]!;
    h.tree.set('./Settings/Display/Brightness', '77', { format: 'int' }); // damage() sets 50
    const snap = await backup(h);
    h.damage('settings');
    const { row } = await createPlan(srv.ctx, { snapshotId: snap, categories: ['settings'] }, 'test');
    h.ignoreWrites = (p) => p === './Settings/Display/Brightness';
    const { job } = await executePlan(srv.ctx, row.id, 'test');
    await settle(h);
    const failed = (await getJob(srv.ctx.db, job.id))!;
    expect(failed.status).toBe('failed');
    const bad = (await listItems(srv.ctx.db, job.id)).filter((i) => i.status !== 'verified');
    expect(bad.map((i) => [i.path, i.status])).toEqual([['./Settings/Display/Brightness', 'mismatch']]);
    h.ignoreWrites = undefined;
    await retryFailed(srv.ctx, job.id, 'test');
    await settle(h);
    await expectSucceeded(job.id);
    await expectRestored(h, snap, ['./Settings']);
  }, 60_000);

  it('a restore interrupted at each message boundary in turn resumes to the same end state', async () => {
    const h = handsets[3]!;
    const snap = await backup(h);
    const { withFaults, dropAt } = await import('../../sim/faults');
    const { httpTransport } = await import('../../sim/transport');
    // How many messages the restore session takes when nothing goes wrong.
    h.damage('appdata');
    const probe = withFaults(httpTransport);
    h.transport = probe;
    const { row } = await createPlan(srv.ctx, { snapshotId: snap, categories: ['appdata'] }, 'test');
    const first = await executePlan(srv.ctx, row.id, 'test');
    await settle(h);
    await expectSucceeded(first.job.id);
    const messages = probe.count;
    expect(messages).toBeGreaterThan(3);
    for (let at = 1; at <= messages; at++) {
      h.damage('appdata');
      const faulty = withFaults(httpTransport, { rules: [dropAt(at, at % 2 ? 'reply' : 'request')] });
      h.transport = faulty;
      const { row: plan } = await createPlan(srv.ctx, { snapshotId: snap, categories: ['appdata'] }, 'test');
      const { job } = await executePlan(srv.ctx, plan.id, 'test');
      await settle(h);
      h.transport = httpTransport;
      for (let i = 0; i < 4 && (await getJob(srv.ctx.db, job.id))!.status !== 'succeeded'; i++) {
        await h.connect({ initiator: 'client' });
        await settle(h);
      }
      await expectSucceeded(job.id);
      await expectRestored(h, snap, ['./AppData/Ringtones', './AppData/Wallpapers', './AppData/Screensavers']);
    }
  }, 300_000);
});
