/** `rewind firmware search` as a user runs it: a real process over a database of its own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { upsertDevice } from '@/db/queries/devices';
import { noteFirmware } from '@/db/queries/firmware-runs';
import { databaseEnv, testDb } from '@/test/support/db';
import { runCli } from '@/test/support/cli-run';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-fwsearch-'));
  db = await testDb(dir);
  const account = {
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientDerived: 'x',
    serverAuth: 'md5',
    serverDerived: 'y',
  } as const;
  const d = await upsertDevice(
    db,
    { devId: 'IMEI:356938035643809', model: 'N2', manufacturer: 'Nimbus', ...account },
    { subscriberName: 'Ada Lovelace' },
  );
  await noteFirmware(db, d.id, '1.0.3', Date.parse('2026-03-01T10:00:00Z'));
  await noteFirmware(db, d.id, '1.0.3', Date.parse('2026-03-20T10:00:00Z'));
  await noteFirmware(db, d.id, '1.1.0', Date.parse('2026-03-21T10:00:00Z'));
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('lists the handsets that ran a version between two days, and refuses dates in the wrong order', async () => {
  const run = (args: string[]) => runCli(dir, ['firmware', 'search', ...args], databaseEnv(db));
  const found = await run(['1.0.3', '--from', '2026-03-10', '--to', '2026-03-11']);
  expect(found.code).toBe(0);
  expect(found.stdout).toMatch(
    /IMEI:356938035643809\s+Nimbus N2\s+Ada Lovelace\s+2026-03-01 10:00:00Z\s+2026-03-20 10:00:00Z\s+none/,
  );
  const json = JSON.parse((await run(['1.0.3', '--from', '2026-03-10', '--to', '2026-03-11', '--json'])).stdout) as {
    hits: Array<{ devId: string }>;
  };
  expect(json.hits.map((h) => h.devId)).toEqual(['IMEI:356938035643809']);
  expect((await run(['1.0.3', '--from', '2026-03-22', '--to', '2026-04-01'])).stdout).toMatch(
    /^no handset reported 1\.0\.3/,
  );
  const wrong = await run(['1.0.3', '--from', '2026-04-01', '--to', '2026-03-01']);
  expect(wrong.code).toBe(2);
  expect(wrong.stderr).toMatch(/the first day must not be after the last/);
});
