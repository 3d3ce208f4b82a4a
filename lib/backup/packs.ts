/**
 * Pack files: an owner's sealed values back to back, so storing what one DM message brings
 * costs one append and one fsync instead of a file (write, fsync, rename) per value. The
 * index (which pack, where, how long) is in the database (db/queries/packs.ts), written in
 * the same transaction as the backup's progress, so a value is known stored exactly when
 * the message that brought it is: a kill -9 after the append and before the commit leaves
 * dead bytes in a pack, never an index entry without its bytes.
 *
 * A pack holds one owner's values only: erasing a subscriber is forgetting their index rows
 * (their data key is destroyed as before) and deleting their packs; a legal hold keeps them.
 *
 * On files each process appends to its own open pack per owner (DATA_DIR/packs/ab/<id>.pack),
 * a new one after PACK_TARGET bytes or PACK_ROTATE_MS, so a pack old enough for garbage
 * collection to rewrite is never appended to again. An object store cannot append: there
 * each call writes one object, and garbage collection merges small ones (repack).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { BlobStoreError, FileBlobStore, type RawBlobStore } from './blob-store';
import { S3BlobStore, s3IoError, s3NotFound } from './s3-store';

/** "RWPK", format 1, then reserved bytes: what a pack starts with. */
export const PACK_HEADER = new Uint8Array([0x52, 0x57, 0x50, 0x4b, 1, 0, 0, 0]);
/** A pack is closed once it holds this much (its values stay readable; new ones go to a new pack). */
export const PACK_TARGET = 16 * 1024 * 1024;
/** Nor is a pack appended to after this long: garbage collection rewrites only packs older than PACK_SETTLED_MS. */
export const PACK_ROTATE_MS = 60 * 1000;
export const PACK_SETTLED_MS = 10 * PACK_ROTATE_MS;
/** Open pack files a process keeps per store (one per owner backing up right now). */
const OPEN_MAX = 64;

export interface PackRef {
  id: string;
  owner: string;
  /** Bytes written, header included. */
  size: number;
  createdAt: number;
}

/** Where packs are kept: files (appendable) or an object store (one object per write). */
interface PackBackend {
  /** Writes `parts` at `at` (0: a new pack, header included by the caller) and makes them durable. */
  write(id: string, parts: readonly Uint8Array[], at: number): Promise<void>;
  read(id: string, offset: number, length: number): Promise<Uint8Array | undefined>;
  readAll(id: string): Promise<Uint8Array | undefined>;
  remove(id: string): Promise<void>;
  /** Pack ids present with their age (for packs a crash left with no row). */
  list(): AsyncIterable<{ id: string; mtimeMs: number }>;
  readonly appendable: boolean;
  close(id: string): Promise<void>;
}

function storeError(err: unknown): BlobStoreError {
  if (err instanceof BlobStoreError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new BlobStoreError('no-space', 'the blob store is out of space', { cause: err });
  return new BlobStoreError('io', `pack write failed: ${(err as Error).message}`, { cause: err });
}

const PACK_NAME = /^[0-9a-f]{32}\.pack$/;

class FilePacks implements PackBackend {
  readonly appendable = true;
  private readonly open = new Map<string, fs.promises.FileHandle>();
  /** Packs being written right now: their handles are never the ones closed to make room. */
  private readonly writing = new Set<string>();

  constructor(readonly dir: string) {}

  file(id: string): string {
    return path.join(this.dir, id.slice(0, 2), `${id}.pack`);
  }

  async write(id: string, parts: readonly Uint8Array[], at: number): Promise<void> {
    let fh = this.open.get(id);
    this.writing.add(id);
    try {
      if (!fh) {
        const file = this.file(id);
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        fh = await fs.promises.open(file, at === 0 ? 'wx' : 'r+');
        // Room is made by closing the oldest handle no write is using (closing one mid-write
        // failed that write); with every one in use, more stay open until the writes end.
        if (this.open.size >= OPEN_MAX) {
          const idle = [...this.open.keys()].find((k) => !this.writing.has(k));
          if (idle !== undefined) await this.close(idle);
        }
        this.open.set(id, fh);
        // A new file's name must survive a crash as well as its bytes.
        if (at === 0) await syncDir(path.dirname(file));
      }
      // Positional writes: a torn append (a full disk) is overwritten by the next one, never followed.
      // The parts go as one buffer: a write per part was a thread-pool round trip per value.
      const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      let done = 0;
      while (done < bytes.length) done += (await fh.write(bytes, done, bytes.length - done, at + done)).bytesWritten;
      await fh.datasync();
    } catch (err) {
      await this.close(id);
      throw storeError(err);
    } finally {
      this.writing.delete(id);
    }
  }

  async close(id: string): Promise<void> {
    const fh = this.open.get(id);
    this.open.delete(id);
    await fh?.close().catch(() => undefined);
  }

  async read(id: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    let fh: fs.promises.FileHandle;
    try {
      fh = await fs.promises.open(this.file(id), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done);
        if (bytesRead === 0) return undefined; // shorter than the index says: damaged
        done += bytesRead;
      }
      return out;
    } finally {
      await fh.close();
    }
  }

  async readAll(id: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await fs.promises.readFile(this.file(id)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async remove(id: string): Promise<void> {
    await this.close(id);
    await fs.promises.rm(this.file(id), { force: true });
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    for (const a of await fs.promises.readdir(this.dir).catch(() => [] as string[])) {
      for (const name of await fs.promises.readdir(path.join(this.dir, a)).catch(() => [] as string[])) {
        if (!PACK_NAME.test(name)) continue;
        const st = await fs.promises.stat(path.join(this.dir, a, name)).catch(() => undefined);
        if (st) yield { id: name.slice(0, 32), mtimeMs: st.mtimeMs };
      }
    }
  }
}

async function syncDir(dir: string): Promise<void> {
  const d = await fs.promises.open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Packs as objects `<prefix>packs/<id>.pack` beside the loose values (whose names are bare hashes). */
class S3Packs implements PackBackend {
  readonly appendable = false;

  constructor(private readonly s3: S3BlobStore) {}

  private key(id: string): string {
    return `${this.s3.where.prefix}packs/${id}.pack`;
  }

  async write(id: string, parts: readonly Uint8Array[], at: number): Promise<void> {
    if (at !== 0) throw new TypeError('an object store pack is written whole');
    const body = Buffer.concat(parts);
    try {
      await this.s3.client.send(
        new PutObjectCommand({
          Bucket: this.s3.where.bucket,
          Key: this.key(id),
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/octet-stream',
        }),
      );
    } catch (err) {
      throw s3IoError('write', err);
    }
  }

  private async get(id: string, range?: string): Promise<Uint8Array | undefined> {
    try {
      const r = await this.s3.client.send(
        new GetObjectCommand({ Bucket: this.s3.where.bucket, Key: this.key(id), ...(range ? { Range: range } : {}) }),
      );
      return r.Body ? await r.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      if (s3NotFound(err)) return undefined;
      throw s3IoError('read', err);
    }
  }

  async read(id: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    const got = await this.get(id, `bytes=${offset}-${offset + length - 1}`);
    return got && got.length === length ? got : undefined;
  }

  readAll(id: string): Promise<Uint8Array | undefined> {
    return this.get(id);
  }

  async remove(id: string): Promise<void> {
    try {
      await this.s3.client.send(new DeleteObjectCommand({ Bucket: this.s3.where.bucket, Key: this.key(id) }));
    } catch (err) {
      if (!s3NotFound(err)) throw s3IoError('delete', err);
    }
  }

  async *list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.s3.client.send(
          new ListObjectsV2Command({
            Bucket: this.s3.where.bucket,
            Prefix: `${this.s3.where.prefix}packs/`,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        );
      } catch (err) {
        throw s3IoError('list', err);
      }
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(o.Key.lastIndexOf('/') + 1);
        if (name && PACK_NAME.test(name)) yield { id: name.slice(0, 32), mtimeMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async close(): Promise<void> {}
}

/**
 * Appends owners' sealed values to packs. One writer per owner at a time in this process
 * (`exclusive`): an owner's values are appended, made durable and indexed in order.
 */
export class PackStore {
  private readonly current = new Map<string, PackRef>();
  private readonly queues = new Map<string, Promise<unknown>>();

  private constructor(private readonly backend: PackBackend) {}

  /** Packs beside `raw`: DATA_DIR/packs for files under DATA_DIR/blobs, `<prefix>packs/` in a bucket. */
  static beside(raw: RawBlobStore): PackStore | undefined {
    if (raw instanceof FileBlobStore) return new PackStore(new FilePacks(path.join(path.dirname(raw.dir), 'packs')));
    if (raw instanceof S3BlobStore) return new PackStore(new S3Packs(raw));
    return undefined;
  }

  /** Runs `fn` after the owner's earlier appends here have been indexed (or failed). */
  exclusive<T>(owner: string, fn: () => Promise<T>): Promise<T> {
    const before = this.queues.get(owner) ?? Promise.resolve();
    const run = before.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(owner, tail);
    void tail.then(() => {
      if (this.queues.get(owner) === tail) this.queues.delete(owner);
    });
    return run;
  }

  /**
   * Appends `values` to the owner's open pack (a new one when there is none, it is full or
   * old, or the store cannot append) and makes them durable; returns the pack as it is now
   * and each value's offset. Call inside `exclusive(owner)`. `notInto`: a pack being
   * rewritten (its copies must land elsewhere).
   */
  async append(
    owner: string,
    values: readonly Uint8Array[],
    opts: { notInto?: string } = {},
  ): Promise<{ pack: PackRef; offsets: number[] }> {
    const now = Date.now();
    let pack = this.current.get(owner);
    if (
      !pack ||
      !this.backend.appendable ||
      pack.size >= PACK_TARGET ||
      now - pack.createdAt >= PACK_ROTATE_MS ||
      pack.id === opts.notInto
    ) {
      if (pack) await this.backend.close(pack.id);
      pack = { id: randomBytes(16).toString('hex'), owner, size: 0, createdAt: now };
    }
    const parts = pack.size === 0 ? [PACK_HEADER, ...values] : [...values];
    const offsets: number[] = [];
    let at = pack.size === 0 ? PACK_HEADER.length : pack.size;
    for (const v of values) {
      offsets.push(at);
      at += v.length;
    }
    try {
      await this.backend.write(pack.id, parts, pack.size);
    } catch (err) {
      // What was written of a failed append is not indexed; the next append starts a new pack.
      this.current.delete(owner);
      throw err;
    }
    const next = { ...pack, size: at };
    if (this.backend.appendable) this.current.set(owner, next);
    return { pack: next, offsets };
  }

  read(id: string, offset: number, length: number): Promise<Uint8Array | undefined> {
    return this.backend.read(id, offset, length);
  }

  readAll(id: string): Promise<Uint8Array | undefined> {
    return this.backend.readAll(id);
  }

  /** Writes a whole pack under its id (copying a store elsewhere: `rewind migrate blobs`). */
  async put(id: string, bytes: Uint8Array): Promise<void> {
    await this.backend.remove(id);
    await this.backend.write(id, [bytes], 0);
    await this.backend.close(id);
  }

  /** Deletes a pack (its index rows are gone); the open pack of this process is never one. */
  async remove(id: string): Promise<void> {
    for (const [owner, p] of this.current) if (p.id === id) this.current.delete(owner);
    await this.backend.remove(id);
  }

  list(): AsyncIterable<{ id: string; mtimeMs: number }> {
    return this.backend.list();
  }
}
