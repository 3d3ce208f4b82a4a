/**
 * Moving an embedded deployment to PostgreSQL and an object store as an operator does it: the
 * real CLI copies the SQLite database of a DATA_DIR into an empty PostgreSQL database and the
 * blob store into a bucket, each verified; then the CLI, pointed at both, verifies the backups
 * that were taken before the move. Run by the PostgreSQL pass (vitest.pg.config.mts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, dbFile, openDb, type Db } from '@/db/client';
import { createBlobStore } from '@/lib/core/context';
import { provisionDevice } from '@/lib/devices/devices';
import { env } from '@/lib/core/env';
import { runCli } from '@/test/support/cli-run';
import { freshPgUrl } from '@/test/support/db';
import { seedSnapshot, BEFORE } from '@/test/support/fixtures';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';

let dir: string;
let db: Db;
let s3: LocalS3;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-migrate-db-'));
  db = openDb(dbFile(dir)); // the source is always the embedded SQLite of a DATA_DIR
  s3 = await startLocalS3();
});
afterAll(async () => {
  await closeDb(db);
  await s3.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('copies the database and the content, verifies both, and the backups verify from PostgreSQL and the bucket', async () => {
  const files = createBlobStore({ ...env(), dataDir: dir }, db);
  const ids: string[] = [];
  for (const [i, name] of ['Mia Migrate', 'Noah Move'].entries()) {
    const d = await provisionDevice(db, {
      manufacturer: 'Nimbus',
      model: 'N1',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'p',
      serverPass: 's',
      devId: `IMEI:35693803564381${i}`,
      subscriber: name,
      msisdn: `44770090012${i}`,
    });
    ids.push((await seedSnapshot(db, files, d.id, BEFORE)).id);
  }
  const url = await freshPgUrl();
  const { BLOB_STORE: bucket, ...s3Settings } = s3.env;

  const bad = await runCli(dir, ['migrate', 'database', '--to', 'mysql://elsewhere/db']);
  expect(bad.code).toBe(2);

  const moved = await runCli(dir, ['migrate', 'database', '--to', url]);
  expect(moved.stderr).not.toContain('Error');
  expect(moved.code).toBe(0);
  expect(moved.stdout).toMatch(/\d+ row\(s\) in \d+ tables copied/);
  expect(moved.stdout).toContain('every table read back identical');
  expect(moved.stderr).toMatch(/snapshots: 2\/2 rows/);

  // Into a database that now holds data: refused, nothing merged.
  const again = await runCli(dir, ['migrate', 'database', '--to', url]);
  expect(again.code).toBe(2);
  expect(again.stderr).toMatch(/already holds data/);

  const blobs = await runCli(dir, ['migrate', 'blobs', '--to', bucket!], s3Settings);
  expect(blobs.code).toBe(0);

  // The CLI on PostgreSQL and the bucket, with the same master key (DATA_DIR/master.key).
  const there = { ...s3.env, DATABASE_URL: url };
  for (const id of ids) {
    const v = await runCli(dir, ['verify', id], there);
    expect(v.stderr).not.toMatch(/error|damaged|missing/i);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain(id);
  }
  const list = await runCli(dir, ['snapshots', 'IMEI:356938035643811', '--json'], there);
  expect(list.code).toBe(0);
  expect((JSON.parse(list.stdout) as { id: string }[]).map((s) => s.id)).toEqual([ids[1]]);
}, 240_000);
