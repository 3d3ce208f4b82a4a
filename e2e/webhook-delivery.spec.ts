/**
 * A failed backup reaches a webhook receiver: a receiver started by the spec on 127.0.0.1 is
 * registered through the API for `backup.failed`; a virtual handset's backup fails in its real
 * DM session (its data key was made under another master key, so it does not open: the fault
 * injected); the receiver gets the signed event, answers 500 the first time, and gets the same
 * delivery again after the retry's backoff, which it takes.
 */
import { execFileSync } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { apiToken, rewind, simHandsets } from './support';

const SEED = 4711;

interface Received {
  answered: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const received: Received[] = [];
let receiver: http.Server | undefined;
test.afterAll(async () => {
  await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
});

/** The fault: the handset's data key made now under a master key that is not the server's. */
function breakDataKey(devId: string): void {
  const script = `
    import { openAppContext } from './lib/core/context';
    import { env } from './lib/core/env';
    import { getDeviceByDevId } from './db/queries/devices';
    import { keyOwner } from './lib/backup/blob-store';
    import { Keyring, newKey } from './lib/backup/keyring';
    void (async () => {
      const ctx = await openAppContext(env());
      const device = await getDeviceByDevId(ctx.db, ${JSON.stringify(devId)});
      await new Keyring(ctx.db, newKey()).dataKey(keyOwner(device!));
      process.exit(0);
    })();`;
  execFileSync(path.resolve('node_modules/.bin/tsx'), ['--eval', script], {
    env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, LOG_LEVEL: 'silent' },
    timeout: 60_000,
  });
}

test('a failed backup is delivered to a webhook, signed, and again after the receiver answered 500', async ({
  request,
}, testInfo) => {
  test.setTimeout(180_000);
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answered = received.length === 0 ? 500 : 204;
      received.push({ answered, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/rewind-hook`;

  const added = await request.post('/api/v1/webhooks', {
    headers: { authorization: `Bearer ${apiToken()}` },
    data: { url, events: ['backup.failed'] },
  });
  expect(added.status()).toBe(201);
  const { secret } = (await added.json()) as { secret: string };

  const [devId] = simHandsets(testInfo, { devices: 1, seed: SEED });
  breakDataKey(devId!);
  rewind(['backup', devId!]);
  // The handset's next session runs the backup, which fails there.
  simHandsets(testInfo, { devices: 1, seed: SEED });
  const jobs = JSON.parse(rewind(['jobs', devId!, '--json'])) as Array<{ kind: string; status: string }>;
  expect(jobs.find((j) => j.kind === 'backup')?.status).toBe('failed');

  // The first delivery within a pass (every 5 s), answered 500; the retry 30 s later, taken.
  await expect.poll(() => received.length, { timeout: 120_000, intervals: [1000] }).toBeGreaterThanOrEqual(2);
  expect(received.map((r) => r.answered)).toEqual([500, 204]);
  const [first, retry] = received as [Received, Received];
  expect(retry.body).toBe(first.body);
  expect(retry.headers['x-rewind-delivery']).toBe(first.headers['x-rewind-delivery']);
  for (const r of received) {
    expect(r.headers['x-rewind-event']).toBe('backup.failed');
    // Verified as a receiver would: the HMAC of the raw body under the secret, compared in constant time.
    const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`);
    const got = Buffer.from(String(r.headers['x-rewind-signature'] ?? ''));
    expect(got.length === want.length && timingSafeEqual(got, want)).toBe(true);
  }
  const event = JSON.parse(first.body) as {
    event: string;
    data: { device: { devId: string }; job: { status: string } };
  };
  expect(event).toMatchObject({ event: 'backup.failed', data: { device: { devId }, job: { status: 'failed' } } });
});
