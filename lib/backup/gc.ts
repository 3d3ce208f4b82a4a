/**
 * Garbage collection of the blob store: mark and sweep.
 *
 * Live content is the manifest of every remaining snapshot, every value those manifests
 * name, and every value a backup in progress has staged. Swept: blobs rows (and their
 * files) that are not live and were recorded more than `graceMs` ago, and files with no
 * row at all (left by a crash between write and record) whose file is older than
 * `graceMs`, when the store is a FileBlobStore (other stores cannot say how old a blob is).
 *
 * A backup records and stages a message's values (one transaction) before it stores them, so
 * what it is about to store is live before the store is asked; a crash in between leaves
 * rows without files, swept like any other garbage row. Content found already stored is
 * covered by the sweep itself: each batch is checked against the staging rows,
 * blobs rows and snapshot roots as they are now, taken out of the store, checked again, and
 * only then destroyed (or put back). A snapshot completed since the mark with a manifest
 * the mark did not read restarts the mark.
 *
 * Packed values (packs.ts) are swept the same way, by forgetting their index rows in the
 * transaction that deletes the blobs rows; on PostgreSQL that transaction holds the
 * values' locks, which a backup's commit also takes before it checks that what it found
 * packed is still there (sealed-store.ts). Then packs are repacked: a settled pack (no
 * process appends to it any more) with little left live, or several small ones of one
 * owner, are rewritten into the owner's open pack, the index moved in one transaction, and
 * the old packs deleted after; packs with nothing live are deleted. A reader that finds a
 * pack gone looks the value up again.
 *
 * A manifest that cannot be read, or does not hash to its snapshot's root hash, stops the
 * collection (GcAbortedError): the values it names are unknown, and sweeping would destroy
 * whatever of that snapshot is left.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isPg, type Db } from '@/db/client';
import { lockHashes } from '@/db/queries/content-keys';
import {
  deletePackedHashes,
  dropEmptyPack,
  movePacked,
  notePack,
  packedAges,
  packIds,
  packUsage,
  valuesIn,
  type PackUsage,
} from '@/db/queries/packs';
import {
  allBlobRows,
  blobRowsFor,
  deleteBlobRows,
  packageHashes,
  snapshotRoots,
  stagedHashes,
} from '@/db/queries/retention';
import { BlobStoreError, FileBlobStore, isHash, sha256Hex, type BlobStore, type RawBlobStore } from './blob-store';
import { SealedBlobStore } from './sealed-store';
import { PACK_ROTATE_MS, PACK_SETTLED_MS, PACK_TARGET, type PackStore } from './packs';
import { decodeManifest, encodeManifest, rootHash } from './manifest';
import { dsItemHashes, dsSnapshotRoots } from '@/db/queries/ds';
import { decodeDsManifest } from '../ds/snapshot';

export const DEFAULT_GC_GRACE_MS = 10 * 60 * 1000;

const EMPTY_ROOT = rootHash(encodeManifest([]));

export interface GcOptions {
  /** Report what would be swept, delete nothing. */
  dryRun: boolean;
  /** Content younger than this is never swept; default 10 minutes. */
  graceMs?: number;
  /** The clock (ms); default Date.now(). */
  now?: number;
  /**
   * Dry run only: treat these snapshots as already deleted, so a retention dry run can
   * report what its real run would sweep.
   */
  assumeDeleted?: readonly string[];
}

export interface GcResult {
  /** Blobs swept (rows and orphan files). */
  removed: number;
  bytes: number;
  /** Sorted. */
  hashes: string[];
  /** Packs rewritten and deleted, and the pack bytes that freed (real runs on a store with packs). */
  packs?: PackGc;
}

export interface PackGc {
  rewritten: number;
  deleted: number;
  freed: number;
}

/** A settled pack is rewritten once less than this share of it is live. */
const REPACK_BELOW = 0.5;
/** Settled packs of one owner smaller than this are merged (an object store writes one per DM message). */
const SMALL_PACK = PACK_TARGET / 4;

export class GcAbortedError extends Error {
  constructor(
    message: string,
    readonly snapshotIds: string[],
  ) {
    super(message);
    this.name = 'GcAbortedError';
  }
}

interface Mark {
  live: Set<string>;
  roots: Set<string>;
}

/** Adds the manifest's value hashes to `live`; false when the manifest is missing, damaged or undecodable. */
async function markManifest(
  store: BlobStore,
  root: string,
  live: Set<string>,
  hashesOf: (bytes: Uint8Array) => Iterable<string | undefined>,
): Promise<boolean> {
  const bytes = await store.get(root).catch((err: unknown) => {
    if (err instanceof BlobStoreError && err.code === 'damaged') return undefined;
    throw err;
  });
  // The empty manifest names nothing, stored or not (an empty snapshot need not store it).
  if (!bytes && root === EMPTY_ROOT) return true;
  if (!bytes || sha256Hex(bytes) !== root) return false;
  try {
    for (const h of hashesOf(bytes)) if (h) live.add(h);
  } catch {
    return false;
  }
  return true;
}

const dmHashes = (bytes: Uint8Array) => decodeManifest(bytes).entries.map((e) => e.hash);
const dsHashes = (bytes: Uint8Array) => decodeDsManifest(bytes).map((e) => e.hash);

async function mark(db: Db, store: BlobStore, excluded: ReadonlySet<string>): Promise<Mark> {
  const live = new Set<string>();
  const roots = new Set<string>();
  // Staging first: a backup that completes after this read shows up in the roots read next.
  for (const { snapshotId, hash } of await stagedHashes(db)) if (!excluded.has(snapshotId)) live.add(hash);
  // Firmware and app packages in the catalogs live in the same store, and so do the DS copies of contacts and events.
  for (const hash of await packageHashes(db)) live.add(hash);
  for (const hash of await dsItemHashes(db)) live.add(hash);
  const readable = new Map<string, boolean>();
  const unreadable: string[] = [];
  // DM snapshots (their roots also tell the sweep when a backup completed since the mark), then DS snapshots.
  const all = [
    ...(await snapshotRoots(db)).filter((r) => !excluded.has(r.id)).map((r) => ({ ...r, dm: true })),
    ...(await dsSnapshotRoots(db)).map((r) => ({ ...r, dm: false })),
  ];
  for (const { id, rootHash, dm } of all) {
    if (dm) roots.add(rootHash);
    live.add(rootHash);
    let ok = readable.get(rootHash);
    if (ok === undefined) {
      ok = await markManifest(store, rootHash, live, dm ? dmHashes : dsHashes);
      readable.set(rootHash, ok);
    }
    if (!ok) unreadable.push(id);
  }
  if (unreadable.length) {
    throw new GcAbortedError(
      `garbage collection stopped: the manifest of ${unreadable.length} snapshot(s) is missing or damaged (${unreadable.slice(0, 5).join(', ')}); verify them and delete or repair them first`,
      unreadable,
    );
  }
  return { live, roots };
}

function blobFile(store: FileBlobStore, hash: string): string {
  return path.join(store.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
}

interface Candidate {
  hash: string;
  size: number;
  orphan: boolean;
}

async function candidates(
  db: Db,
  store: RawBlobStore,
  live: ReadonlySet<string>,
  cutoff: number,
  packed: boolean,
): Promise<Candidate[]> {
  const rows = await allBlobRows(db);
  const out: Candidate[] = [];
  const known = new Set<string>();
  for (const r of rows) {
    known.add(r.hash);
    if (!live.has(r.hash) && r.createdAt < cutoff) out.push({ hash: r.hash, size: r.size, orphan: false });
  }
  if (packed) {
    // Packed content stored without a blobs row: swept by its index rows' age.
    for (const p of await packedAges(db)) {
      if (known.has(p.hash) || live.has(p.hash) || p.createdAt >= cutoff) continue;
      known.add(p.hash);
      out.push({ hash: p.hash, size: p.length, orphan: true });
    }
  }
  if (store instanceof FileBlobStore) {
    for await (const hash of store.list()) {
      if (known.has(hash) || live.has(hash)) continue;
      const st = await fs.promises.stat(blobFile(store, hash)).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) out.push({ hash, size: st.size, orphan: true });
    }
  }
  return out;
}

function result(swept: readonly Candidate[]): GcResult {
  return {
    removed: swept.length,
    bytes: swept.reduce((n, c) => n + c.size, 0),
    hashes: swept.map((c) => c.hash).sort(),
  };
}

/**
 * Of `batch`, what is still garbage now (database reads only: call with a transaction), or
 * undefined when a snapshot has completed with a manifest the mark did not read.
 */
async function stillGarbage(
  db: Db,
  batch: readonly Candidate[],
  roots: ReadonlySet<string>,
  cutoff: number,
): Promise<Candidate[] | undefined> {
  for (const r of await snapshotRoots(db)) if (!roots.has(r.rootHash)) return undefined;
  const staged = new Set((await stagedHashes(db)).map((s) => s.hash));
  const rowsNow = new Map(
    (
      await blobRowsFor(
        db,
        batch.map((c) => c.hash),
      )
    ).map((r) => [r.hash, r]),
  );
  return batch.filter((c) => {
    if (staged.has(c.hash)) return false;
    const row = rowsNow.get(c.hash);
    // An orphan recorded since, or a row recreated since, is someone's fresh content.
    return c.orphan ? !row : !!row && row.createdAt < cutoff;
  });
}

/**
 * A blob taken out of the store but not yet destroyed: a backup that finds the same
 * content between the take and the final check gets it back.
 */
interface Held {
  c: Candidate;
  /** FileBlobStore: where the file was moved. */
  trash?: string;
  /** Other stores: the bytes, to put back. */
  bytes?: Uint8Array;
}

const TRASH = '.gc-';
/** FileBlobStore's temporary files. */
const TMP = '.tmp-';

async function take(store: RawBlobStore, c: Candidate): Promise<Held> {
  if (store instanceof FileBlobStore) {
    const trash = path.join(store.dir, `${TRASH}${c.hash}-${randomBytes(4).toString('hex')}`);
    try {
      await fs.promises.rename(blobFile(store, c.hash), trash);
      return { c, trash };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { c }; // a row without a file
      throw err;
    }
  }
  const bytes = await store.get(c.hash);
  if (bytes) await store.delete(c.hash);
  return bytes ? { c, bytes } : { c };
}

async function giveBack(store: RawBlobStore, h: Held): Promise<void> {
  if (h.trash && store instanceof FileBlobStore) {
    const file = blobFile(store, h.c.hash);
    // A backup may have written the same content again meanwhile: then ours is surplus.
    if (fs.existsSync(file)) await fs.promises.rm(h.trash, { force: true });
    else {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await fs.promises.rename(h.trash, file);
    }
  } else if (h.bytes) {
    await store.write(h.c.hash, h.bytes);
  }
}

async function destroy(h: Held): Promise<void> {
  if (h.trash) await fs.promises.rm(h.trash, { force: true });
}

/**
 * Files a collection that crashed mid-batch left in the trash (moved there longer ago than
 * the grace period, so not another collection's batch in flight): live ones go back, the
 * rest go; and temporary files of writes that never finished.
 */
async function recoverTrash(store: FileBlobStore, live: ReadonlySet<string>, cutoff: number): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(store.dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TMP)) {
      // A write cut off between its temporary file and the rename (a killed process): never
      // a value, and older than the grace period, so no write in flight.
      const st = await fs.promises.stat(path.join(store.dir, name)).catch(() => undefined);
      if (st && st.mtimeMs < cutoff) await fs.promises.rm(path.join(store.dir, name), { force: true });
      continue;
    }
    if (!name.startsWith(TRASH)) continue;
    const hash = name.slice(TRASH.length, TRASH.length + 64);
    const trash = path.join(store.dir, name);
    const st = await fs.promises.stat(trash).catch(() => undefined);
    if (!st || st.ctimeMs >= cutoff) continue; // rename sets ctime: when it went to the trash
    if (isHash(hash) && live.has(hash)) await giveBack(store, { c: { hash, size: 0, orphan: false }, trash });
    else await fs.promises.rm(trash, { force: true });
  }
}

const MAX_ROUNDS = 5;
const BATCH = 256;

/**
 * Marks and sweeps. A real run sweeps in batches: still garbage? → take the files out of
 * the store → still garbage? → delete the rows and destroy the files, or put back what a
 * backup has meanwhile staged or recorded again. A backup that stages existing content
 * (record and stage → put) therefore never ends up with a hash whose file is then deleted
 * under it, even when the content was garbage a moment before.
 */
export async function collectGarbage(db: Db, store: BlobStore, opts: GcOptions): Promise<GcResult> {
  const graceMs = opts.graceMs ?? DEFAULT_GC_GRACE_MS;
  const excluded = new Set(opts.assumeDeleted ?? []);
  if (excluded.size && !opts.dryRun) throw new TypeError('assumeDeleted is only for a dry run');

  // Manifests are read through `store` (sealed ones open); files are moved in the store beneath.
  const raw: RawBlobStore = store instanceof SealedBlobStore ? store.raw : (store as RawBlobStore);
  const packs = store instanceof SealedBlobStore ? store.packs : undefined;
  const swept: Candidate[] = [];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const cutoff = (opts.now ?? Date.now()) - graceMs;
    const { live, roots } = await mark(db, store, excluded);
    const found = await candidates(db, raw, live, cutoff, !!packs);
    if (opts.dryRun) return result(found);
    if (raw instanceof FileBlobStore) await recoverTrash(raw, live, cutoff);

    let remark = false;
    for (let i = 0; i < found.length && !remark; i += BATCH) {
      const pre = await db.transaction((tx) => stillGarbage(tx, found.slice(i, i + BATCH), roots, cutoff));
      if (!pre) {
        remark = true;
        break;
      }
      const held: Held[] = [];
      try {
        for (const c of pre) held.push(await take(raw, c));
      } catch (err) {
        for (const h of held) await giveBack(raw, h);
        throw err;
      }
      const go = await db.transaction(async (tx) => {
        // A backup's commit that reuses packed values takes the same locks (sealed-store.ts).
        if (packs && isPg(tx)) await lockHashes(tx, held.map((h) => h.c.hash).sort());
        const now = await stillGarbage(
          tx,
          held.map((h) => h.c),
          roots,
          cutoff,
        );
        if (now) {
          await deleteBlobRows(
            tx,
            now.filter((c) => !c.orphan).map((c) => c.hash),
          );
          if (packs)
            await deletePackedHashes(
              tx,
              now.map((c) => c.hash),
            );
        }
        return now;
      });
      if (!go) remark = true;
      const gone = new Set((go ?? []).map((c) => c.hash));
      for (const h of held) {
        if (gone.has(h.c.hash)) {
          await destroy(h); // a failure here leaves a trash file the next run removes
          swept.push(h.c);
        } else {
          await giveBack(raw, h);
        }
      }
    }
    if (!remark) {
      const out = result(swept);
      if (packs) out.packs = await repack(db, packs, { now: opts.now ?? Date.now(), cutoff });
      return out;
    }
  }
  throw new Error(
    `garbage collection gave up: snapshots kept completing during ${MAX_ROUNDS} marks (${swept.length} blobs removed)`,
  );
}

/**
 * Rewrites settled packs that are mostly dead, or small, into their owner's open pack;
 * deletes packs with nothing live (and pack files a crash left with no row). Values are
 * copied sealed, as they are: the seal is bound to the value and its owner, not to a place.
 */
async function repack(db: Db, packs: PackStore, at: { now: number; cutoff: number }): Promise<PackGc> {
  const settled = Math.min(at.cutoff, at.now - PACK_SETTLED_MS);
  const out: PackGc = { rewritten: 0, deleted: 0, freed: 0 };
  const drop = async (u: PackUsage) => {
    if (!(await db.transaction((tx) => dropEmptyPack(tx, u.id)))) return false;
    await packs.remove(u.id);
    out.deleted++;
    out.freed += u.size;
    return true;
  };
  const byOwner = new Map<string, PackUsage[]>();
  for (const u of await packUsage(db)) {
    const old = u.createdAt < settled;
    // An erased owner's packs go without waiting to settle: nothing can read them. Not while a
    // process may still have one open for appends (PACK_ROTATE_MS).
    if (u.live === 0 && (old || (!u.keyed && u.createdAt < at.now - PACK_ROTATE_MS))) {
      await drop(u);
      continue;
    }
    if (old) (byOwner.get(u.owner) ?? byOwner.set(u.owner, []).get(u.owner)!).push(u);
  }
  for (const [owner, settledPacks] of byOwner) {
    const small = settledPacks.filter((u) => u.size < SMALL_PACK);
    const rewrite = settledPacks.filter(
      (u) => u.live < u.size * REPACK_BELOW || (small.length > 1 && u.size < SMALL_PACK),
    );
    for (const u of rewrite) {
      const values = await valuesIn(db, u.id);
      const bytes = await packs.readAll(u.id);
      // A missing or short pack is for verification to report, not for this to paper over.
      if (!bytes || values.some((v) => v.offset + v.length > bytes.length)) continue;
      await packs.exclusive(owner, async () => {
        const sealed = values.map((v) => bytes.subarray(v.offset, v.offset + v.length));
        const { pack, offsets } = await packs.append(owner, sealed, { notInto: u.id });
        await db.transaction(async (tx) => {
          await notePack(tx, pack);
          await movePacked(
            tx,
            u.id,
            pack.id,
            values.map((v, i) => ({ owner: v.owner, hash: v.hash, offset: offsets[i]! })),
          );
        });
      });
      // Erasure may have emptied it meanwhile; otherwise nothing points into it now.
      if (await drop(u)) {
        out.rewritten++;
        out.freed -= u.live;
      }
    }
  }
  // Files of packs whose first append was never indexed (a process killed in between).
  const known = await packIds(db);
  for await (const f of packs.list()) {
    if (known.has(f.id) || f.mtimeMs >= settled) continue;
    await packs.remove(f.id);
    out.deleted++;
  }
  return out;
}
