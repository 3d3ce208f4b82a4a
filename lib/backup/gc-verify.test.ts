import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { column, exec } from '@/db/sql';
import { testDb } from '@/test/support/db';
import { upsertDevice } from '@/db/queries/devices';
import { deleteSnapshots, insertSnapshot, recordBlob, stageEntry, updateSnapshot } from '@/db/queries/snapshots';
import { FileBlobStore, sha256Hex, type RawBlobStore } from './blob-store';
import { collectGarbage, GcAbortedError } from './gc';
import { encodeManifest, type ManifestEntry } from './manifest';
import { verifyAll, verifySnapshot } from './verify';

const HOUR = 3_600_000;
const enc = (s: string) => new TextEncoder().encode(s);
const h = (v: string) => sha256Hex(enc(v));

let dir: string;
let db: Db;
let store: FileBlobStore;
let deviceId: string;

async function addDevice(devId: string): Promise<string> {
  return (
    await upsertDevice(db, {
      devId,
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: 'u',
      clientDerived: 'x',
      serverAuth: 'md5',
      serverDerived: 'y',
    })
  ).id;
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-gc-'));
  db = await testDb();
  store = new FileBlobStore(path.join(dir, 'blobs'));
  deviceId = await addDevice('IMEI:356938035643809');
});

afterEach(async () => {
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Any BlobStore (not a FileBlobStore) with hooks, to interleave a backup with a collection. */
class HookedStore implements RawBlobStore {
  gets = 0;
  beforeGet?: (hash: string) => void | Promise<void>;
  afterDelete?: (hash: string) => void | Promise<void>;
  constructor(private readonly inner: FileBlobStore) {}
  put(bytes: Uint8Array) {
    return this.inner.put(bytes);
  }
  write(hash: string, bytes: Uint8Array) {
    return this.inner.write(hash, bytes);
  }
  async get(hash: string) {
    await this.beforeGet?.(hash);
    return this.inner.get(hash);
  }
  has(hash: string) {
    return this.inner.has(hash);
  }
  async delete(hash: string) {
    await this.inner.delete(hash);
    await this.afterDelete?.(hash);
  }
  list() {
    return this.inner.list();
  }
}

function file(hash: string): string {
  return path.join(store.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

async function putValue(value: string, record = true): Promise<string> {
  const bytes = enc(value);
  const { hash } = await store.put(bytes);
  if (record) await recordBlob(db, hash, bytes.length);
  return hash;
}

/** A complete snapshot: values and manifest in the store, rows in the database. */
async function snapshot(
  values: Record<string, string>,
  opts: { device?: string; extra?: ManifestEntry[] } = {},
): Promise<{ id: string; root: string; manifestSize: number }> {
  const entries: ManifestEntry[] = [
    { path: './Settings', category: 'settings', format: 'node', size: 0 },
    ...(opts.extra ?? []),
  ];
  for (const [p, v] of Object.entries(values)) {
    entries.push({
      path: p,
      category: 'settings',
      format: 'chr',
      type: 'text/plain',
      size: enc(v).length,
      hash: await putValue(v),
    });
  }
  const manifest = encodeManifest(entries);
  const { hash: root } = await store.put(manifest);
  await recordBlob(db, root, manifest.length);
  const row = await insertSnapshot(db, {
    deviceId: opts.device ?? deviceId,
    trigger: 'on-demand',
    categories: ['settings'],
  });
  await updateSnapshot(db, row.id, {
    status: 'complete',
    rootHash: root,
    entries: entries.length,
    completedAt: Date.now(),
  });
  return { id: row.id, root, manifestSize: manifest.length };
}

async function files(): Promise<string[]> {
  const out: string[] = [];
  for await (const x of store.list()) out.push(x);
  return out.sort();
}

function rows(): Promise<string[]> {
  return column<string>(db, sql`select hash from blobs order by hash`);
}

/** Collects as if an hour had passed, so the grace period covers nothing written by the test. */
const later = (dryRun = false) => collectGarbage(db, store, { dryRun, now: Date.now() + HOUR });

describe('collectGarbage', () => {
  it('keeps shared content until the last snapshot using it is deleted', async () => {
    const a = await snapshot({ './Settings/Name': 'shared', './Settings/A': 'only in a' });
    const b = await snapshot({ './Settings/Name': 'shared', './Settings/B': 'only in b' });
    expect(await later()).toEqual({ removed: 0, bytes: 0, hashes: [] });
    expect(await files()).toHaveLength(5);

    await deleteSnapshots(db, [a.id]);
    const first = await later();
    expect(first.hashes).toEqual([a.root, h('only in a')].sort());
    expect(first.removed).toBe(2);
    expect(first.bytes).toBe(a.manifestSize + enc('only in a').length);
    expect(await files()).toEqual([b.root, h('shared'), h('only in b')].sort());
    expect(await rows()).toEqual(await files());
    expect((await verifySnapshot(db, store, b.id)).ok).toBe(true);

    await deleteSnapshots(db, [b.id]);
    const second = await later();
    expect(second.hashes).toEqual([b.root, h('shared'), h('only in b')].sort());
    expect(await files()).toEqual([]);
    expect(await rows()).toEqual([]);
  });

  it('keeps a manifest two snapshots share (an unchanged handset) until both are gone', async () => {
    const a = await snapshot({ './Settings/Name': 'same' });
    const b = await snapshot({ './Settings/Name': 'same' });
    expect(b.root).toBe(a.root);
    await deleteSnapshots(db, [a.id]);
    expect((await later()).removed).toBe(0);
    await deleteSnapshots(db, [b.id]);
    expect((await later()).hashes).toEqual([a.root, h('same')].sort());
  });

  it('a dry run reports and deletes nothing', async () => {
    const a = await snapshot({ './Settings/A': 'a' });
    await deleteSnapshots(db, [a.id]);
    const before = await files();
    const dry = await later(true);
    expect(dry.hashes).toEqual([a.root, h('a')].sort());
    expect(await files()).toEqual(before);
    expect(await rows()).toEqual(before);
    expect(await later()).toEqual(dry);
  });

  it('staged entries of a backup in progress protect their blobs', async () => {
    const running = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const hash = await putValue('half-way');
    await stageEntry(db, {
      snapshotId: running.id,
      path: './Settings/X',
      category: 'settings',
      format: 'chr',
      type: null,
      size: 8,
      hash,
    });
    await stageEntry(db, {
      snapshotId: running.id,
      path: './Settings',
      category: 'settings',
      format: 'node',
      type: null,
      size: 0,
      hash: null,
    });
    const unrelated = await putValue('nobody uses this');

    expect((await later()).hashes).toEqual([unrelated]);
    expect(await store.has(hash)).toBe(true);

    await deleteSnapshots(db, [running.id]); // staging rows cascade
    expect((await later()).hashes).toEqual([hash]);
  });

  it('leaves content younger than the grace period', async () => {
    const fresh = await putValue('just written, not staged yet');
    expect((await collectGarbage(db, store, { dryRun: false })).removed).toBe(0);
    expect(
      (await collectGarbage(db, store, { dryRun: false, graceMs: HOUR, now: Date.now() + HOUR / 2 })).removed,
    ).toBe(0);
    expect(await store.has(fresh)).toBe(true);
    expect(
      (await collectGarbage(db, store, { dryRun: false, graceMs: HOUR, now: Date.now() + 2 * HOUR })).hashes,
    ).toEqual([fresh]);
  });

  it('removes old orphan files (no blobs row), never young or live ones', async () => {
    const old = await putValue('crashed before recording', false);
    const young = await putValue('being recorded', false);
    const anHourAgo = new Date(Date.now() - HOUR);
    fs.utimesSync(file(old), anHourAgo, anHourAgo);
    // Live content whose row went missing is still live.
    const live = await snapshot({ './Settings/Live': 'referenced' });
    await exec(db, sql`delete from blobs where hash = ${h('referenced')}`);
    fs.utimesSync(file(h('referenced')), anHourAgo, anHourAgo);

    const r = await collectGarbage(db, store, { dryRun: false });
    expect(r).toEqual({ removed: 1, bytes: enc('crashed before recording').length, hashes: [old] });
    expect(await store.has(old)).toBe(false);
    expect(await store.has(young)).toBe(true);
    expect((await verifySnapshot(db, store, live.id)).ok).toBe(true);
  });

  it('stops when a remaining snapshot has a missing or damaged manifest', async () => {
    const a = await snapshot({ './Settings/A': 'a' });
    const garbage = await putValue('garbage');
    fs.rmSync(file(a.root));
    await expect(later()).rejects.toBeInstanceOf(GcAbortedError);
    await expect(later()).rejects.toMatchObject({ snapshotIds: [a.id] });
    expect(await store.has(h('a'))).toBe(true);
    expect(await store.has(garbage)).toBe(true);

    fs.writeFileSync(file(a.root), '{"v":1,"entries":[]}');
    await expect(later()).rejects.toBeInstanceOf(GcAbortedError);
    expect(await store.has(h('a'))).toBe(true);
  });

  it('an empty snapshot whose (empty) manifest was never stored does not stop collection', async () => {
    const empty = await insertSnapshot(db, { deviceId, trigger: 'on-demand', categories: [] });
    await updateSnapshot(db, empty.id, {
      status: 'complete',
      rootHash: sha256Hex(encodeManifest([])),
      completedAt: Date.now(),
    });
    const garbage = await putValue('garbage');
    expect((await later()).hashes).toEqual([garbage]);
  });

  it('puts back content a backup stages again while the file is being taken (FileBlobStore)', async () => {
    const old = await snapshot({ './Settings/Flag': 'false' });
    await deleteSnapshots(db, [old.id]);
    const running = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const rename = fs.promises.rename;
    const spy = vi.spyOn(fs.promises, 'rename').mockImplementation(async (from, to) => {
      await rename(from, to);
      // The handset reports 'false' again: the engine's put found the file just before it moved.
      if (String(from).endsWith(h('false'))) {
        await recordBlob(db, h('false'), 5);
        await stageEntry(db, {
          snapshotId: running.id,
          path: './Settings/Flag',
          category: 'settings',
          format: 'chr',
          type: null,
          size: 5,
          hash: h('false'),
        });
      }
    });
    try {
      const r = await later();
      expect(r.hashes).toEqual([old.root]);
    } finally {
      spy.mockRestore();
    }
    expect(await store.get(h('false'))).toEqual(enc('false'));
    expect(await rows()).toContain(h('false'));
    expect(fs.readdirSync(store.dir).filter((n) => n.startsWith('.gc-'))).toEqual([]);
  });

  it('puts back content a backup stages again during the sweep (any BlobStore)', async () => {
    const old = await snapshot({ './Settings/Flag': 'false' });
    await deleteSnapshots(db, [old.id]);
    const running = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const hooked = new HookedStore(store);
    hooked.afterDelete = async (hash) => {
      if (hash !== h('false')) return;
      await recordBlob(db, hash, 5);
      await stageEntry(db, {
        snapshotId: running.id,
        path: './Settings/Flag',
        category: 'settings',
        format: 'chr',
        type: null,
        size: 5,
        hash,
      });
    };
    const r = await collectGarbage(db, hooked, { dryRun: false, now: Date.now() + HOUR });
    expect(r.hashes).toEqual([old.root]);
    expect(await store.get(h('false'))).toEqual(enc('false'));
  });

  it('marks again when a snapshot completes during the mark', async () => {
    const a = await snapshot({ './Settings/A': 'a' });
    const reused = await putValue('old content');
    // A second backup's manifest names `reused`; the snapshot completes while the GC reads a's manifest.
    const entries: ManifestEntry[] = [
      { path: './Settings/R', category: 'settings', format: 'chr', size: 11, hash: reused },
    ];
    const manifest = encodeManifest(entries);
    const { hash: root } = await store.put(manifest);
    await recordBlob(db, root, manifest.length);
    const b = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const hooked = new HookedStore(store);
    hooked.beforeGet = async (hash) => {
      if (hash === a.root && hooked.gets++ === 0)
        await updateSnapshot(db, b.id, { status: 'complete', rootHash: root, completedAt: Date.now() });
    };
    const r = await collectGarbage(db, hooked, { dryRun: false, now: Date.now() + HOUR });
    expect(r.removed).toBe(0);
    expect(await store.has(reused)).toBe(true);
    expect(hooked.gets).toBeGreaterThan(1);
  });

  it('recovers what a crashed collection left in its trash', async () => {
    const a = await snapshot({ './Settings/A': 'live' });
    const dead = await putValue('dead', false);
    fs.renameSync(file(h('live')), path.join(store.dir, `.gc-${h('live')}-0000`));
    fs.renameSync(file(dead), path.join(store.dir, `.gc-${dead}-0001`));
    expect((await verifySnapshot(db, store, a.id)).missing).toEqual(['./Settings/A']);
    await later();
    expect((await verifySnapshot(db, store, a.id)).ok).toBe(true);
    expect(fs.readdirSync(store.dir).filter((n) => n.startsWith('.gc-'))).toEqual([]);
  });

  it('removes temporary files of writes a killed process never finished, once past the grace period', async () => {
    const stale = path.join(store.dir, '.tmp-00112233aabbccdd');
    const fresh = path.join(store.dir, '.tmp-44556677eeff0011');
    fs.writeFileSync(stale, 'half a value');
    fs.writeFileSync(fresh, 'a write in flight');
    const old = new Date(Date.now() - 2 * HOUR);
    fs.utimesSync(stale, old, old);
    await collectGarbage(db, store, { dryRun: false });
    expect(fs.existsSync(stale)).toBe(false);
    expect(fs.existsSync(fresh)).toBe(true);
  });

  it('refuses assumeDeleted outside a dry run', async () => {
    await expect(collectGarbage(db, store, { dryRun: false, assumeDeleted: ['x'] })).rejects.toThrow(/dry run/);
  });

  it('a dry run with assumeDeleted reports what deleting those snapshots would free', async () => {
    const a = await snapshot({ './Settings/Name': 'shared', './Settings/A': 'only in a' });
    await snapshot({ './Settings/Name': 'shared' });
    const dry = await collectGarbage(db, store, { dryRun: true, now: Date.now() + HOUR, assumeDeleted: [a.id] });
    expect(dry.hashes).toEqual([a.root, h('only in a')].sort());
    await deleteSnapshots(db, [a.id]);
    expect(await later()).toEqual(dry);
  });
});

describe('verifySnapshot', () => {
  it('passes a healthy snapshot and counts the values it checked', async () => {
    const a = await snapshot({ './Settings/A': 'alpha', './Settings/B': 'beta', './Settings/Empty': '' });
    expect(await verifySnapshot(db, store, a.id)).toEqual({
      ok: true,
      checked: 3,
      missing: [],
      damaged: [],
      manifest: 'ok',
    });
  });

  it('detects a corrupted value and a missing one', async () => {
    const a = await snapshot({ './Settings/A': 'alpha', './Settings/B': 'beta', './Settings/C': 'gamma' });
    fs.writeFileSync(file(h('alpha')), 'alpha!'); // overwritten bytes
    fs.rmSync(file(h('gamma')));
    expect(await verifySnapshot(db, store, a.id)).toEqual({
      ok: false,
      checked: 3,
      missing: ['./Settings/C'],
      damaged: ['./Settings/A'],
      manifest: 'ok',
    });
  });

  it('detects same-length corruption (a flipped byte)', async () => {
    const a = await snapshot({ './Settings/A': 'alpha' });
    fs.writeFileSync(file(h('alpha')), 'alphA');
    expect((await verifySnapshot(db, store, a.id)).damaged).toEqual(['./Settings/A']);
  });

  it('flags an entry whose size does not match its value', async () => {
    const hash = await putValue('twelve bytes');
    const a = await snapshot(
      {},
      { extra: [{ path: './Settings/Wrong', category: 'settings', format: 'chr', size: 99, hash }] },
    );
    expect(await verifySnapshot(db, store, a.id)).toMatchObject({ ok: false, damaged: ['./Settings/Wrong'] });
  });

  it('reports a damaged or missing manifest', async () => {
    const a = await snapshot({ './Settings/A': 'alpha' });
    fs.writeFileSync(file(a.root), '{"v":1,"entries":[]}');
    expect(await verifySnapshot(db, store, a.id)).toEqual({
      ok: false,
      checked: 0,
      missing: [],
      damaged: [],
      manifest: 'damaged',
    });
    fs.rmSync(file(a.root));
    expect(await verifySnapshot(db, store, a.id)).toMatchObject({ ok: false, manifest: 'missing' });
  });

  it('reports an incomplete snapshot as having no manifest, and throws for an unknown id', async () => {
    const s = await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    expect(await verifySnapshot(db, store, s.id)).toMatchObject({ ok: false, manifest: 'missing' });
    await expect(verifySnapshot(db, store, 'nope')).rejects.toThrow(/no such snapshot/);
  });
});

describe('verifyAll', () => {
  it('verifies the complete snapshots of one device or of all', async () => {
    const other = await addDevice('IMEI:490154203237518');
    const a = await snapshot({ './Settings/Name': 'shared', './Settings/A': 'a' });
    const b = await snapshot({ './Settings/Name': 'shared', './Settings/B': 'b' });
    const c = await snapshot({ './Settings/C': 'c' }, { device: other });
    await insertSnapshot(db, { deviceId, trigger: 'scheduled', categories: ['settings'] }); // incomplete: not verified

    const healthy = await verifyAll(db, store);
    expect(healthy).toMatchObject({ ok: true, snapshots: 3, failed: 0 });

    fs.writeFileSync(file(h('shared')), 'tampered');
    const all = await verifyAll(db, store);
    expect(all).toMatchObject({ ok: false, snapshots: 3, failed: 2 });
    const byId = Object.fromEntries(all.results.map((r) => [r.snapshotId, r]));
    expect(byId[a.id]).toMatchObject({ ok: false, deviceId, damaged: ['./Settings/Name'] });
    expect(byId[b.id]).toMatchObject({ ok: false, deviceId, damaged: ['./Settings/Name'] });
    expect(byId[c.id]).toMatchObject({ ok: true, deviceId: other, checked: 1 });

    const mine = await verifyAll(db, store, { deviceId: other });
    expect(mine).toMatchObject({ ok: true, snapshots: 1, failed: 0 });
  });
});
