/** Leases between two connections to one database, as two server processes hold them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, openDb, openPgDb, type Db } from '../client';
import { databaseEnv, testDb } from '../../test/support/db';
import { acquireLease, dropExpiredLeases, releaseLease } from './leases';

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

it("a stopped process's heartbeat is dropped once expired long enough; live ones and other leases stay", async () => {
  const t = 3_000_000;
  await acquireLease(a, 'process:gone', 'gone', 1_000, t);
  await acquireLease(a, 'process:live', 'live', 1_000, t + 5_000);
  await acquireLease(a, 'other', 'x', 1_000, t);
  expect(await dropExpiredLeases(b, 'process:', t + 1_500)).toBe(1);
  expect(await acquireLease(b, 'process:live', 'someone', 1_000, t + 5_500)).toBe(false);
  expect(await dropExpiredLeases(b, 'other', t + 1_500)).toBe(1); // the prefix's only: this one was still there
});
