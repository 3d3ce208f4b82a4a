import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { column } from '@/db/sql';
import { testDb } from '@/test/support/db';
import { FileBlobStore, BlobStoreError, sha256Hex } from './blob-store';
import { Keyring, KeyError, loadMasterKey, newKey } from './keyring';
import { SealedBlobStore } from './sealed-store';

let dir: string;
let db: Db;
let files: FileBlobStore;
let master: Uint8Array;
let store: SealedBlobStore;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-sealed-'));
  db = await testDb();
  files = new FileBlobStore(path.join(dir, 'blobs'));
  master = newKey();
  store = new SealedBlobStore(files, db, new Keyring(db, master));
});

afterEach(async () => {
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

const text = (s: string) => new TextEncoder().encode(s);

function filesUnder(root: string): string[] {
  return fs
    .readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('SealedBlobStore', () => {
  it("stores a message's values in one go: in order, each once, new and known alike, each under one key", async () => {
    const [a, b, c] = [text('ringer=7'), text('wallpaper'), text('lang=en-GB')];
    await store.put(b, 'sub-1');
    const other = new SealedBlobStore(files, db, new Keyring(db, master)); // another process: nothing remembered
    const r = await other.putMany([a, b, a, c], 'sub-1');
    expect(r.map((x) => x.hash)).toEqual([a, b, a, c].map(sha256Hex));
    expect(r.map((x) => x.created)).toEqual([true, false, false, true]);
    for (const v of [a, b, c]) expect(await store.get(sha256Hex(v))).toEqual(v);
    const keys = await column<string>(db, sql`select hash from blob_keys where owner = ${'sub-1'} order by hash`);
    expect(keys).toEqual([a, b, c].map(sha256Hex).sort());
  });

  it('stores under the plaintext hash, reads back the plaintext, and keeps only ciphertext on disk', async () => {
    const value = text('BEGIN:VCARD\nFN:Alice Unique-Marker-7731\nEND:VCARD');
    const { hash, created } = await store.put(value, 'sub-a');
    expect(hash).toBe(sha256Hex(value));
    expect(created).toBe(true);
    expect(await store.get(hash)).toEqual(value);
    const raw = (await files.get(hash))!;
    expect(Buffer.from(raw).includes(Buffer.from('Unique-Marker-7731'))).toBe(false);
    expect(raw.length).toBeGreaterThan(value.length);
    // Nor is it anywhere in the database.
    expect(
      (await column<string>(db, sql`select wrapped from content_keys union all select wrapped from blob_keys`)).join(
        '',
      ),
    ).not.toContain('Unique-Marker');
  });

  it('stores the same content of one owner once, and of a second owner once more only as a key', async () => {
    const value = text('ringtone bytes');
    const a1 = await store.put(value, 'sub-a');
    const a2 = await store.put(value, 'sub-a');
    const b = await store.put(value, 'sub-b');
    expect([a1.created, a2.created, b.created]).toEqual([true, false, false]);
    expect(await column<string>(db, sql`select owner from blob_keys where hash = ${a1.hash} order by owner`)).toEqual([
      'sub-a',
      'sub-b',
    ]);
    expect(filesUnder(files.dir)).toHaveLength(1);
  });

  it('two owners storing the same new value at once end with one key that opens it', async () => {
    const value = text('x'.repeat(100_000));
    const [a, b] = await Promise.all([store.put(value, 'sub-a'), store.put(value, 'sub-b')]);
    expect(a.hash).toBe(b.hash);
    expect(await store.get(a.hash)).toEqual(value);
    await store.destroyOwners(['sub-a']);
    expect(await store.get(a.hash)).toEqual(value);
  });

  it("destroying an owner's key leaves their own content unreadable and shared content readable", async () => {
    const mine = await store.put(text('only A has this'), 'sub-a');
    const shared = await store.put(text('A and B have this'), 'sub-a');
    await store.put(text('A and B have this'), 'sub-b');
    expect(await store.destroyOwners(['sub-a'])).toBe(1);
    expect(await store.get(mine.hash)).toBeUndefined();
    expect(new TextDecoder().decode(await store.get(shared.hash))).toBe('A and B have this');
    // Not even a fresh keyring with the master key gets it back.
    const again = new SealedBlobStore(files, db, new Keyring(db, master));
    expect(await again.get(mine.hash)).toBeUndefined();
    // Storing it again (another backup of the same content) seals it anew, readable again.
    await store.put(text('only A has this'), 'sub-c');
    expect(new TextDecoder().decode(await store.get(mine.hash))).toBe('only A has this');
  });

  it('an owner erased and then storing the same value again gets it sealed anew (nothing of the old key is reused)', async () => {
    const value = text('stored, erased, stored again');
    await store.put(value, 'sub-e');
    await store.put(value, 'sub-e');
    await store.destroyOwners(['sub-e']);
    const again = await store.put(value, 'sub-e');
    expect(await store.get(again.hash)).toEqual(value);
  });

  it('refuses an altered value with a clear error', async () => {
    const { hash } = await store.put(text('settings value'), 'sub-a');
    const file = path.join(files.dir, hash.slice(0, 2), hash.slice(2, 4), hash);
    const bytes = fs.readFileSync(file);
    bytes[bytes.length - 20]! ^= 1;
    fs.writeFileSync(file, bytes);
    await expect(store.get(hash)).rejects.toThrow(BlobStoreError);
    await expect(store.get(hash)).rejects.toThrow(/altered or damaged/);
  });

  it('a wrong master key is a clear error, not garbage', async () => {
    const { hash } = await store.put(text('settings value'), 'sub-a');
    const wrong = new SealedBlobStore(files, db, new Keyring(db, newKey()));
    await expect(wrong.get(hash)).rejects.toThrow(KeyError);
  });

  it('reads values written before encryption, and seals them when they are stored again', async () => {
    const value = text('written by an earlier version');
    const { hash } = await files.put(value);
    expect(await store.get(hash)).toEqual(value);
    await store.put(value, 'sub-a');
    expect(Buffer.from((await files.get(hash))!).includes(Buffer.from('earlier version'))).toBe(false);
    expect(await store.get(hash)).toEqual(value);
  });
});

describe('loadMasterKey', () => {
  it('takes the environment first, then a key file, else makes DATA_DIR/master.key once (mode 0600)', () => {
    const k = Buffer.from(newKey()).toString('base64');
    expect(Buffer.from(loadMasterKey({ REWIND_MASTER_KEY: k }, dir)).toString('base64')).toBe(k);
    const file = path.join(dir, 'key.txt');
    fs.writeFileSync(file, `${k}\n`);
    expect(Buffer.from(loadMasterKey({ REWIND_MASTER_KEY_FILE: file }, dir)).toString('base64')).toBe(k);
    const made = loadMasterKey({}, path.join(dir, 'data'));
    expect(loadMasterKey({}, path.join(dir, 'data'))).toEqual(made);
    expect(fs.statSync(path.join(dir, 'data', 'master.key')).mode & 0o777).toBe(0o600);
    expect(() => loadMasterKey({ REWIND_MASTER_KEY: 'c2hvcnQ=' }, dir)).toThrow(/32-byte key/);
    expect(() => loadMasterKey({ REWIND_MASTER_KEY_FILE: path.join(dir, 'missing') }, dir)).toThrow(/cannot be read/);
  });
});
