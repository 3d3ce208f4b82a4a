/**
 * `rewind migrate packs`: moves every loose value (one file or object each, as stored before
 * packs) into its owners' packs. Each owner whose key wrap opens the value gets a copy in
 * their packs (dedup and erasure are per owner there); a value from before encryption at
 * rest, which no owner's key seals, goes to the operator's. Every copy is read back through
 * the index and checked against its SHA-256 before the loose value is deleted, so an
 * interrupted run is simply run again: what is packed and verified is gone from the loose
 * list, what is packed but not yet verified is verified then.
 */
import { OPERATOR, sha256Hex, type RawBlobStore } from './blob-store';
import type { SealedBlobStore } from './sealed-store';

export interface PackMigration {
  /** Loose values found. */
  listed: number;
  /** Copies appended to packs by this run. */
  packed: number;
  /** Copies a pack already held (an earlier, interrupted run). */
  present: number;
  /** Loose values verified in every owner's packs and deleted. */
  moved: number;
  /** Plaintext bytes moved. */
  bytes: number;
  /** Loose values no key opens any more (erased owners): left for garbage collection. */
  unreadable: number;
  /** Hashes whose packed copy did not read back with its hash. */
  failed: string[];
}

/** Values read and packed per owner at a time: one append and one commit each. */
const BATCH = 256;

export async function migrateToPacks(
  store: SealedBlobStore,
  opts: { onProgress?: (done: number, listed: number) => void } = {},
): Promise<PackMigration> {
  if (!store.packs) throw new TypeError('this blob store keeps no packs');
  const raw: RawBlobStore = store.raw;
  const hashes: string[] = [];
  for await (const h of raw.list()) hashes.push(h);
  const out: PackMigration = {
    listed: hashes.length,
    packed: 0,
    present: 0,
    moved: 0,
    bytes: 0,
    unreadable: 0,
    failed: [],
  };
  for (let i = 0; i < hashes.length; i += BATCH) {
    const batch: Array<{ hash: string; plain: Uint8Array; owners: string[] }> = [];
    for (const hash of hashes.slice(i, i + BATCH)) {
      const plain = await store.getLoose(hash);
      if (!plain) {
        out.unreadable++;
        continue;
      }
      const owners = await store.looseOwners(hash);
      batch.push({ hash, plain, owners: owners.length ? owners : [OPERATOR] });
    }
    const byOwner = new Map<string, Uint8Array[]>();
    for (const v of batch) for (const o of v.owners) (byOwner.get(o) ?? byOwner.set(o, []).get(o)!).push(v.plain);
    for (const [owner, values] of byOwner)
      for (const s of await store.putMany(values, owner)) {
        if (s.created) out.packed++;
        else out.present++;
      }
    for (const v of batch) {
      let ok = true;
      for (const o of v.owners) {
        const back = await store.getPackedOf(o, v.hash);
        if (!back || sha256Hex(back) !== v.hash) ok = false;
      }
      if (!ok) {
        out.failed.push(v.hash);
        continue;
      }
      await raw.delete(v.hash);
      out.moved++;
      out.bytes += v.plain.length;
    }
    opts.onProgress?.(Math.min(i + BATCH, hashes.length), hashes.length);
  }
  out.failed.sort();
  return out;
}
