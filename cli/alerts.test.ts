/** `rewind webhook …` and `rewind alerts` as a user runs them: real processes over a DATA_DIR, a real receiver. */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { insertAlert } from '@/db/queries/alerts';
import { databaseEnv, testDb } from '@/test/support/db';
import { runCli } from '@/test/support/cli-run';

let dir: string;
let db: Db;
let receiver: http.Server;
let url: string;
const bodies: string[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-alerts-'));
  db = await testDb(dir);
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  if (db) await closeDb(db);
  await new Promise((r) => receiver?.close(r));
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const rewind = (args: string[]) => runCli(dir, args, databaseEnv(db));

it('adds, lists, tests and removes a webhook; bad arguments exit 2, an unknown webhook 1', async () => {
  const add = await rewind(['webhook', 'add', '--url', url, '--events', 'backup.failed,restore.failed', '--json']);
  expect(add.code, add.stderr).toBe(0);
  const { webhook, secret } = JSON.parse(add.stdout) as { webhook: { id: string }; secret: string };
  expect(secret).toMatch(/^whsec_/);
  const list = await rewind(['webhook', 'list', '--json']);
  expect(JSON.parse(list.stdout)).toEqual({
    webhooks: [expect.objectContaining({ id: webhook.id, url, events: ['backup.failed', 'restore.failed'] })],
  });
  const test = await rewind(['webhook', 'test', webhook.id]);
  expect(test.code, test.stderr).toBe(0);
  expect(JSON.parse(bodies.at(-1)!)).toMatchObject({ event: 'webhook.test' });

  expect((await rewind(['webhook', 'add', '--url', url, '--events', 'backup.exploded'])).code).toBe(2);
  expect((await rewind(['webhook', 'add', '--url', 'not a url', '--events', 'backup.failed'])).code).toBe(2);
  expect((await rewind(['webhook', 'add', '--events', 'backup.failed'])).code).toBe(2);
  expect((await rewind(['webhook', 'remove'])).code).toBe(2);
  expect((await rewind(['webhook', 'remove', 'no-such-webhook'])).code).toBe(1);
  expect((await rewind(['webhook', 'remove', webhook.id])).code).toBe(0);
  expect(JSON.parse((await rewind(['webhook', 'list', '--json'])).stdout)).toEqual({ webhooks: [] });
}, 120_000);

it('lists unresolved alerts, as a table or JSON', async () => {
  await insertAlert(db, {
    kind: 'restore-failed',
    conditionKey: 'restore-failed:job-1',
    deviceId: null,
    message: 'A restore failed: the handset answered 500.',
    details: '{}',
    raisedAt: Date.now(),
  });
  const text = await rewind(['alerts']);
  expect(text.code, text.stderr).toBe(0);
  expect(text.stdout).toContain('1 unresolved');
  expect(text.stdout).toContain('A restore failed: the handset answered 500.');
  const json = JSON.parse((await rewind(['alerts', '--json'])).stdout) as { alerts: Array<{ kind: string }> };
  expect(json.alerts.map((a) => a.kind)).toEqual(['restore-failed']);
  expect((await rewind(['alerts', '--status', 'sideways'])).code).toBe(2);
}, 120_000);
