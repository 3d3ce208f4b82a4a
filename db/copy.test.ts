/**
 * Moving a deployment's database (db/copy.ts): an embedded SQLite deployment with handsets,
 * subscribers, sealed backups and an audit trail, copied into an empty database (PostgreSQL in
 * the PostgreSQL pass, another SQLite otherwise) and verified; then the copy serves what the
 * original did: the same search hits, and the backups open with the keys that moved with it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, sql } from 'drizzle-orm';
import { closeDb, openDb, schema, type Db } from './client';
import { copyDatabase, describeTable, TargetNotEmptyError } from './copy';
import { exec } from './sql';
import { insertAudit } from './queries/audit';
import { searchSubscribers } from './queries/search';
import { seedDevices } from '../sim/seed';
import { FileBlobStore } from '../lib/backup/blob-store';
import { Keyring } from '../lib/backup/keyring';
import { SealedBlobStore, deviceKeyOwner } from '../lib/backup/sealed-store';
import { decodeManifest } from '../lib/backup/manifest';
import { BEFORE, seedSnapshot } from '../test/support/fixtures';
import { testDb } from '../test/support/db';

const master = new Uint8Array(32).fill(7);

describe('copying a deployment to another database', () => {
  let dir: string;
  let from: Db;
  let to: Db;
  let raw: FileBlobStore;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-copy-'));
    from = openDb(path.join(dir, 'rewind.db'));
    raw = new FileBlobStore(path.join(dir, 'blobs'));
    await seedDevices(from, 1_200, { seed: 3 });
    const sealed = new SealedBlobStore(raw, from, new Keyring(from, master));
    const handsets = await from.select().from(schema.devices).limit(3);
    for (const d of handsets) await seedSnapshot(from, sealed, d.id, BEFORE);
    await insertAudit(from, { actor: 'cli', action: 'test.seeded', details: { handsets: handsets.length } });
    to = await testDb();
  });
  afterAll(async () => {
    await closeDb(from);
    await closeDb(to);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('copies every table, verified by counts and digests', async () => {
    const seen = new Set<string>();
    const r = await copyDatabase(from, to, { onProgress: (t) => seen.add(t) });
    expect(r.mismatched).toEqual([]);
    expect(r.tables.find((t) => t.table === 'devices')?.rows).toBe(1_200);
    expect(r.tables.find((t) => t.table === 'snapshots')?.rows).toBe(3);
    expect(r.tables.find((t) => t.table === 'blob_keys')!.rows).toBeGreaterThan(0);
    expect(r.tables.find((t) => t.table === 'search_terms')!.rows).toBeGreaterThan(1_200);
    expect(seen.size).toBe(r.tables.length);
    // Parents before children: subscribers before the handsets that point to them.
    const order = r.tables.map((t) => t.table);
    expect(order.indexOf('subscribers')).toBeLessThan(order.indexOf('devices'));
    expect(order.indexOf('devices')).toBeLessThan(order.indexOf('snapshots'));
  });

  it('serves the same answers from the copy', async () => {
    const some = (await from.select().from(schema.msisdns).limit(1))[0]!;
    for (const q of [some.msisdn.slice(-6), 'a', 'IMEI']) {
      expect(await searchSubscribers(to, q)).toEqual(await searchSubscribers(from, q));
    }
    // A backup sealed on the old database opens with the keys that moved.
    const sealed = new SealedBlobStore(raw, to, new Keyring(to, master));
    const snap = (await to.select().from(schema.snapshots).where(eq(schema.snapshots.status, 'complete')).limit(1))[0]!;
    const { entries } = decodeManifest((await sealed.get(snap.rootHash!))!);
    const lang = entries.find((e) => e.path === './DevInfo/Lang')!;
    expect(new TextDecoder().decode((await sealed.get(lang.hash!))!)).toBe('en-GB');
    expect(await deviceKeyOwner(to, snap.deviceId)).toBe(await deviceKeyOwner(from, snap.deviceId));
  });

  it('sees a row that differs, and refuses to copy into a database that holds data', async () => {
    const before = await describeTable(to, schema.subscribers);
    const one = (await to.select().from(schema.subscribers).limit(1))[0]!;
    await exec(to, sql`update subscribers set name = ${one.name + ' (edited)'} where id = ${one.id}`);
    const after = await describeTable(to, schema.subscribers);
    expect(after.rows).toBe(before.rows);
    expect(after.digest).not.toBe(before.digest);
    await expect(copyDatabase(from, to)).rejects.toBeInstanceOf(TargetNotEmptyError);
  });
});
