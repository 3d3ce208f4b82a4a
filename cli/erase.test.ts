/** `rewind subscriber erase` as an operator runs it: a real process over a DATA_DIR of its own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { listAudit } from '@/db/queries/audit';
import { getContentKey } from '@/db/queries/content-keys';
import { getSubscriber } from '@/db/queries/subscribers';
import { createBlobStore } from '@/lib/core/context';
import { provisionDevice } from '@/lib/devices/devices';
import { env } from '@/lib/core/env';
import { seedSnapshot } from '@/test/support/fixtures';
import { runCli } from '@/test/support/cli-run';
import { databaseEnv, testDb } from '@/test/support/db';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-erase-'));
  db = await testDb(dir);
});
afterAll(async () => {
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('asks for --yes, then erases the subscriber, destroys their key and audits it', async () => {
  const d = await provisionDevice(db, {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    devId: 'IMEI:356938035643811',
    subscriber: 'Alan Turing',
    msisdn: '447700900125',
  });
  await seedSnapshot(db, createBlobStore({ ...env(), dataDir: dir }, db), d.id, {
    './Settings/Sounds/Ringer': { category: 'settings', value: '7' },
  });
  const sub = d.subscriberId!;
  expect(await getContentKey(db, sub)).toBeDefined();

  const asked = await runCli(dir, ['subscriber', 'erase', sub], databaseEnv(db));
  expect(asked.code).toBe(2);
  expect(asked.stderr).toContain('--yes');
  expect(await getSubscriber(db, sub)).toBeDefined();

  const r = await runCli(dir, ['subscriber', 'erase', sub, '--yes'], databaseEnv(db));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout).toContain('1 handset(s), 1 backup(s)');
  expect(await getSubscriber(db, sub)).toBeUndefined();
  expect(await getContentKey(db, sub)).toBeUndefined();
  expect((await listAudit(db, { action: 'subscriber.erased' }))[0]).toMatchObject({ actor: 'cli' });

  expect((await runCli(dir, ['subscriber', 'erase', sub, '--yes'], databaseEnv(db))).stderr).toContain(
    `no subscriber ${sub}`,
  );
});
