/**
 * Restores that send only what differs, checked on the wire: virtual handsets over the real
 * /dm endpoint, every message the server sends decoded and its Replace/Add/Delete items
 * counted. A property test edits a handset at random and checks that the restore leaves
 * the selection byte-equal to the snapshot while sending exactly the values that differ;
 * then "keep newer", a migration to another maker, undo, and a handset already equal.
 */
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exec } from '@/db/sql';
import { VirtualHandset } from '../../sim/handset';
import { MODELS } from '../../sim/catalog';
import { provisionFleet } from '../../sim/provision';
import { httpTransport, type Transport } from '../../sim/transport';
import { dropAt, withFaults } from '../../sim/faults';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listConsents, listItems } from '@/db/queries/restore';
import { getSnapshot } from '@/db/queries/snapshots';
import { listAudit } from '@/db/queries/audit';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { dispatchWakes } from '../jobs/wake-dispatcher';
import { createBackupJob } from '../backup/jobs';
import { decodeManifest } from '../backup/manifest';
import { sha256Hex } from '../backup/blob-store';
import { decodeMessage } from '../omadm/codec';
import type { Command } from '../omadm/message';
import type { Category } from '../omadm/mo/backup-restore';
import { createPlan, isValueStep, type PlanRequest, type RestorePlan } from './plan';
import { executePlan, planUndo } from './engine';

let srv: TestFleet;

beforeAll(async () => {
  srv = await startTestFleet({ devices: 4, seed: 77, catalogKb: 8, models: ['nimbus-n2'] });
});

afterAll(async () => {
  await srv?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(srv.ctx.db, h.devId))!;

/** What the server sent a handset, command by command: value writes by path, interior Adds, Deletes, bytes. */
interface Wire {
  values: string[];
  folders: string[];
  deletes: string[];
  /** Bytes both ways once `after()` says so (checked after each reply). */
  bytesAfter: number;
  after?: () => Promise<boolean>;
}

function onTheWire(inner: Transport = httpTransport): { transport: Transport; wire: Wire } {
  const wire: Wire = { values: [], folders: [], deletes: [], bytesAfter: 0 };
  const walk = (cmds: readonly Command[]) => {
    for (const c of cmds) {
      if (c.kind === 'Atomic' || c.kind === 'Sequence') walk(c.commands);
      else if (c.kind === 'Add' || c.kind === 'Replace')
        for (const it of c.items) {
          if (it.moreData) continue; // a Large Object counts once, at its last chunk
          const path = it.target?.locURI ?? '';
          if ((it.meta?.format ?? c.meta?.format) === 'node') wire.folders.push(path);
          else wire.values.push(path);
        }
      else if (c.kind === 'Delete') for (const it of c.items) wire.deletes.push(it.target?.locURI ?? '');
    }
  };
  const transport: Transport = async (req) => {
    const counting = wire.after ? await wire.after() : false;
    const reply = await inner(req);
    if (req.method === 'POST' && reply.status === 200 && reply.body.length) {
      const type = reply.headers['content-type'] ?? '';
      walk(decodeMessage(reply.body, type.includes('wbxml') ? 'wbxml' : 'xml').body.commands);
      // The reply that answers the safety backup's last results carries the restore's first work.
      if (counting || (wire.after && (await wire.after())))
        wire.bytesAfter += reply.body.length + (counting ? (req.body?.length ?? 0) : 0);
    }
    return reply;
  };
  return { transport, wire };
}

async function settle(...hs: VirtualHandset[]): Promise<void> {
  for (let i = 0; i < 6; i++) {
    await dispatchWakes(srv.ctx);
    for (const h of hs) await h.idle();
  }
}

async function backup(h: VirtualHandset, at?: number): Promise<string> {
  const { job } = await createBackupJob(srv.ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
  await h.connect({ initiator: 'client' });
  const done = (await getJob(srv.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  const id = (JSON.parse(done.result!) as { snapshotId: string }).snapshotId;
  // Dated as the use case has it: a backup of two weeks ago, one of last week.
  if (at !== undefined)
    await exec(srv.ctx.db, sql`update snapshots set started_at = ${at}, completed_at = ${at} where id = ${id}`);
  return id;
}

/** A snapshot's values under `roots`: path -> sha256. */
async function valuesOf(snapshotId: string, roots: string[]): Promise<Map<string, string>> {
  const snap = (await getSnapshot(srv.ctx.db, snapshotId))!;
  const m = decodeManifest((await srv.ctx.blobs.get(snap.rootHash!))!);
  return new Map(
    m.entries.filter((e) => e.hash && roots.some((r) => e.path.startsWith(`${r}/`))).map((e) => [e.path, e.hash!]),
  );
}

/** The handset's values under `roots`: path -> sha256. */
function handsetValues(h: VirtualHandset, roots: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of roots)
    for (const { path, node } of h.tree.walk(r)) if (node.kind === 'leaf') out.set(path, sha256Hex(h.tree.read(path)!));
  return out;
}

async function run(
  h: VirtualHandset,
  req: PlanRequest,
  reason = 'test',
): Promise<{ jobId: string; plan: RestorePlan; wire: Wire }> {
  const { row, plan } = await createPlan(srv.ctx, req, 'test');
  const { job, backup: safety } = await executePlan(srv.ctx, row.id, 'test', reason);
  const { transport, wire } = onTheWire();
  wire.after = async () => (await getJob(srv.ctx.db, safety!.id))!.status === 'succeeded';
  const saved = h.transport;
  h.transport = transport;
  try {
    await settle(h);
  } finally {
    h.transport = saved;
  }
  const done = (await getJob(srv.ctx.db, job.id))!;
  const bad = (await listItems(srv.ctx.db, job.id)).filter((i) => i.status !== 'verified' && i.status !== 'unchanged');
  expect(done.status, `${done.error} ${JSON.stringify(bad.slice(0, 3))}`).toBe('succeeded');
  return { jobId: job.id, plan, wire };
}

const SETTINGS = './Settings';
const RINGTONES = './AppData/Ringtones';

describe('a restore sends what differs, nothing more', () => {
  it('after random edits, the selection is byte-equal to the snapshot and exactly the differing values went over the wire', async () => {
    const h = srv.handsets[0]!;
    const snap = await backup(h);
    const roots = [SETTINGS, './AppData'];
    const want = await valuesOf(snap, roots);
    const settings = [...want.keys()].filter((p) => p.startsWith(`${SETTINGS}/`) && !/\/APN\/|\/Email\//.test(p));
    const files = [...want.keys()].filter((p) => p.startsWith(`${RINGTONES}/`));
    expect(settings.length).toBeGreaterThan(5);
    expect(files.length).toBeGreaterThan(1);
    let n = 0;
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.constantFrom(...settings), { maxLength: 6 }),
        fc.array(fc.string({ minLength: 1, maxLength: 12 }), { minLength: 6, maxLength: 6 }),
        fc.uniqueArray(fc.constantFrom(...files), { maxLength: files.length }),
        fc.boolean(),
        async (changed, texts, removed, extra) => {
          n++;
          const differing = new Set<string>();
          changed.forEach((p, i) => {
            const before = h.tree.text(p);
            h.tree.set(p, `${texts[i]!}~`);
            if (before !== `${texts[i]!}~`) differing.add(p);
          });
          for (const p of removed) {
            h.tree.remove(p);
            differing.add(p);
          }
          // A file the backup does not have: left alone (removing extras is off by default).
          if (extra) h.tree.set(`${RINGTONES}/extra-${n}.mp3`, new Uint8Array([1, 2, 3, n]), { format: 'bin' });
          const { plan, wire } = await run(h, { snapshotId: snap, categories: ['settings', 'appdata'] });
          expect(plan.summary.remove).toBe(0);
          expect([...wire.values].sort()).toEqual([...differing].sort());
          sent += wire.values.length;
          expect(wire.deletes).toEqual([]);
          const have = handsetValues(h, roots);
          for (const [p, hash] of want) expect(have.get(p), p).toBe(hash);
          if (extra) expect(h.tree.has(`${RINGTONES}/extra-${n}.mp3`)).toBe(true);
        },
      ),
      { numRuns: 6, seed: 4242 },
    );
    expect(sent).toBeGreaterThan(0);
  }, 180_000);

  it('a handset already equal to the backup: nothing written, nobody asked, at most 8 KB after the safety backup', async () => {
    const h = srv.handsets[1]!;
    const snap = await backup(h);
    const prompts = h.user.prompts.length;
    const { jobId, plan, wire } = await run(h, {
      snapshotId: snap,
      categories: ['settings', 'appdata', 'certificates'],
    });
    expect(plan.summary).toMatchObject({ change: 0, add: 0, remove: 0 });
    expect(plan.summary.unchanged).toBeGreaterThan(10);
    expect(plan.steps.filter((s) => s.kind === 'node' && s.op === 'ensure')).toEqual([]);
    expect(wire.values).toEqual([]);
    expect(wire.folders).toEqual([]);
    expect(wire.bytesAfter).toBeGreaterThan(0); // the closing exchange is counted
    expect(wire.bytesAfter).toBeLessThanOrEqual(8 * 1024);
    expect(h.user.prompts.length).toBe(prompts);
    const items = await listItems(srv.ctx.db, jobId);
    expect(items.every((i) => i.status === 'unchanged')).toBe(true);
  }, 60_000);
});

describe('an interrupted restore', () => {
  it('resumes with what is still different: dropped at each message in turn, every differing value crosses the wire once', async () => {
    const h = srv.handsets[1]!;
    const snap = await backup(h);
    const cats: Category[] = ['settings', 'appdata'];
    const roots = [SETTINGS, './AppData'];
    let through: Transport = httpTransport;
    const { transport, wire } = onTheWire((req) => through(req));
    const saved = h.transport;
    h.transport = transport;
    try {
      const once = async (at: number | null) => {
        h.damage('settings');
        h.damage('appdata');
        wire.values.length = 0;
        const faulty = withFaults(
          httpTransport,
          at === null ? {} : { rules: [dropAt(at, at % 2 ? 'reply' : 'request')] },
        );
        through = faulty;
        const { row } = await createPlan(srv.ctx, { snapshotId: snap, categories: cats }, 'test');
        const { job } = await executePlan(srv.ctx, row.id, 'test', 'interrupted');
        await settle(h);
        through = httpTransport;
        for (let i = 0; i < 4 && (await getJob(srv.ctx.db, job.id))!.status !== 'succeeded'; i++) {
          await h.connect({ initiator: 'client' });
          await settle(h);
        }
        expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded');
        const plan = (await createPlan(srv.ctx, { snapshotId: snap, categories: cats }, 'test')).plan;
        const steps = new Map(plan.steps.map((st) => [st.path, st]));
        const written = (await listItems(srv.ctx.db, job.id))
          .filter((i) => i.status === 'verified' && isValueStep(steps.get(i.path)!))
          .map((i) => i.path);
        expect(written.length).toBeGreaterThan(5);
        // Once each: what landed before the drop is read back, not sent again.
        expect([...wire.values].sort()).toEqual(written.sort());
        const want = await valuesOf(snap, roots);
        const have = handsetValues(h, roots);
        for (const [p, hash] of want) expect(have.get(p), p).toBe(hash);
        return faulty.count;
      };
      const messages = await once(null);
      expect(messages).toBeGreaterThan(2);
      for (let at = 1; at <= messages; at++) await once(at);
    } finally {
      h.transport = saved;
    }
  }, 300_000);
});

describe('values the handset changed after the backup', () => {
  it('are flagged with their date and kept when asked, as a whole or one by one', async () => {
    const h = srv.handsets[2]!;
    const day = 86_400_000;
    h.tree.set(`${SETTINGS}/Display/Brightness`, '97', { format: 'int' });
    h.tree.set(`${SETTINGS}/Display/Theme`, 'light');
    h.tree.set(`${SETTINGS}/Sound/Ringtone`, 'Aurora');
    const old = await backup(h, Date.now() - 14 * day);
    // The user's newer choices, seen by last week's backup.
    h.tree.set(`${SETTINGS}/Display/Brightness`, '54', { format: 'int' });
    h.tree.set(`${SETTINGS}/Display/Theme`, 'dark');
    h.tree.set(`${SETTINGS}/Sound/Ringtone`, 'Breeze');
    const lastWeek = Date.now() - 7 * day;
    await backup(h, lastWeek);

    const flagged = (await createPlan(srv.ctx, { snapshotId: old, categories: ['settings'] }, 'test')).plan;
    const newer = flagged.steps.filter(isValueStep).filter((s) => s.newer);
    expect(newer.map((s) => s.path).sort()).toEqual(
      [`${SETTINGS}/Display/Brightness`, `${SETTINGS}/Display/Theme`, `${SETTINGS}/Sound/Ringtone`].sort(),
    );
    const theme = newer.find((s) => s.path.endsWith('/Theme'))!;
    expect(theme).toMatchObject({
      op: 'replace',
      newer: { at: lastWeek },
      was: { text: 'dark' },
      will: { text: 'light' },
    });
    expect(flagged.summary).toMatchObject({ change: 3, add: 0, keep: 0 });

    // Kept as a whole: nothing is written at all.
    const all = await run(h, { snapshotId: old, categories: ['settings'], keepNewer: true }, 'ticket 17');
    expect(all.plan.summary).toMatchObject({ change: 0, keep: 3 });
    expect(all.wire.values).toEqual([]);
    expect(h.tree.text(`${SETTINGS}/Display/Theme`)).toBe('dark');
    expect(h.tree.text(`${SETTINGS}/Display/Brightness`)).toBe('54');

    // One kept, the others restored.
    const one = await run(h, { snapshotId: old, categories: ['settings'], keep: [`${SETTINGS}/Display/Theme`] });
    expect([...one.wire.values].sort()).toEqual([`${SETTINGS}/Display/Brightness`, `${SETTINGS}/Sound/Ringtone`]);
    expect(h.tree.text(`${SETTINGS}/Display/Theme`)).toBe('dark');
    expect(h.tree.text(`${SETTINGS}/Display/Brightness`)).toBe('97');
    expect(h.tree.text(`${SETTINGS}/Sound/Ringtone`)).toBe('Aurora');

    // The reason is on the job, in the audit log and in the consent ledger.
    const job = (await getJob(srv.ctx.db, all.jobId))!;
    expect(job.kind === 'restore' && job.payload.reason).toBe('ticket 17');
    const started = (await listAudit(srv.ctx.db, { action: 'restore.started' })).find(
      (a) => (JSON.parse(a.details ?? '{}') as { jobId?: string }).jobId === all.jobId,
    );
    expect(JSON.parse(started!.details!)).toMatchObject({ reason: 'ticket 17' });
    const asked = await listConsents(srv.ctx.db, { jobId: one.jobId });
    expect(asked.map((c) => c.reason)).toEqual(['test']);
  }, 90_000);
});

describe('undo and migration', () => {
  it('undo puts the handset back to its safety backup, byte for byte, removing what the restore added', async () => {
    const h = srv.handsets[3]!;
    const roots = [SETTINGS, './AppData'];
    const snap = await backup(h);
    // The handset moves on: a setting changed, a ringtone gone, one the backup never had.
    h.tree.set(`${SETTINGS}/Display/Theme`, 'solarized');
    const lost = h.tree.children(RINGTONES)[0]!;
    h.tree.remove(`${RINGTONES}/${lost}`);
    h.tree.set(`${RINGTONES}/new-one.mp3`, new Uint8Array([9, 9, 9]), { format: 'bin' });
    const before = handsetValues(h, roots);
    const restored = await run(h, { snapshotId: snap, categories: ['settings', 'appdata'] });
    expect(h.tree.has(`${RINGTONES}/${lost}`)).toBe(true);

    const { row, plan } = await planUndo(srv.ctx, restored.jobId, 'test');
    expect(plan.undoOf).toBe(restored.jobId);
    expect(plan.summary).toMatchObject({ change: 1, remove: 1 });
    const { job } = await executePlan(srv.ctx, row.id, 'test', 'undo: the customer wanted the theme back');
    await settle(h);
    expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded');
    expect(handsetValues(h, roots)).toEqual(before);
    const safety = (await getJob(srv.ctx.db, (await getJob(srv.ctx.db, restored.jobId))!.dependsOn!))!;
    const safetyValues = await valuesOf((JSON.parse(safety.result!) as { snapshotId: string }).snapshotId, roots);
    expect(handsetValues(h, roots)).toEqual(safetyValues);
  }, 90_000);

  it("a migration to another maker's handset carries no system app of the source maker", async () => {
    const from = srv.handsets[0]!;
    const k7 = MODELS.find((m) => m.id === 'korra-k7')!;
    expect(k7.man).not.toBe(from.identity.man);
    const to = VirtualHandset.create(4711, k7.id, { serverUri: srv.dmUrl, encoding: 'xml', mediaScale: 0.02 });
    await provisionFleet(srv.ctx.db, [{ ...to.identity, nonces: { ...to.state.nonces } }], { inprocPush: true });
    to.listen(srv.ctx.push.inproc);
    await exec(
      srv.ctx.db,
      sql`update devices set subscriber_id = ${(await device(from)).subscriberId} where id = ${(await device(to)).id}`,
    );
    await to.connect({ initiator: 'client' });
    const snap = await backup(from);
    const own = (p: string) => p.startsWith('com.nimbus.');
    const fromApps = from.tree.children('./SCOMO/Inventory/Deployed');
    expect(fromApps.some(own)).toBe(true);
    const cats: Category[] = ['applications'];
    const { plan } = await run(to, { snapshotId: snap, categories: cats, targetDevId: to.devId });
    const system = plan.notCarried.filter((n) => own(n.path.split('/').at(-1)!));
    expect(system.length).toBe(fromApps.filter(own).length);
    for (const n of system) expect(n.reason).toMatch(/Nimbus Mobile system app: never installed on a Korra/);
    expect(plan.steps.filter((s) => s.kind === 'app').every((s) => s.kind === 'app' && !own(s.appId))).toBe(true);
    expect(to.tree.children('./SCOMO/Inventory/Deployed').filter(own)).toEqual([]);
    expect(plan.summary.notCarried).toBe(plan.notCarried.length);
  }, 90_000);
});
