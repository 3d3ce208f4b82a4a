/**
 * Backups that move only what changed: virtual handsets of models with and without the B&R
 * MO's digests over the real /dm endpoint, a real database and blob store. An incremental
 * backup's manifest must be byte-equal to a full walk's, whatever was edited on the handset.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VirtualHandset } from '../../sim/handset';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { findModel } from '@/db/queries/profiles';
import { getSnapshot, type SnapshotRow } from '@/db/queries/snapshots';
import { policies } from '@/db/schema';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { CATEGORIES } from '../omadm/mo/backup-restore';
import { subtreeDigest } from '../omadm/mo/br-digest';
import { createBackupJob } from './jobs';
import { decodeManifest } from './manifest';
import { backupRoots, profileFor } from './profiles';
import { manifestDigest } from './incremental';

let srv: TestFleet;

beforeAll(async () => {
  // The default fleet's models (digests; none) and those with node properties (VerNo; TStamp).
  srv = await startTestFleet({
    devices: 10,
    seed: 7,
    models: ['nimbus-n1', 'nimbus-n2', 'korra-k7', 'korra-k9', 'korra-k5'],
  });
  for (const m of ['nimbus-n1', 'nimbus-n2', 'korra-k7', 'korra-k9', 'korra-k5']) expect(handset(m), m).toBeDefined();
});

afterAll(async () => {
  await srv?.close();
});

const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(srv.ctx.db, h.devId))!;
const handset = (model: string) => srv.handsets.find((h) => h.identity.model === model)!;

async function setVerify(everyBackups: number, everyDays = 0): Promise<void> {
  await srv.ctx.db.update(policies).set({ verifyEveryBackups: everyBackups, verifyEveryDays: everyDays });
}

/** One backup of every category in a session the handset opens; the snapshot once the session has ended. */
async function backup(h: VirtualHandset): Promise<SnapshotRow & { sessionBytes: number; sessionMessages: number }> {
  const { job } = await createBackupJob(srv.ctx.db, await device(h), {
    trigger: 'on-demand',
    actor: 'test',
    categories: [...CATEGORIES],
  });
  const s = await h.connect({ initiator: 'client' });
  expect(s.ok, s.error?.message).toBe(true);
  const done = (await getJob(srv.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  const snap = (await getSnapshot(srv.ctx.db, (JSON.parse(done.result!) as { snapshotId: string }).snapshotId))!;
  return { ...snap, sessionBytes: s.bytesIn + s.bytesOut, sessionMessages: s.messagesOut };
}

async function manifestOf(s: SnapshotRow) {
  return decodeManifest((await srv.ctx.blobs.get(s.rootHash!))!).entries;
}

describe('the digest canonical form', () => {
  it('changes with a renamed interior node, a changed type or a new empty node, over a real manifest', async () => {
    const h = handset('nimbus-n1');
    await setVerify(0);
    const snap = await backup(h);
    const entries = await manifestOf(snap);
    const d = await device(h);
    const roots = backupRoots(await profileFor(srv.ctx.db, d.manufacturer, d.model), CATEGORIES);
    let checked = 0;
    for (const { path } of roots) {
      const under = entries.filter((e) => e.path === path || e.path.startsWith(`${path}/`));
      const sub = under.find((e) => e.path !== path && e.format === 'node')?.path;
      if (!sub) continue;
      const base = manifestDigest(path, under);
      const renamed = under.map((e) =>
        e.path === sub || e.path.startsWith(`${sub}/`) ? { ...e, path: `${sub}-x${e.path.slice(sub.length)}` } : e,
      );
      expect(manifestDigest(path, renamed)).not.toBe(base);
      const retyped = under.map((e) => (e.path === sub ? { ...e, type: 'text/x-other' } : e));
      expect(manifestDigest(path, retyped)).not.toBe(base);
      expect(manifestDigest(path, [...under, { path: `${sub}/Empty`, format: 'node' }])).not.toBe(base);
      // Order of the entries given does not matter: the canonical form sorts them.
      expect(manifestDigest(path, [...under].reverse())).toBe(base);
      checked++;
    }
    expect(checked).toBeGreaterThan(2);
    // The domain tag keeps a digest apart from any value's SHA-256 (an empty subtree is not sha256('')).
    expect(subtreeDigest([])).not.toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('backups that move only what changed', () => {
  it('an unchanged handset with digests: at most 2 round trips and 8 KB once the model is known, the same root hash', async () => {
    await setVerify(0);
    const withDigests = srv.handsets.filter((h) => ['nimbus-n1', 'nimbus-n2'].includes(h.identity.model));
    expect(new Set(withDigests.map((h) => h.identity.encoding))).toEqual(new Set(['xml', 'wbxml']));
    for (const h of withDigests) {
      const first = await backup(h);
      // The model learns it has digests here, if it had not yet: they are asked after the inventory.
      const learning = await backup(h);
      expect(learning.changeDetection).toBe('digest');
      expect(learning.rootHash).toBe(first.rootHash);
      expect(learning.sessionMessages).toBeLessThanOrEqual(3);
      const m = await findModel(srv.ctx.db, h.identity.man, h.identity.mod);
      expect(m?.changeDetection).toBe('digest');
      // Known: the digest request goes with the inventory's Gets, in both encodings.
      const again = await backup(h);
      expect(again.changeDetection).toBe('digest');
      expect(again.rootHash).toBe(first.rootHash);
      expect(again.sessionMessages).toBeLessThanOrEqual(2);
      expect(again.sessionBytes).toBeLessThanOrEqual(8 * 1024);
      // The snapshot keeps the session's figures, as the handset counted them.
      expect(again.airRoundTrips).toBe(again.sessionMessages);
      expect((again.airBytesUp ?? 0) + (again.airBytesDown ?? 0)).toBe(again.sessionBytes);
    }
  });

  it('a handset without one of the inventory nodes answers the inventory item by item: read all the same', async () => {
    const h = handset('nimbus-n2');
    await setVerify(0);
    const bearer = h.tree.text('./Ext/Network/Bearer')!;
    h.tree.remove('./Ext/Network/Operator');
    h.tree.set('./Ext/Network/Bearer', 'cellular'); // a fresh value: read in this session, not left from another
    try {
      const snap = await backup(h);
      expect(snap.changeDetection).not.toBeNull();
      const d = await device(h);
      expect(JSON.parse(d.networkState!)).toMatchObject({ bearer: 'cellular', operator: null });
      expect(d.firmware).toBe(h.tree.text('./DevDetail/FwV'));
    } finally {
      h.tree.set('./Ext/Network/Bearer', bearer);
    }
  });

  it('one changed 5 KB value: that value and at most 8 KB more; the manifest equals a full walk', async () => {
    const h = handset('nimbus-n1');
    await setVerify(0);
    const before = await backup(h);
    const leaf = (await manifestOf(before)).find((e) => e.hash && e.path.includes('Settings'))!;
    const value = new Uint8Array(5 * 1024).map((_, i) => (i * 31 + 7) & 255);
    h.tree.set(leaf.path, value, { format: 'bin' });
    const inc = await backup(h);
    expect(inc.changeDetection).toBe('digest');
    // b64 on XML handsets: 4/3 of the value.
    expect(inc.sessionBytes).toBeLessThanOrEqual(Math.ceil((value.length * 4) / 3) + 8 * 1024);
    expect(inc.rootHash).not.toBe(before.rootHash);
    await setVerify(1);
    const full = await backup(h);
    expect(full.changeDetection).toBe('verify');
    expect(full.rootHash).toBe(inc.rootHash);
    expect(full.digestDefect).toBeNull();
  });

  it('a model without digests is backed up fully, learned once and remembered', async () => {
    const h = handset('korra-k7');
    await setVerify(0);
    const first = await backup(h);
    const second = await backup(h); // asks once, hears 404, falls back in the same session
    expect(second.changeDetection).toBe('full');
    expect(second.rootHash).toBe(first.rootHash);
    expect((await findModel(srv.ctx.db, h.identity.man, h.identity.mod))?.changeDetection).toBe('none');
    const third = await backup(h);
    expect(third.changeDetection).toBe('full');
    expect(third.rootHash).toBe(first.rootHash);
    // Not asked again: the third session is no longer than a plain full backup's.
    expect(third.airRoundTrips).toBeLessThan(second.airRoundTrips!);
  });

  it('a verification walk catches a handset whose digests go stale: a defect on the snapshot and the model, the full result kept', async () => {
    const h = handset('nimbus-n2');
    await setVerify(0);
    await backup(h);
    h.state.digestFault = 'stale';
    try {
      await backup(h); // primes the defective cache
      const leaf = (await manifestOf(await backup(h))).find((e) => e.hash && e.path.includes('Settings'))!;
      h.tree.set(leaf.path, `changed ${Date.now()}`);
      const missed = await backup(h);
      expect(missed.changeDetection).toBe('digest');
      const stale = (await manifestOf(missed)).find((e) => e.path === leaf.path)!;
      expect(stale.hash).toBe(leaf.hash); // the defect: the change was not seen
      await setVerify(1);
      const verified = await backup(h);
      expect(verified.changeDetection).toBe('verify');
      expect(verified.digestDefect).toMatch(/digests claimed/);
      const kept = (await manifestOf(verified)).find((e) => e.path === leaf.path)!;
      expect(kept.hash).not.toBe(leaf.hash);
      const m = await findModel(srv.ctx.db, h.identity.man, h.identity.mod);
      expect(m?.digestDefects).toBeGreaterThan(0);
      expect(m?.lastDigestDefect).toMatch(/digests claimed/);
    } finally {
      delete h.state.digestFault;
    }
  });
});

describe('node properties: models without digests that keep VerNo or TStamp', () => {
  it('are learned per model, and back up only what changed: the manifest equals a full walk', async () => {
    await setVerify(0);
    for (const [model, how] of [
      ['korra-k9', 'verno'],
      ['korra-k5', 'tstamp'],
    ] as const) {
      const h = handset(model);
      const first = await backup(h);
      const learning = await backup(h); // no digests (404): both properties asked of the roots, one answers
      expect(learning.changeDetection).toBe('full');
      expect((await findModel(srv.ctx.db, h.identity.man, h.identity.mod))?.changeDetection).toBe(how);
      const unchanged = await backup(h);
      expect(unchanged.changeDetection).toBe(how);
      expect(unchanged.rootHash).toBe(first.rootHash);
      // The roots' properties go with the inventory: two round trips.
      expect(unchanged.sessionMessages).toBeLessThanOrEqual(2);
      const leaf = (await manifestOf(unchanged)).find((e) => e.hash && e.path.startsWith('./Settings/'))!;
      const value = new Uint8Array(5 * 1024).map((_, i) => (i * 7 + 3) & 255);
      h.tree.set(leaf.path, value, { format: 'bin' });
      const changed = await backup(h);
      expect(changed.changeDetection).toBe(how);
      // Only the changed value's path is opened: far less than the handset's content.
      expect(changed.sessionBytes).toBeLessThan(Math.ceil((value.length * 4) / 3) + 32 * 1024);
      await setVerify(1);
      const full = await backup(h);
      await setVerify(0);
      expect(full.changeDetection).toBe('verify');
      expect(full.digestDefect).toBeNull();
      expect(full.rootHash).toBe(changed.rootHash);
    }
  });

  it('a verification walk catches a value changed under an unchanged VerNo: a defect on the snapshot and the model', async () => {
    const h = handset('korra-k9');
    await setVerify(0);
    const before = await backup(h);
    expect(before.changeDetection).toBe('verno');
    const leaf = (await manifestOf(before)).find((e) => e.hash && e.path.startsWith('./Settings/'))!;
    // The defect: firmware that writes a value without counting the change.
    const node = h.tree.node(leaf.path);
    if (node?.kind !== 'leaf') throw new Error('not a leaf');
    node.value = new TextEncoder().encode(`silently ${Date.now()}`);
    const missed = await backup(h);
    expect((await manifestOf(missed)).find((e) => e.path === leaf.path)!.hash).toBe(leaf.hash);
    await setVerify(1);
    const verified = await backup(h);
    await setVerify(0);
    expect(verified.changeDetection).toBe('verify');
    expect(verified.digestDefect).toMatch(/VerNo said/);
    expect((await manifestOf(verified)).find((e) => e.path === leaf.path)!.hash).not.toBe(leaf.hash);
    expect((await findModel(srv.ctx.db, h.identity.man, h.identity.mod))?.lastDigestDefect).toMatch(/VerNo said/);
  });
});

describe('property: after random edits, an incremental backup equals a full one', () => {
  for (const [model, how] of [
    ['nimbus-n1', 'digest'],
    ['korra-k9', 'verno'],
    ['korra-k5', 'tstamp'],
  ] as const)
    it(`adds, deletes, replaces, binary values, Large Objects, renamed interior nodes (${how})`, async () => {
      await randomEdits(model, how);
    }, 300_000);
});

async function randomEdits(model: string, how: 'digest' | 'verno' | 'tstamp'): Promise<void> {
  const h = handset(model);
  const d = await device(h);
  const roots = backupRoots(await profileFor(srv.ctx.db, d.manufacturer, d.model), CATEGORIES)
    .map((r) => r.path)
    .filter((p) => h.tree.node(p)?.kind === 'interior');
  await setVerify(0);
  await backup(h);
  await backup(h); // the model's change detection is learned by now
  const edit = fc.record({
    kind: fc.constantFrom('add', 'delete', 'replace', 'binary', 'large', 'rename', 'mkdir', 'type'),
    pick: fc.nat(),
    name: fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/),
    bytes: fc.uint8Array({ minLength: 0, maxLength: 64 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 6 }), async (edits) => {
      for (const e of edits) {
        const nodes = roots.flatMap((r) => h.tree.walk(r)).filter((n) => !roots.includes(n.path));
        const interiors = [...roots, ...nodes.filter((n) => n.node.kind === 'interior').map((n) => n.path)];
        const leaves = nodes.filter((n) => n.node.kind === 'leaf').map((n) => n.path);
        const anyNode = nodes[e.pick % Math.max(1, nodes.length)]?.path;
        const dir = interiors[e.pick % interiors.length]!;
        const leaf = leaves[e.pick % Math.max(1, leaves.length)];
        switch (e.kind) {
          case 'add':
            if (!h.tree.node(`${dir}/${e.name}`)) h.tree.set(`${dir}/${e.name}`, `v${e.pick}`);
            break;
          case 'mkdir':
            if (!h.tree.node(`${dir}/${e.name}`)) h.tree.mkdir(`${dir}/${e.name}`);
            break;
          case 'delete':
            if (anyNode) h.tree.remove(anyNode);
            break;
          case 'replace':
            if (leaf) h.tree.set(leaf, `r${e.pick}`, { format: 'chr' });
            break;
          case 'binary':
            if (leaf) h.tree.set(leaf, e.bytes, { format: 'bin' });
            break;
          case 'large':
            // Past the model's message size: a Large Object both ways.
            if (leaf) h.tree.set(leaf, new Uint8Array(80 * 1024).fill(e.pick & 255), { format: 'bin' });
            break;
          case 'type':
            if (leaf) h.tree.set(leaf, h.tree.read(leaf)!, { type: `text/x-${e.name}` });
            break;
          case 'rename': {
            const sub = interiors.filter((p) => !roots.includes(p))[e.pick % Math.max(1, interiors.length - 1)];
            if (!sub) break;
            const to = `${sub.slice(0, sub.lastIndexOf('/'))}/${e.name}`;
            if (h.tree.node(to)) break;
            h.tree.graft(to, h.tree.cloneAt(sub)!);
            h.tree.remove(sub);
            break;
          }
        }
      }
      await setVerify(0);
      const inc = await backup(h);
      await setVerify(1);
      const full = await backup(h);
      expect(inc.changeDetection).toBe(how);
      expect(full.changeDetection).toBe('verify');
      expect(full.digestDefect).toBeNull();
      expect(inc.rootHash).toBe(full.rootHash);
      expect(await srv.ctx.blobs.get(inc.rootHash!)).toEqual(await srv.ctx.blobs.get(full.rootHash!));
    }),
    { numRuns: how === 'digest' ? 15 : 10 },
  );
}
