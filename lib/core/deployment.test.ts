/**
 * One deployment, one configuration: a real server process records the deployment's identity;
 * a server process or a command with another master key or another blob store is refused
 * before it writes anything, with the setting that differs; `rewind config check` says the
 * same. On SQLite the deployment is a DATA_DIR with files; in the PostgreSQL pass it is a
 * PostgreSQL database and a bucket, and the processes' DATA_DIRs are their own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { exec } from '@/db/sql';
import { sql } from 'drizzle-orm';
import { getDeployment } from '@/db/queries/deployment';
import { provisionDevice } from '@/lib/devices/devices';
import { runCli } from '@/test/support/cli-run';
import { databaseEnv, testDb, testingPg } from '@/test/support/db';
import { seedSnapshot, BEFORE } from '@/test/support/fixtures';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { spawnChildServer } from '@/test/support/child-server';
import { createBlobStore } from './context';
import { env } from './env';
import { keyFingerprint } from '../backup/keyring';

const key = randomBytes(32).toString('base64');
const otherKey = randomBytes(32).toString('base64');
const dirs: string[] = [];
const tmp = (name: string) => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `rewind-deploy-${name}-`));
  dirs.push(d);
  return d;
};
let dataDir: string;
let db: Db;
let s3: LocalS3 | undefined;
/** A bucket that is not the deployment's store. */
let bucket: LocalS3;
/** What every process of the deployment is started with. */
let deploymentEnv: Record<string, string>;

beforeAll(async () => {
  dataDir = tmp('data');
  db = await testDb(dataDir);
  bucket = await startLocalS3({ bucket: 'not-this-deployment' });
  if (testingPg()) s3 = await startLocalS3();
  deploymentEnv = { ...databaseEnv(db), ...s3?.env, REWIND_MASTER_KEY: key };
}, 60_000);
afterAll(async () => {
  await closeDb(db);
  await s3?.close();
  await bucket.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Every file and folder under `dir`, to show a refused process wrote nothing. */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

/** Where another process of the deployment runs: on PostgreSQL a machine of its own, on SQLite the same DATA_DIR. */
const elsewhere = () => (testingPg() ? path.join(tmp('other'), 'data') : dataDir);

it('the first server records the identity; another key or another blob store is refused before anything is written', async () => {
  const first = await spawnChildServer({ dataDir, env: deploymentEnv });
  await first.stop();
  const identity = (await getDeployment(db))!;
  expect(identity).toMatchObject({
    keyFingerprint: keyFingerprint(Buffer.from(key, 'base64')),
    ...(s3
      ? { blobStore: 's3', blobBucket: s3.bucket, blobPrefix: 'blobs/' }
      : { blobStore: 'file', blobDir: path.join(dataDir, 'blobs') }),
  });
  expect(JSON.stringify(identity)).not.toContain(key);

  const same = await runCli(elsewhere(), ['config', 'check'], deploymentEnv);
  expect(same.stdout).toMatch(/blob store +.*same/);
  expect(same.stdout).toMatch(/master key +REWIND_MASTER_KEY, fingerprint \w+ +fingerprint \w+ +same/);
  expect(same.code).toBe(0);

  // Another master key: the server exits 1 with the reason, before it listens.
  const before = tree(dataDir);
  const where = elsewhere();
  await expect(
    spawnChildServer({ dataDir: where, env: { ...deploymentEnv, REWIND_MASTER_KEY: otherKey } }),
  ).rejects.toThrow(
    /exited \(1\)[\s\S]*REWIND_MASTER_KEY is not this deployment's master key: its fingerprint is \w+, the deployment's is \w+/,
  );
  // A command with the key missing altogether: it makes no DATA_DIR/master.key.
  const { REWIND_MASTER_KEY: _k, ...keyless } = deploymentEnv;
  const noKey = await runCli(where, ['verify', '--all'], keyless);
  expect(noKey.stderr).toMatch(/no master key here: REWIND_MASTER_KEY and REWIND_MASTER_KEY_FILE are not set/);
  expect(noKey.code).toBe(1);

  // Another blob store: the operator's everyday mistakes.
  const { BLOB_STORE: _b, ...filesOnly } = deploymentEnv;
  const wrongStore = s3 ? filesOnly : { ...deploymentEnv, BLOB_STORE: 's3://elsewhere/rewind' };
  const verify = await runCli(where, ['verify', '--all'], wrongStore);
  expect(verify.stderr).toContain(
    s3
      ? `BLOB_STORE is not set here; this deployment keeps content in s3://${s3.bucket}/blobs`
      : `BLOB_STORE is s3://elsewhere/rewind here; this deployment keeps content in files under ${path.join(dataDir, 'blobs')}`,
  );
  expect(verify.stdout).not.toMatch(/DAMAGED/);
  expect(verify.code).toBe(1);
  const check = await runCli(where, ['config', 'check'], wrongStore);
  expect(check.stdout).toMatch(/blob store .* DIFFERS/);
  expect(check.stdout).toContain('refused: BLOB_STORE');
  expect(check.code).toBe(1);

  // Nothing written: no key file, no blobs folder, no new file in the deployment's DATA_DIR
  // (on PostgreSQL, no DATA_DIR at all where the refused processes ran).
  if (testingPg()) expect(tree(where)).toEqual([]);
  expect(tree(dataDir).filter((f) => !/rewind\.db(-wal|-shm)?$/.test(f))).toEqual(
    before.filter((f) => !/rewind\.db(-wal|-shm)?$/.test(f)),
  );
  expect((await getDeployment(db))!).toEqual(identity);
}, 120_000);

it('a deployment from before the identity was kept gets it at its next start, only from a configuration that opens its keys and finds its backups', async () => {
  // A backup taken with the deployment's key and store, then the identity row gone.
  const e = { ...env(), ...deploymentEnv, DATA_DIR: dataDir, dataDir };
  const d = await provisionDevice(db, {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    devId: 'IMEI:356938035649001',
    subscriber: 'Ida Identity',
    msisdn: '447700900901',
  });
  await seedSnapshot(db, createBlobStore(e, db, Buffer.from(key, 'base64')), d.id, BEFORE);
  await exec(db, sql`delete from deployment`);

  const where = elsewhere();
  const wrongKey = await runCli(where, ['verify', '--all'], { ...deploymentEnv, REWIND_MASTER_KEY: otherKey });
  expect(wrongKey.stderr).toContain(
    "REWIND_MASTER_KEY does not open this deployment's data keys: it is not the master key its backups were written with",
  );
  expect(wrongKey.code).toBe(1);
  // On PostgreSQL, BLOB_STORE forgotten; on SQLite, a bucket that holds none of it.
  const { BLOB_STORE: _b, ...filesOnly } = deploymentEnv;
  const wrongStore = await runCli(
    where,
    ['verify', '--all'],
    testingPg() ? filesOnly : { ...deploymentEnv, ...bucket.env, BLOB_STORE: `s3://${bucket.bucket}/elsewhere` },
  );
  expect(wrongStore.stderr).toContain(
    testingPg()
      ? `this deployment's newest backup is not in files under ${path.join(where, 'blobs')} (BLOB_STORE is not set here)`
      : `this deployment's newest backup is not in s3://${bucket.bucket}/elsewhere`,
  );
  expect(wrongStore.code).toBe(1);
  expect(await getDeployment(db)).toBeUndefined();
  if (testingPg()) expect(tree(where)).toEqual([]);

  const right = await runCli(where, ['verify', '--all'], deploymentEnv);
  expect(right.stdout).not.toMatch(/DAMAGED/);
  expect(right.code).toBe(0);
  expect((await getDeployment(db))?.keyFingerprint).toBe(keyFingerprint(Buffer.from(key, 'base64')));
}, 120_000);
