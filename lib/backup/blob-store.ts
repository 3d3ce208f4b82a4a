/**
 * Where backup content lives: immutable values addressed by the SHA-256 of their bytes, so
 * a value two snapshots share is stored once. An interface, so an S3-compatible store can
 * stand in for the files under DATA_DIR/blobs.
 *
 * Writes are atomic (temporary file, fsync, rename): a crash or a full disk leaves either
 * the whole value or nothing under its name, never a torn value that a later backup would
 * take as already stored.
 *
 * Every value belongs to a key owner (`keyOwner`): the production store (SealedBlobStore,
 * sealed-store.ts) encrypts it for them; the file store underneath ignores the owner.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '@/db/client';

export interface Stored {
  hash: string;
  /** Whether the store did not hold the value (for this owner) before. */
  created: boolean;
}

/** Values stored and not yet indexed (`BlobStore.putNowCommitLater`): exactly one of its methods is called. */
export interface PendingCommit {
  commit(write: (tx: Db, stored: Stored[]) => Promise<void>): Promise<Stored[]>;
  abandon(): void;
}

export interface BlobStore {
  /** Stores `owner`'s `bytes` under their hash; returns the hash and whether they were new. */
  put(bytes: Uint8Array, owner: string): Promise<{ hash: string; created: boolean }>;
  /** Several values of one owner at once (what one DM message brings), where a store can do better than one by one. */
  putMany?(values: readonly Uint8Array[], owner: string): Promise<{ hash: string; created: boolean }[]>;
  /**
   * Stores the values and runs `commit` in the same database transaction that indexes them,
   * once they are durable: the caller's staging and progress commit with the values, one
   * commit per DM message. Only stores whose index is in the database (packs) have it.
   */
  putAndCommit?(
    values: readonly Uint8Array[],
    owner: string,
    commit: (tx: Db, stored: Stored[]) => Promise<void>,
  ): Promise<Stored[]>;
  /**
   * `putAndCommit` in two steps: the values are stored (durable) now, and the transaction
   * that indexes them runs when the returned `commit` is called, with the caller's writes in
   * it; until then the owner's other stores in this process wait. `abandon` gives up (what was
   * stored stays unindexed, as after a crash). Lets a DM message's closing transaction be the
   * one that indexes its values (lib/jobs/message-scope.ts).
   */
  putNowCommitLater?(values: readonly Uint8Array[], owner: string): Promise<PendingCommit>;
  /** The bytes stored under `hash`, or undefined. */
  get(hash: string): Promise<Uint8Array | undefined>;
  has(hash: string): Promise<boolean>;
  delete(hash: string): Promise<void>;
  /** Every hash in the store (for garbage collection and verification). */
  list(): AsyncIterable<string>;
}

/** Stores values of one owner, in their order: in one go where the store can (putMany). */
export async function putAll(
  store: BlobStore,
  values: readonly Uint8Array[],
  owner: string,
): Promise<{ hash: string; created: boolean }[]> {
  if (store.putMany) return store.putMany(values, owner);
  const out: { hash: string; created: boolean }[] = [];
  for (const v of values) out.push(await store.put(v, owner));
  return out;
}

/** Whose content a handset's backups are: its subscriber's, or its own while it has none. */
export function keyOwner(device: { id: string; subscriberId: string | null }): string {
  return device.subscriberId ?? `device:${device.id}`;
}

/** The owner of what the operator publishes (firmware and app packages). */
export const OPERATOR = 'operator';

/** A store of bytes under names the caller chooses (SealedBlobStore writes sealed values under their plaintext's hash). */
export interface RawBlobStore extends BlobStore {
  write(hash: string, bytes: Uint8Array, opts?: { replace?: boolean }): Promise<boolean>;
}

export class BlobStoreError extends Error {
  constructor(
    readonly code: 'no-space' | 'io' | 'damaged',
    message: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts);
    this.name = 'BlobStoreError';
  }
}

const HASH = /^[0-9a-f]{64}$/;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function isHash(s: string): boolean {
  return HASH.test(s);
}

/** Files under a directory: `ab/cd/abcd…` so no folder holds more than a few thousand entries. */
export class FileBlobStore implements RawBlobStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private file(hash: string): string {
    if (!isHash(hash)) throw new TypeError(`not a SHA-256 hex hash: ${hash.slice(0, 80)}`);
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async put(bytes: Uint8Array, _owner?: string): Promise<{ hash: string; created: boolean }> {
    const hash = sha256Hex(bytes);
    return { hash, created: await this.write(hash, bytes) };
  }

  /**
   * Writes `bytes` under `hash` (which the caller vouches for: a sealed value is not its
   * own hash). Returns false when there already was a value, unless `replace`.
   */
  async write(hash: string, bytes: Uint8Array, opts: { replace?: boolean } = {}): Promise<boolean> {
    const file = this.file(hash);
    if (!opts.replace && fs.existsSync(file)) return false;
    const tmp = path.join(this.dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      const fh = await fs.promises.open(tmp, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await fs.promises.rename(tmp, file);
    } catch (err) {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT')
        throw new BlobStoreError('no-space', 'the blob store is out of space', { cause: err });
      throw new BlobStoreError('io', `blob store write failed: ${(err as Error).message}`, { cause: err });
    }
    return true;
  }

  async get(hash: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await fs.promises.readFile(this.file(hash)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async has(hash: string): Promise<boolean> {
    return fs.existsSync(this.file(hash));
  }

  async delete(hash: string): Promise<void> {
    await fs.promises.rm(this.file(hash), { force: true });
  }

  async *list(): AsyncIterable<string> {
    for (const a of await readdirSafe(this.dir)) {
      if (a.length !== 2) continue;
      for (const b of await readdirSafe(path.join(this.dir, a))) {
        for (const name of await readdirSafe(path.join(this.dir, a, b))) if (isHash(name)) yield name;
      }
    }
  }
}

async function readdirSafe(dir: string): Promise<string[]> {
  try {
    return (await fs.promises.readdir(dir)).sort();
  } catch {
    return [];
  }
}
