/** `rewind bulk …` as a user runs it: a real process over a database of its own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { updateDevice } from '@/db/queries/devices';
import { provisionDevice } from '@/lib/devices/devices';
import { databaseEnv, testDb } from '@/test/support/db';
import { runCli } from '@/test/support/cli-run';

let dir: string;
let db: Db;
const DAY = 86_400_000;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bulk-cli-'));
  db = await testDb(dir);
  for (let i = 0; i < 4; i++) {
    const d = await provisionDevice(db, {
      devId: `IMEI:35693803562${String(i).padStart(4, '0')}`,
      manufacturer: 'Nimbus',
      model: i < 3 ? 'N1' : 'N2',
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'p',
      serverPass: 's',
    });
    await updateDevice(db, d.id, { lastGoodBackupAt: i === 0 ? Date.now() - DAY : null });
  }
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('counts, orders, reports and cancels a bulk backup of a filter; bad arguments exit 2, a failed operation 1', async () => {
  const run = (args: string[]) => runCli(dir, ['bulk', ...args], databaseEnv(db));
  const dry = await run(['backup', '--model', 'N1', '--no-backup-days', '7', '--dry-run']);
  expect(dry.code).toBe(0);
  expect(dry.stdout.trim()).toBe('Back up now: 2 handsets.');

  const ordered = await run(['backup', '--model', 'N1', '--no-backup-days', '7', '--json']);
  expect(ordered.code).toBe(0);
  const op = JSON.parse(ordered.stdout) as { id: string; total: number; status: string };
  expect(op).toMatchObject({ total: 2, status: 'queued' });

  const status = await run(['status', op.id]);
  expect(status.code).toBe(0);
  expect(status.stdout).toContain(`bulk operation ${op.id} (queued)`);
  expect(status.stdout).toContain('Back up now: Waiting to start on 2 handsets');

  const cancelled = await run(['cancel', op.id]);
  expect(cancelled.code).toBe(0);
  expect(cancelled.stdout).toContain('(cancelled)');
  expect((await run(['cancel', op.id])).code).toBe(1);

  expect((await run(['backup'])).code).toBe(2); // no filter, no --devices, no --all
  expect((await run(['backup', '--model', 'N1', '--devices', 'x'])).code).toBe(2);
  expect((await run(['assign-policy', '--all'])).code).toBe(2); // no --policy
  expect((await run(['status'])).code).toBe(2);
  expect((await run(['status', 'nope'])).code).toBe(1);
  const none = await run(['backup', '--model', 'K7']);
  expect(none.code).toBe(1);
  expect(none.stderr).toMatch(/No handset matches/);
}, 240_000);
