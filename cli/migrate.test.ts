/**
 * `rewind migrate packs` and `rewind migrate blobs` as an operator runs them: loose values of an older store moved into
 * packs, then the files under DATA_DIR copied to a real local S3 server, verified, resumable.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { createRawStore } from '@/lib/core/context';
import { Keyring, loadMasterKey } from '@/lib/backup/keyring';
import { PackStore } from '@/lib/backup/packs';
import { SealedBlobStore } from '@/lib/backup/sealed-store';
import { S3BlobStore, s3Client } from '@/lib/backup/s3-store';
import { verifySnapshot } from '@/lib/backup/verify';
import { provisionDevice } from '@/lib/devices/devices';
import { env } from '@/lib/core/env';
import { runCli } from '@/test/support/cli-run';
import { databaseEnv, testDb } from '@/test/support/db';
import { seedSnapshot } from '@/test/support/fixtures';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';

let dir: string;
let db: Db;
let s3: LocalS3;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-migrate-'));
  db = await testDb(dir);
  s3 = await startLocalS3();
});
afterAll(async () => {
  await closeDb(db);
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('copies every value, verifies it, and a second run finds them all there; the backups then verify from the bucket', async () => {
  const d = await provisionDevice(db, {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    devId: 'IMEI:356938035643813',
    subscriber: 'Mia Migrate',
    msisdn: '447700900126',
  });
  // A store from before packs: each value a loose file.
  const files = new SealedBlobStore(
    createRawStore({ ...env(), dataDir: dir }),
    db,
    new Keyring(db, loadMasterKey({}, dir)),
  );
  const snap = await seedSnapshot(db, files, d.id, {
    './Settings/Sounds/Ringer': { category: 'settings', value: '7' },
    './AppData/Ringtones/Bell': { category: 'appdata', value: new Uint8Array(200_000).fill(9), type: 'audio/mpeg' },
  });
  const { BLOB_STORE: _ignored, ...s3Settings } = s3.env;
  const settings = { ...s3Settings, ...databaseEnv(db) };
  const to = `s3://${s3.bucket}/moved`;

  const bad = await runCli(dir, ['migrate', 'blobs', '--to', 'https://elsewhere'], settings);
  expect(bad.code).toBe(2);

  const packed = await runCli(dir, ['migrate', 'packs'], settings);
  expect(packed.stderr).not.toContain('Error');
  expect(packed.code).toBe(0);
  expect(packed.stdout).toMatch(/3 loose value\(s\): 3 moved into packs .*, 0 no key opens .*, 0 failed/);
  expect(packed.stdout).toContain('every packed value read back with its SHA-256');
  const again = await runCli(dir, ['migrate', 'packs'], settings);
  expect(again.stdout).toMatch(/0 loose value\(s\): 0 moved/);
  const local = await runCli(dir, ['verify', snap.id], settings);
  expect(local.code).toBe(0);

  const first = await runCli(dir, ['migrate', 'blobs', '--to', to], settings);
  expect(first.stderr).not.toContain('Error');
  expect(first.code).toBe(0);
  expect(first.stdout).toMatch(/0 value\(s\) in the store: 0 copied/);
  expect(first.stdout).toMatch(/1 pack\(s\): 1 copied .*, 0 already there, 0 failed/);
  expect(first.stdout).toContain(`BLOB_STORE=${to}`);

  // The deployment's content is in the bucket now: a command still configured for the files is refused.
  const second = await runCli(dir, ['migrate', 'blobs', '--to', to], settings);
  expect(second.code).toBe(1);
  expect(second.stderr).toContain(`BLOB_STORE is not set here; this deployment keeps content in ${to}`);
  const there = await runCli(dir, ['verify', snap.id], { ...settings, BLOB_STORE: to });
  expect(there.stderr).not.toMatch(/damaged|missing|refused/i);
  expect(there.code).toBe(0);

  const bucket = new S3BlobStore(
    s3Client({ endpoint: s3.endpoint, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true }),
    { bucket: s3.bucket, prefix: 'moved/' },
  );
  const sealed = new SealedBlobStore(bucket, db, new Keyring(db, loadMasterKey({}, dir)), PackStore.beside(bucket));
  expect(await verifySnapshot(db, sealed, snap.id)).toMatchObject({ ok: true, checked: 2 });
}, 120_000);
