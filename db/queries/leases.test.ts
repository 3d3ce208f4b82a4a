/** Leases between two connections to one database, as two server processes hold them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, openDb, openPgDb, type Db } from '../client';
import { databaseEnv, testDb } from '../../test/support/db';
import { acquireLease, releaseLease } from './leases';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-leases-'));
let a: Db;
let b: Db;
beforeAll(async () => {
  a = await testDb(dir);
  // The second connection to the same database: the same SQLite file, or the same PostgreSQL database.
  const url = databaseEnv(a).DATABASE_URL;
  b = url ? openPgDb(url, { max: 2 }) : openDb(path.join(dir, 'rewind.db'));
});
afterAll(async () => {
  await closeDb(a);
  await closeDb(b);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('one holder at a time; renewed by its holder; taken over once expired or released', async () => {
  const t = 1_000_000;
  expect(await acquireLease(a, 'scheduler', 'proc-a', 90_000, t)).toBe(true);
  expect(await acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 1)).toBe(false);
  expect(await acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 60_000)).toBe(true); // renewed until t + 150 s
  expect(await acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 120_000)).toBe(false);
  expect(await acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 150_001)).toBe(true); // proc-a stopped renewing
  expect(await acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_002)).toBe(false);
  // Other names are other leases.
  expect(await acquireLease(a, 'gc', 'proc-a', 90_000, t + 150_003)).toBe(true);
  await releaseLease(b, 'scheduler', 'proc-a'); // not its holder's: nothing happens
  expect(await acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_004)).toBe(false);
  await releaseLease(b, 'scheduler', 'proc-b');
  expect(await acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_005)).toBe(true);
});

it('of several processes asking at once, exactly one gets it', async () => {
  const t = 2_000_000;
  const got = await Promise.all([
    acquireLease(a, 'race', 'proc-a', 90_000, t),
    acquireLease(b, 'race', 'proc-b', 90_000, t),
  ]);
  expect(got.filter(Boolean)).toHaveLength(1);
});
