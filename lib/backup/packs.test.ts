import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { column, exec } from '@/db/sql';
import { testDb } from '@/test/support/db';
import { upsertDevice } from '@/db/queries/devices';
import { packStats, packUsage } from '@/db/queries/packs';
import { deleteSnapshots, insertSnapshot, recordBlob, stageEntry, updateSnapshot } from '@/db/queries/snapshots';
import { FileBlobStore, sha256Hex } from './blob-store';
import { collectGarbage } from './gc';
import { Keyring, newKey } from './keyring';
import { encodeManifest, type ManifestEntry } from './manifest';
import { PACK_HEADER, PackStore } from './packs';
import { SealedBlobStore } from './sealed-store';
import { verifySnapshot } from './verify';
import { migrateToPacks } from './migrate-packs';

const HOUR = 3_600_000;
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

let dir: string;
let db: Db;
let files: FileBlobStore;
let store: SealedBlobStore;
let master: Uint8Array;
let deviceId: string;

function packStore(): SealedBlobStore {
  return new SealedBlobStore(files, db, new Keyring(db, master), PackStore.beside(files));
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-packs-'));
  db = await testDb();
  files = new FileBlobStore(path.join(dir, 'blobs'));
  master = newKey();
  store = packStore();
  deviceId = (
    await upsertDevice(db, {
      devId: 'IMEI:356938035643809',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientDerived: 'x',
      serverAuth: 'md5',
      serverDerived: 'y',
    })
  ).id;
});

afterEach(async () => {
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

function packFiles(): string[] {
  const root = path.join(dir, 'packs');
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/** A complete snapshot of `owner`'s values, stored and recorded as a backup does. */
async function snapshot(values: Record<string, string>, owner = 'sub-1'): Promise<{ id: string; root: string }> {
  const entries: ManifestEntry[] = [];
  const stored = await store.putMany(Object.values(values).map(enc), owner);
  Object.keys(values).forEach((p, i) =>
    entries.push({ path: p, category: 'settings', format: 'chr', size: enc(values[p]!).length, hash: stored[i]!.hash }),
  );
  for (const v of Object.values(values)) await recordBlob(db, sha256Hex(enc(v)), enc(v).length);
  const manifest = encodeManifest(entries);
  const { hash: root } = await store.put(manifest, owner);
  await recordBlob(db, root, manifest.length);
  const row = await insertSnapshot(db, { deviceId, trigger: 'on-demand', categories: ['settings'] });
  await updateSnapshot(db, row.id, {
    status: 'complete',
    rootHash: root,
    entries: entries.length,
    completedAt: Date.now(),
  });
  return { id: row.id, root };
}

describe('packs', () => {
  it("a message's values go into one pack file, sealed, and read back through the index; no loose files", async () => {
    const out = await store.putMany([enc('alpha'), enc('beta'), enc('alpha')], 'sub-1');
    expect(out.map((o) => o.created)).toEqual([true, true, false]);
    expect(packFiles()).toHaveLength(1);
    const bytes = fs.readFileSync(packFiles()[0]!);
    expect([...bytes.subarray(0, PACK_HEADER.length)]).toEqual([...PACK_HEADER]);
    expect(bytes.includes(Buffer.from('alpha'))).toBe(false); // sealed
    const other = packStore(); // another process: nothing remembered
    expect(dec(await other.get(sha256Hex(enc('alpha'))))).toBe('alpha');
    expect(dec(await other.get(sha256Hex(enc('beta'))))).toBe('beta');
    expect(await other.has(sha256Hex(enc('beta')))).toBe(true);
    const listed: string[] = [];
    for await (const h of files.list()) listed.push(h);
    expect(listed).toEqual([]);
    // Stored again: deduplicated for this owner, not appended.
    expect((await other.putMany([enc('beta')], 'sub-1'))[0]!.created).toBe(false);
    expect((await packStats(db)).values).toBe(2);
    // Another owner keeps a copy of their own (their erasure must not take it from sub-1).
    expect((await other.putMany([enc('beta')], 'sub-2'))[0]!.created).toBe(true);
    expect((await packStats(db)).values).toBe(3);
  });

  it('runs the caller’s commit in the transaction that indexes the values: a failing commit indexes nothing', async () => {
    await expect(
      store.putAndCommit!([enc('gamma')], 'sub-1', async () => {
        throw new Error('the commit failed');
      }),
    ).rejects.toThrow('the commit failed');
    expect(await store.get(sha256Hex(enc('gamma')))).toBeUndefined();
    let staged = 0;
    await store.putAndCommit!([enc('gamma')], 'sub-1', async (tx, stored) => {
      expect(stored).toEqual([{ hash: sha256Hex(enc('gamma')), created: true }]);
      staged = await exec(tx, sql`update packs set size = size`);
    });
    expect(staged).toBe(1);
    expect(dec(await store.get(sha256Hex(enc('gamma'))))).toBe('gamma');
  });

  it('stores now and indexes at the commit, with the caller’s writes; the owner’s next store waits; an abandoned one indexes nothing', async () => {
    const pending = await store.putNowCommitLater!([enc('zeta')], 'sub-1');
    // Durable, not yet indexed: unreadable, and the owner's next store waits for the commit.
    expect(await store.get(sha256Hex(enc('zeta')))).toBeUndefined();
    let next = false;
    const after = store.putMany([enc('eta')], 'sub-1').then((r) => ((next = true), r));
    await new Promise((r) => setTimeout(r, 20));
    expect(next).toBe(false);
    let written = 0;
    const out = await pending.commit(async (tx, stored) => {
      expect(stored).toEqual([{ hash: sha256Hex(enc('zeta')), created: true }]);
      written = await exec(tx, sql`update packs set size = size`);
    });
    expect(out).toEqual([{ hash: sha256Hex(enc('zeta')), created: true }]);
    expect(written).toBe(1);
    expect(dec(await store.get(sha256Hex(enc('zeta'))))).toBe('zeta');
    expect((await after)[0]!.created).toBe(true);
    // Abandoned (the message failed): nothing indexed, and the owner's stores go on.
    const dropped = await store.putNowCommitLater!([enc('theta')], 'sub-1');
    dropped.abandon();
    expect(await store.get(sha256Hex(enc('theta')))).toBeUndefined();
    expect((await store.putMany([enc('theta')], 'sub-1'))[0]!.created).toBe(true);
    expect(dec(await store.get(sha256Hex(enc('theta'))))).toBe('theta');
  });

  it('a value garbage collection swept after the store found it packed is appended again before the commit', async () => {
    await store.putMany([enc('delta')], 'sub-1');
    const hash = sha256Hex(enc('delta'));
    // The sweep commits between the store's lookup (delta: packed) and its transaction.
    class Racing extends Keyring {
      override async dataKey(owner: string, on?: Db): Promise<Uint8Array> {
        await exec(db, sql`delete from pack_values where hash = ${hash}`);
        return super.dataKey(owner, on);
      }
    }
    const racing = new SealedBlobStore(files, db, new Racing(db, master), PackStore.beside(files));
    const out = await racing.putAndCommit!([enc('delta'), enc('epsilon')], 'sub-1', async () => undefined);
    expect(out.map((o) => o.created)).toEqual([true, true]);
    expect(dec(await racing.get(hash))).toBe('delta');
  });

  it('garbage collection sweeps packed values no snapshot needs, repacks, and deletes emptied packs', async () => {
    const big = (s: string) => s.repeat(2000);
    const a = await snapshot({ './A/1': big('a1'), './A/2': big('a2'), './A/3': big('a3') });
    const b = await snapshot({ './B/1': big('b1') });
    expect(await collectGarbage(db, store, { dryRun: false, now: Date.now() + HOUR })).toMatchObject({ removed: 0 });
    const before = await packUsage(db);
    await deleteSnapshots(db, [a.id]);
    const r = await collectGarbage(db, store, { dryRun: false, now: Date.now() + HOUR });
    expect(r.removed).toBe(4); // three values and a manifest
    expect(r.packs!.freed).toBeGreaterThan(0);
    const after = await packUsage(db);
    expect(after.reduce((n, u) => n + u.size, 0)).toBeLessThan(before.reduce((n, u) => n + u.size, 0));
    expect(after.every((u) => u.live > 0)).toBe(true);
    expect(packFiles()).toHaveLength(after.length);
    expect((await verifySnapshot(db, packStore(), b.id)).ok).toBe(true);
    await deleteSnapshots(db, [b.id]);
    await collectGarbage(db, store, { dryRun: false, now: Date.now() + HOUR });
    expect(packFiles()).toEqual([]);
    expect(await packStats(db)).toEqual({ packs: 0, values: 0, bytes: 0 });
  });

  it('a staged value of a backup in flight keeps its pack entry through a collection', async () => {
    const a = await snapshot({ './A/1': 'kept' });
    const hash = sha256Hex(enc('kept'));
    const row = await insertSnapshot(db, { deviceId, trigger: 'on-demand', categories: ['settings'] });
    await stageEntry(db, {
      snapshotId: row.id,
      path: './A/1',
      category: 'settings',
      format: 'chr',
      type: null,
      size: 4,
      hash,
    });
    await deleteSnapshots(db, [a.id]);
    await collectGarbage(db, store, { dryRun: false, now: Date.now() + HOUR });
    expect(dec(await store.get(hash))).toBe('kept');
  });

  it("erasing an owner forgets their packed values and their packs go with a collection a minute on; another owner's copy stays", async () => {
    await store.putMany([enc('shared'), enc('mine')], 'sub-1');
    await store.putMany([enc('shared')], 'sub-2');
    await store.destroyOwners(['sub-1']);
    expect(await store.get(sha256Hex(enc('mine')))).toBeUndefined();
    expect(dec(await store.get(sha256Hex(enc('shared'))))).toBe('shared');
    // Not within a minute: a process may still be appending to the pack.
    await collectGarbage(db, store, { dryRun: false });
    expect(await column(db, sql`select owner from packs order by owner`)).toEqual(['sub-1', 'sub-2']);
    // After it (the collection's grace period still covers sub-2's young values and pack).
    await collectGarbage(db, store, { dryRun: false, now: Date.now() + 2 * 60_000 });
    expect(await column(db, sql`select owner from packs`)).toEqual(['sub-2']);
    expect(packFiles()).toHaveLength(1);
  });

  it('a pack file whose first append was never indexed (a killed process) is deleted once settled', async () => {
    const owner = 'sub-1';
    await store.packs!.append(owner, [enc('orphaned bytes')]);
    expect(packFiles()).toHaveLength(1);
    await collectGarbage(db, store, { dryRun: false });
    expect(packFiles()).toHaveLength(1); // young: maybe a commit in flight
    await collectGarbage(db, store, { dryRun: false, now: Date.now() + HOUR });
    expect(packFiles()).toEqual([]);
  });

  it('rewind migrate packs moves loose values into their owners’ packs, verified, and a second run finds nothing left', async () => {
    const loose = new SealedBlobStore(files, db, new Keyring(db, master)); // a store from before packs
    await loose.putMany([enc('one'), enc('two')], 'sub-1');
    await loose.putMany([enc('two')], 'sub-2');
    await files.write(sha256Hex(enc('plain, from before encryption')), enc('plain, from before encryption'));
    await loose.putMany([enc('erased')], 'sub-3');
    await loose.destroyOwners(['sub-3']);
    const r = await migrateToPacks(store);
    expect(r).toMatchObject({ listed: 4, moved: 3, packed: 4, present: 0, unreadable: 1, failed: [] });
    for (const v of ['one', 'two', 'plain, from before encryption'])
      expect(dec(await packStore().get(sha256Hex(enc(v))))).toBe(v);
    expect(dec(await store.getPackedOf('sub-2', sha256Hex(enc('two'))))).toBe('two');
    expect(dec(await store.getPackedOf('operator', sha256Hex(enc('plain, from before encryption'))))).toBe(
      'plain, from before encryption',
    );
    const left: string[] = [];
    for await (const h of files.list()) left.push(h);
    expect(left).toEqual([sha256Hex(enc('erased'))]);
    expect(await migrateToPacks(store)).toMatchObject({ listed: 1, moved: 0, unreadable: 1 });
  });

  it('more owners writing at once than open files kept: no write loses its file to another', async () => {
    const packs = PackStore.beside(files)!;
    const owners = Array.from({ length: 90 }, (_, i) => `owner-${i}`);
    // Each owner appends several times, interleaved with the others, so handles are opened
    // while others are mid-write.
    const results = await Promise.allSettled(
      owners.flatMap((o) =>
        [0, 1, 2].map((n) => packs.exclusive(o, () => packs.append(o, [enc(`${o}:${n}:`.repeat(200))]))),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    for (const r of results) {
      const { pack, offsets } = (r as PromiseFulfilledResult<Awaited<ReturnType<PackStore['append']>>>).value;
      const text = dec(await packs.read(pack.id, offsets[0]!, 10));
      expect(text?.startsWith(pack.owner)).toBe(true);
    }
  });
});
