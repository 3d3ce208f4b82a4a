/**
 * Where backup content lives: immutable values addressed by the SHA-256 of their bytes, so
 * a value two snapshots share is stored once. An interface, so an S3-compatible store can
 * stand in for the files under DATA_DIR/blobs.
 *
 * Writes are atomic (temporary file, fsync, rename): a crash or a full disk leaves either
 * the whole value or nothing under its name, never a torn value that a later backup would
 * take as already stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface BlobStore {
  /** Stores `bytes` under their hash; returns the hash and whether they were new. */
  put(bytes: Uint8Array): Promise<{ hash: string; created: boolean }>;
  /** The bytes stored under `hash`, or undefined. */
  get(hash: string): Promise<Uint8Array | undefined>;
  has(hash: string): Promise<boolean>;
  delete(hash: string): Promise<void>;
  /** Every hash in the store (for garbage collection and verification). */
  list(): AsyncIterable<string>;
}

export class BlobStoreError extends Error {
  constructor(readonly code: 'no-space' | 'io', message: string, opts?: { cause?: unknown }) {
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
export class FileBlobStore implements BlobStore {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  private file(hash: string): string {
    if (!isHash(hash)) throw new TypeError(`not a SHA-256 hex hash: ${hash.slice(0, 80)}`);
    return path.join(this.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
  }

  async put(bytes: Uint8Array): Promise<{ hash: string; created: boolean }> {
    const hash = sha256Hex(bytes);
    const file = this.file(hash);
    if (fs.existsSync(file)) return { hash, created: false };
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
      if (code === 'ENOSPC' || code === 'EDQUOT') throw new BlobStoreError('no-space', 'the blob store is out of space', { cause: err });
      throw new BlobStoreError('io', `blob store write failed: ${(err as Error).message}`, { cause: err });
    }
    return { hash, created: true };
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
