/**
 * The object-store blobs against a real S3-compatible server (s3rver on loopback): the raw
 * store's contract, then the same encryption, dedup, erasure and garbage collection as on files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { testDb } from '@/test/support/db';
import { recordBlob } from '@/db/queries/snapshots';
import { createRawStore } from '../core/context';
import { env } from '../core/env';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { sha256Hex } from './blob-store';
import { collectGarbage } from './gc';
import { Keyring, newKey } from './keyring';
import { parseS3Url, S3BlobStore, s3Client } from './s3-store';
import { SealedBlobStore } from './sealed-store';

let s3: LocalS3;
let raw: S3BlobStore;
let db: Db;

beforeAll(async () => {
  s3 = await startLocalS3();
  raw = createRawStore({ ...env(), ...s3.env, dataDir: '/nonexistent' }) as S3BlobStore;
  db = await testDb();
}, 30_000);
afterAll(async () => {
  if (db) await closeDb(db);
  await s3?.close();
});

const text = (s: string) => new TextEncoder().encode(s);

describe('parseS3Url', () => {
  it('takes a bucket and an optional prefix', () => {
    expect(parseS3Url('s3://rewind-prod')).toEqual({ bucket: 'rewind-prod', prefix: '' });
    expect(parseS3Url('s3://rewind-prod/eu/blobs/')).toEqual({ bucket: 'rewind-prod', prefix: 'eu/blobs/' });
    expect(parseS3Url('https://rewind-prod')).toBeUndefined();
    expect(parseS3Url('s3://A')).toBeUndefined();
  });
});

describe('S3BlobStore', () => {
  it('is the store createRawStore makes for BLOB_STORE=s3://…', () => {
    expect(raw).toBeInstanceOf(S3BlobStore);
    expect(raw.where).toEqual({ bucket: s3.bucket, prefix: 'blobs/' });
  });

  it('stores by hash once, reads back, lists, replaces only when asked, deletes', async () => {
    const a = await raw.put(text('alpha'));
    expect(a).toEqual({ hash: sha256Hex(text('alpha')), created: true });
    expect(await raw.put(text('alpha'))).toEqual({ hash: a.hash, created: false });
    expect(new TextDecoder().decode(await raw.get(a.hash))).toBe('alpha');
    expect(await raw.has(a.hash)).toBe(true);
    expect(await raw.write(a.hash, text('other'))).toBe(false);
    expect(new TextDecoder().decode(await raw.get(a.hash))).toBe('alpha');
    expect(await raw.write(a.hash, text('sealed form'), { replace: true })).toBe(true);
    expect(new TextDecoder().decode(await raw.get(a.hash))).toBe('sealed form');
    const b = await raw.put(new Uint8Array(0));
    const listed: string[] = [];
    for await (const h of raw.list()) listed.push(h);
    expect(listed.sort()).toEqual([a.hash, b.hash].sort());
    await raw.delete(a.hash);
    await raw.delete(a.hash); // twice is fine
    expect(await raw.get(a.hash)).toBeUndefined();
    expect(await raw.has(a.hash)).toBe(false);
    await expect(raw.get('../../etc/passwd')).rejects.toThrow(TypeError);
  });

  it('an unreachable or refusing object store is a clear BlobStoreError', async () => {
    const wrong = new S3BlobStore(
      s3Client({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }),
      { bucket: 'no-such-bucket', prefix: '' },
    );
    await expect(wrong.write(sha256Hex(text('x')), text('x'))).rejects.toThrow(/object store (check|write) failed/);
  });

  it('under encryption: sealed in the bucket, deduplicated per owner, unreadable once the owner is erased, swept by GC', async () => {
    const store = new SealedBlobStore(raw, db, new Keyring(db, newKey()));
    const mine = text('BEGIN:VCARD\nFN:Object Store Marker\nEND:VCARD');
    const { hash } = await store.put(mine, 'sub-s3');
    await recordBlob(db, hash, mine.length);
    expect((await store.put(mine, 'sub-s3')).created).toBe(false);
    expect(Buffer.from((await raw.get(hash))!).includes(Buffer.from('Object Store Marker'))).toBe(false);
    expect(await store.get(hash)).toEqual(mine);
    await store.destroyOwners(['sub-s3']);
    expect(await store.get(hash)).toBeUndefined();
    // Nothing refers to it: garbage collection removes it from the bucket.
    const gc = await collectGarbage(db, store, { dryRun: false, graceMs: 0 });
    expect(gc.hashes).toContain(hash);
    expect(await raw.has(hash)).toBe(false);
  });
});
