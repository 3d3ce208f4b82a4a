/**
 * Backup content encrypted at rest. Each value is sealed (AES-256-GCM, bound to its hash)
 * with a key of its own, and that key is wrapped by the data key of every owner whose content
 * the value is (keyring.ts). The value keeps its plaintext's SHA-256 as its name, so
 * manifests, dedup, verification and garbage collection work as before; only `put` needs
 * to know the owner.
 *
 * Erasing an owner destroys their data key and wraps: a value only they had can then be
 * opened by no one and reads as missing until garbage collection removes the file. A value
 * another owner also stored stays readable through that owner's wrap.
 *
 * Values written before encryption at rest (no marker) read as they are and are sealed the
 * first time they are stored again.
 *
 * With packs (packs.ts, the default), a value is sealed with its owner's data key itself and
 * appended to that owner's pack; the pack index in the database says where. Dedup is then
 * per owner, and erasure needs no per-value wraps. Loose values (one file each, above) stay
 * readable; `rewind migrate packs` moves them into packs.
 */
import { isPg, type Db } from '@/db/client';
import { blobKeysFor, blobKeysForMany, insertBlobKeys, lockHashes, type BlobKeyRow } from '@/db/queries/content-keys';
import { getDevice } from '@/db/queries/devices';
import {
  deletePackedHashes,
  deletePackedOf,
  isPacked,
  packedCopies,
  packedFor,
  packedHashes,
  recordPacked,
} from '@/db/queries/packs';
import {
  BlobStoreError,
  keyOwner,
  sha256Hex,
  type BlobStore,
  type PendingCommit,
  type RawBlobStore,
  type Stored,
} from './blob-store';
import { newKey, open, seal, type Keyring } from './keyring';
import type { PackStore } from './packs';

/** "RWE1": a sealed value, format 1. */
const MARKER = new Uint8Array([0x52, 0x57, 0x45, 0x31]);

function isSealed(bytes: Uint8Array): boolean {
  return bytes.length > MARKER.length && MARKER.every((b, i) => bytes[i] === b);
}

/** The key owner of a handset's content, by the handset's id. */
export async function deviceKeyOwner(db: Db, deviceId: string): Promise<string> {
  const device = await getDevice(db, deviceId);
  return device ? keyOwner(device) : `device:${deviceId}`;
}

const wrapAad = (hash: string, owner: string) => `rewind blob key ${hash} ${owner}`;
const packAad = (hash: string, owner: string) => `rewind packed value ${hash} ${owner}`;

/** A value found stored when the message began was collected before its commit: store it again. */
class Collected extends Error {
  constructor(readonly hashes: string[]) {
    super('values collected meanwhile');
  }
}

export class SealedBlobStore implements BlobStore {
  /**
   * What this process has stored for an owner lately (`owner hash` → the value's key): a
   * backup stores every value again, and dedup then needs neither the database nor a write.
   * Blob keys are never deleted but with their owner (destroyOwners), so an entry stays true.
   */
  private readonly stored = new Map<string, Uint8Array>();
  private static readonly STORED_MAX = 20_000;

  /**
   * Stores a message's values and runs `commit` in the transaction that indexes them (packs
   * only): one fsync and one commit per DM message.
   */
  readonly putAndCommit?: BlobStore['putAndCommit'];

  /** `putAndCommit` with the transaction run when the caller says (packs only). */
  readonly putNowCommitLater?: BlobStore['putNowCommitLater'];

  constructor(
    readonly raw: RawBlobStore,
    private readonly db: Db,
    readonly keys: Keyring,
    /** Where new values go; without it, each is a loose file in `raw`. */
    readonly packs?: PackStore,
  ) {
    if (packs) {
      this.putAndCommit = (values, owner, commit) => this.putPacked(packs, values, owner, commit);
      this.putNowCommitLater = (values, owner) => this.putPackedLater(packs, values, owner);
    }
  }

  /**
   * One key per value whoever stores it: decided under the write lock (SQLite), or a lock on
   * the hash (PostgreSQL), so two backups storing the same new value at once (in any
   * process) seal it with the same key. The values of one message are claimed in one
   * transaction, their locks taken in hash order so two claimants cannot deadlock.
   */
  private claim(hashes: readonly string[], owner: string): Promise<Map<string, { key: Uint8Array; first: boolean }>> {
    return this.db.transaction(async (tx) => {
      const sorted = [...hashes].sort();
      // The locks, the wraps read and the wraps written each in one statement, not one per value.
      if (isPg(tx)) await lockHashes(tx, sorted);
      const wraps = await blobKeysForMany(tx, sorted, owner);
      const out = new Map<string, { key: Uint8Array; first: boolean }>();
      const added: Array<{ hash: string; owner: string; wrapped: string }> = [];
      for (const hash of sorted) {
        const existing = await this.openWraps(tx, hash, wraps.get(hash) ?? []);
        const key = existing?.key ?? newKey();
        if (existing?.owner !== owner) added.push({ hash, owner, wrapped: await this.wrap(tx, key, hash, owner) });
        out.set(hash, { key, first: !existing });
      }
      await insertBlobKeys(tx, added);
      return out;
    });
  }

  async put(bytes: Uint8Array, owner: string): Promise<{ hash: string; created: boolean }> {
    return (await this.putMany([bytes], owner))[0]!;
  }

  async putMany(values: readonly Uint8Array[], owner: string): Promise<{ hash: string; created: boolean }[]> {
    if (this.packs) return this.putPacked(this.packs, values, owner);
    return this.putLoose(values, owner);
  }

  /**
   * Appends the owner's values not yet in their packs, durably (one fsync), then indexes them
   * and runs `commit` in one transaction. Values found already packed are checked again in
   * that transaction, under the locks garbage collection's sweep takes (gc.ts): a value swept
   * in between is appended and the transaction tried again, so what the commit stages is
   * always stored.
   */
  private putPacked(
    packs: PackStore,
    values: readonly Uint8Array[],
    owner: string,
    commitNow?: (tx: Db, stored: Stored[]) => Promise<void>,
    /** Two steps (putPackedLater): told once the values are durable, then waits for the commit. */
    later?: { appended: () => void; decided: Promise<((tx: Db, stored: Stored[]) => Promise<void>) | undefined> },
  ): Promise<Stored[]> {
    let commit = commitNow;
    const hashes = values.map(sha256Hex);
    const firstAt = new Map<string, number>();
    hashes.forEach((h, i) => firstAt.has(h) || firstAt.set(h, i));
    const unique = [...firstAt.keys()].sort();
    return packs.exclusive(owner, async () => {
      const known = await packedFor(this.db, owner, unique);
      const placed = new Map<string, { pack: string; offset: number; length: number }>();
      for (let attempt = 0; ; attempt++) {
        const fresh = unique.filter((h) => !known.has(h) && !placed.has(h));
        const appended = fresh.length
          ? await this.appendSealed(packs, owner, fresh, (h) => values[firstAt.get(h)!]!)
          : undefined;
        for (const [h, at] of appended?.at ?? []) placed.set(h, at);
        if (later && attempt === 0) {
          // Durable now: the caller goes on, and the transaction below runs when it commits
          // (still inside `exclusive`, so the owner's values are indexed in the order appended).
          later.appended();
          const write = await later.decided;
          if (!write) return [];
          commit = write;
        }
        try {
          return await this.db.transaction(async (tx) => {
            if (isPg(tx)) await lockHashes(tx, unique);
            const reused = unique.filter((h) => !placed.has(h));
            if (reused.length) {
              const still = await packedFor(tx, owner, reused);
              const gone = reused.filter((h) => !still.has(h));
              if (gone.length) throw new Collected(gone);
            }
            if (appended)
              await recordPacked(
                tx,
                appended.pack,
                fresh.map((h) => ({ hash: h, ...placed.get(h)! })),
              );
            const seen = new Set<string>();
            const out = hashes.map((hash) => {
              const created = !seen.has(hash) && placed.has(hash);
              seen.add(hash);
              return { hash, created };
            });
            await commit?.(tx, out);
            return out;
          });
        } catch (err) {
          if (!(err instanceof Collected) || attempt >= 3) throw err;
          for (const h of err.hashes) known.delete(h);
        }
      }
    });
  }

  /**
   * putPacked in two steps: resolves once the values are durable (an error storing them
   * rejects it), with the handle that runs the indexing transaction, the same as putPacked's
   * (values found already packed checked again in it, under garbage collection's locks).
   */
  private putPackedLater(packs: PackStore, values: readonly Uint8Array[], owner: string): Promise<PendingCommit> {
    return new Promise<PendingCommit>((resolve, reject) => {
      let decide!: (write: ((tx: Db, stored: Stored[]) => Promise<void>) | undefined) => void;
      const decided = new Promise<((tx: Db, stored: Stored[]) => Promise<void>) | undefined>((r) => (decide = r));
      const done = this.putPacked(packs, values, owner, undefined, {
        decided,
        appended: () =>
          resolve({
            commit: (write) => {
              decide(write);
              return done;
            },
            abandon: () => decide(undefined),
          }),
      });
      // Before `appended`, the failure to store; after it, the commit's caller has it.
      done.catch(reject);
    });
  }

  /** Seals the owner's values with their data key and appends them to their pack, made durable. */
  private async appendSealed(
    packs: PackStore,
    owner: string,
    hashes: readonly string[],
    bytesOf: (hash: string) => Uint8Array,
  ): Promise<{
    pack: { id: string; owner: string; size: number; createdAt: number };
    at: Map<string, { pack: string; offset: number; length: number }>;
  }> {
    const key = await this.keys.dataKey(owner);
    const sealed = hashes.map((h) => seal(key, bytesOf(h), packAad(h, owner)));
    const { pack, offsets } = await packs.append(owner, sealed);
    const at = new Map(hashes.map((h, i) => [h, { pack: pack.id, offset: offsets[i]!, length: sealed[i]!.length }]));
    return { pack, at };
  }

  private async putLoose(values: readonly Uint8Array[], owner: string): Promise<{ hash: string; created: boolean }[]> {
    const hashes = values.map(sha256Hex);
    const unknown = [...new Set(hashes)].filter((h) => !this.stored.has(`${owner} ${h}`));
    const claimed = unknown.length
      ? await this.claim(unknown, owner)
      : new Map<string, { key: Uint8Array; first: boolean }>();
    const out: { hash: string; created: boolean }[] = [];
    const done = new Set<string>();
    for (const [i, hash] of hashes.entries()) {
      // The same value twice in one go: stored by its first occurrence.
      if (done.has(hash)) {
        out.push({ hash, created: false });
        continue;
      }
      done.add(hash);
      const mine = `${owner} ${hash}`;
      const { key, first } = claimed.get(hash) ?? { key: this.stored.get(mine)!, first: false };
      this.remember(mine, key);
      const present = await this.raw.has(hash);
      if (present && !first) {
        out.push({ hash, created: false });
        continue;
      }
      // `present && first`: a value from before encryption, or one whose keys an erasure destroyed.
      const framed = concat(MARKER, seal(key, values[i]!, hash));
      await this.raw.write(hash, framed, { replace: present });
      out.push({ hash, created: !present });
    }
    return out;
  }

  /**
   * Destroys the owners' data keys (and forgets what this process stored for anyone). `db`:
   * the caller's transaction, when the erasure is part of one.
   */
  async destroyOwners(owners: readonly string[], db: Db = this.db): Promise<number> {
    this.stored.clear();
    // Their packs then hold nothing live: garbage collection deletes them.
    await deletePackedOf(db, owners);
    return this.keys.destroy(owners, db);
  }

  private remember(k: string, key: Uint8Array): void {
    if (this.stored.has(k)) this.stored.delete(k);
    else if (this.stored.size >= SealedBlobStore.STORED_MAX) this.stored.delete(this.stored.keys().next().value!);
    this.stored.set(k, key);
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    return (await this.getPacked(hash)) ?? this.getLoose(hash);
  }

  /** A loose value (its own file or object), opened. */
  async getLoose(hash: string): Promise<Uint8Array | undefined> {
    const bytes = await this.raw.get(hash);
    if (!bytes || !isSealed(bytes)) return bytes;
    const found = await this.blobKey(this.db, hash);
    if (!found) {
      // A plaintext value that happens to start with the marker is its own hash.
      return sha256Hex(bytes) === hash ? bytes : undefined;
    }
    const plain = open(found.key, bytes.subarray(MARKER.length), hash);
    if (plain) return plain;
    if (sha256Hex(bytes) === hash) return bytes;
    throw new BlobStoreError(
      'damaged',
      `stored value ${hash.slice(0, 12)}… does not open with its key: it has been altered or damaged`,
    );
  }

  /**
   * The value from the first owner's pack whose data key opens it; a pack rewritten by
   * garbage collection between the index read and the file read is looked up again.
   */
  private async getPacked(hash: string): Promise<Uint8Array | undefined> {
    if (!this.packs) return undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const copies = await packedCopies(this.db, hash);
      if (!copies.length) return undefined;
      let moved = false;
      for (const c of copies) {
        const dek = await this.keys.find(c.owner);
        if (!dek) continue; // erased
        const sealed = await this.packs.read(c.packId, c.offset, c.length);
        if (!sealed) {
          moved = true;
          continue;
        }
        const plain = open(dek, sealed, packAad(hash, c.owner));
        if (!plain)
          throw new BlobStoreError(
            'damaged',
            `stored value ${hash.slice(0, 12)}… does not open with its key: its pack has been altered or damaged`,
          );
        return plain;
      }
      if (!moved) return undefined;
    }
    throw new BlobStoreError('damaged', `stored value ${hash.slice(0, 12)}… is indexed in a pack that is missing`);
  }

  /** `owner`'s packed copy of a value, opened, or undefined (not packed, erased, or its pack missing). */
  async getPackedOf(owner: string, hash: string): Promise<Uint8Array | undefined> {
    const c = (await packedFor(this.db, owner, [hash])).get(hash);
    const dek = c && (await this.keys.find(owner));
    const sealed = dek && this.packs && (await this.packs.read(c.packId, c.offset, c.length));
    return sealed ? open(dek, sealed, packAad(hash, owner)) : undefined;
  }

  /** The owners whose key wraps open a loose value (who stored it), `[]` for one from before encryption. */
  async looseOwners(hash: string): Promise<string[]> {
    const out: string[] = [];
    for (const w of await blobKeysFor(this.db, hash)) if (await this.keys.find(w.owner)) out.push(w.owner);
    return out;
  }

  async has(hash: string): Promise<boolean> {
    return (this.packs && (await isPacked(this.db, hash))) || this.raw.has(hash);
  }

  async delete(hash: string): Promise<void> {
    if (this.packs) await deletePackedHashes(this.db, [hash]);
    await this.raw.delete(hash);
  }

  async *list(): AsyncIterable<string> {
    const packed = this.packs ? await packedHashes(this.db) : [];
    const seen = new Set(packed);
    yield* packed;
    for await (const h of this.raw.list()) if (!seen.has(h)) yield h;
  }

  /** The value's key through the first wrap whose owner still has a data key (`prefer`'s first). */
  private async blobKey(
    db: Db,
    hash: string,
    prefer?: string,
  ): Promise<{ key: Uint8Array; owner: string } | undefined> {
    return this.openWraps(db, hash, await blobKeysFor(db, hash, prefer));
  }

  /** The first of a blob's key wraps that opens with its owner's data key. */
  private async openWraps(
    db: Db,
    hash: string,
    wraps: readonly BlobKeyRow[],
  ): Promise<{ key: Uint8Array; owner: string } | undefined> {
    for (const w of wraps) {
      const dek = await this.keys.find(w.owner, db);
      const key = dek && open(dek, Buffer.from(w.wrapped, 'base64'), wrapAad(hash, w.owner));
      if (key) return { key, owner: w.owner };
    }
    return undefined;
  }

  private async wrap(db: Db, key: Uint8Array, hash: string, owner: string): Promise<string> {
    return Buffer.from(seal(await this.keys.dataKey(owner, db), key, wrapAad(hash, owner))).toString('base64');
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
