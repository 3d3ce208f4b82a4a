/** Leases between two connections to one database file, as two server processes hold them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openDb } from '../client';
import { acquireLease, releaseLease } from './leases';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-leases-'));
const file = path.join(dir, 'rewind.db');
const a = openDb(file);
const b = openDb(file);
afterAll(() => {
  a.$client.close();
  b.$client.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

it('one holder at a time; renewed by its holder; taken over once expired or released', () => {
  const t = 1_000_000;
  expect(acquireLease(a, 'scheduler', 'proc-a', 90_000, t)).toBe(true);
  expect(acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 1)).toBe(false);
  expect(acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 60_000)).toBe(true); // renewed until t + 150 s
  expect(acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 120_000)).toBe(false);
  expect(acquireLease(b, 'scheduler', 'proc-b', 90_000, t + 150_001)).toBe(true); // proc-a stopped renewing
  expect(acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_002)).toBe(false);
  // Other names are other leases.
  expect(acquireLease(a, 'gc', 'proc-a', 90_000, t + 150_003)).toBe(true);
  releaseLease(b, 'scheduler', 'proc-a'); // not its holder's: nothing happens
  expect(acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_004)).toBe(false);
  releaseLease(b, 'scheduler', 'proc-b');
  expect(acquireLease(a, 'scheduler', 'proc-a', 90_000, t + 150_005)).toBe(true);
});
