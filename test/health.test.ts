/** `/api/health` as a balancer reads it: ready only where the configuration is the deployment's, else 503 and why. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { GET } from '@/app/api/health/route';
import { createPush, createRawStore, setContext } from '@/lib/core/context';
import { establishDeployment } from '@/lib/core/deployment';
import { env, type Env } from '@/lib/core/env';
import { testDb } from '@/test/support/db';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-health-'));
let db: Db;
const settings = (over: Partial<Env>): Env => ({
  ...env(),
  DATA_DIR: dir,
  dataDir: dir,
  BLOB_STORE: undefined,
  ...over,
});
const key = randomBytes(32).toString('base64');

async function health(e: Env): Promise<{ status: number; body: { ok: boolean; reason?: string } }> {
  // Only what the route reads: the blob store is never opened by it.
  setContext({ db, env: e, push: createPush(e), blobs: undefined as never });
  const res = await GET();
  return { status: res.status, body: (await res.json()) as { ok: boolean; reason?: string } };
}

beforeAll(async () => {
  db = await testDb(dir);
});
afterAll(async () => {
  setContext(undefined);
  await closeDb(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

it('not ready before the identity is recorded, ready with the same configuration, 503 with the reason otherwise', async () => {
  const mine = settings({ REWIND_MASTER_KEY: key });
  expect(await health(mine)).toMatchObject({
    status: 503,
    body: { ok: false, reason: expect.stringContaining('not recorded') },
  });
  await establishDeployment(db, mine, () => createRawStore(mine));
  expect(await health(mine)).toEqual({ status: 200, body: { ok: true } });

  const otherKey = await health(settings({ REWIND_MASTER_KEY: randomBytes(32).toString('base64') }));
  expect(otherKey.status).toBe(503);
  expect(otherKey.body.reason).toMatch(/^REWIND_MASTER_KEY is not this deployment's master key/);

  const otherStore = await health(settings({ REWIND_MASTER_KEY: key, BLOB_STORE: 's3://another-bucket/x' }));
  expect(otherStore.status).toBe(503);
  expect(otherStore.body.reason).toBe(
    `BLOB_STORE is s3://another-bucket/x here; this deployment keeps content in files under ${path.join(dir, 'blobs')} (BLOB_STORE not set)`,
  );
});
