/** `rewind group …` and `rewind policy …` as a user runs them: a real process over a database of its own. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { insertPolicy, setAssignment } from '@/db/queries/policies';
import { provisionDevice } from '@/lib/devices/devices';
import { databaseEnv, testDb } from '@/test/support/db';
import { runCli } from '@/test/support/cli-run';

let dir: string;
let db: Db;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-groups-cli-'));
  db = await testDb(dir);
  for (let i = 0; i < 3; i++)
    await provisionDevice(db, {
      devId: `IMEI:35693803562${String(i).padStart(4, '0')}`,
      manufacturer: 'Nimbus',
      model: 'N1',
      firmware: `1.${i * 5}`,
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'p',
      serverPass: 's',
    });
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

it('adds a rule group, imports a list, lists and deletes them, deletes a policy; bad arguments exit 2, a failed operation 1', async () => {
  const run = (args: string[]) => runCli(dir, args, databaseEnv(db));
  const added = await run(['group', 'add', '--name', 'old-n1', '--model', 'N1', '--firmware-to', '1.5']);
  expect(added.code).toBe(0);
  expect(added.stdout).toContain('group old-n1: N1, firmware up to 1.5; 2 handsets match now');
  expect((await run(['group', 'add', '--name', 'empty'])).code).toBe(2); // a rule needs a condition
  expect((await run(['group', 'add', '--name', 'old-n1', '--model', 'N1'])).code).toBe(1); // taken

  const file = path.join(dir, 'members.csv');
  fs.writeFileSync(file, 'devId\nIMEI:356938035620002\n356938035620001\nIMEI:999\n');
  const imported = await run(['group', 'import', '--name', 'vip', '--file', file, '--priority', '5', '--json']);
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.stdout)).toMatchObject({ group: 'vip', added: 2, members: 2, unknown: ['IMEI:999'] });
  expect((await run(['group', 'import', '--name', 'vip', '--file', path.join(dir, 'none.csv')])).code).toBe(2);

  const listed = JSON.parse((await run(['group', 'list', '--json'])).stdout) as {
    groups: Array<{ name: string; matches: number }>;
  };
  expect(listed.groups.map((g) => `${g.name}:${g.matches}`)).toEqual(['vip:2', 'old-n1:2']);

  const p = await insertPolicy(db, { name: 'Trial', categories: '["settings"]', intervalMinutes: 60, retention: '{}' });
  await setAssignment(db, 'group', 'vip', p.id);
  const gone = await run(['group', 'delete', 'vip']);
  expect(gone.stdout).toContain('group vip deleted; its handsets no longer follow Trial');
  expect((await run(['group', 'delete', 'vip'])).code).toBe(1);

  await setAssignment(db, 'group', 'old-n1', p.id);
  const deleted = await run(['policy', 'delete', 'Trial']);
  expect(deleted.code).toBe(0);
  expect(deleted.stdout).toContain('policy Trial deleted: 1 assignment removed');
  expect((await run(['policy', 'delete', 'Standard'])).code).toBe(1); // the default
  expect((await run(['policy', 'delete'])).code).toBe(2);
  const policies = await run(['policy', 'list']);
  expect(policies.stdout).toContain('Standard (default)');
}, 300_000);
