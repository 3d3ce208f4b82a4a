/**
 * Three server processes on three ports over one database and one blob store, and a fleet of
 * virtual handsets whose every message goes to the next process in turn (round robin, as a
 * load balancer without affinity would send them): each message of a session may land on a
 * different process. Every backup and every restore completes exactly once, with content
 * identical to what a single process stores for the same handsets.
 *
 * SQLite in WAL mode and files under DATA_DIR are shared safely by processes of one machine; in
 * the PostgreSQL pass the three processes and the test share one PostgreSQL database and one
 * S3-compatible bucket (a local S3 server), as processes on several machines would.
 * REWIND_MULTI_DEVICES sets the fleet's size (default 100).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listItems } from '@/db/queries/restore';
import { listSnapshots } from '@/db/queries/snapshots';
import { databaseEnv, testDb, testingPg } from '@/test/support/db';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { createBlobStore, createPush, type AppContext } from '../core/context';
import { createBackupJob } from '../backup/jobs';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { roundRobinTransport } from '../../sim/transport';
import { env } from '../core/env';
import { describeVirtualModels, provisionFleet } from '../../sim/provision';
import { executePlan } from '../restore/engine';
import { createPlan } from '../restore/plan';
import { spawnChildServer, type ChildServer } from '../../test/support/child-server';
import { startTestServer } from '../../test/support/test-server';

const DEVICES = Number(process.env.REWIND_MULTI_DEVICES ?? 100);
const SEED = 9311;
const CONCURRENCY = 12;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-multi-'));
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-multi-handsets-'));
const singleState = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-single-handsets-'));
let servers: ChildServer[] = [];
let ctx: AppContext;
let s3: LocalS3 | undefined;
const perServer = new Map<number, number>();

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  if (ctx?.db) await closeDb(ctx.db);
  await s3?.close();
  for (const d of [dataDir, stateDir, singleState]) fs.rmSync(d, { recursive: true, force: true });
});

async function inTurn<T>(items: readonly T[], fn: (t: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}

/** Root hash of each handset's first backup when one in-process server takes them all. */
async function singleProcessRoots(): Promise<Map<string, string>> {
  const srv = await startTestServer();
  try {
    await describeVirtualModels(srv.ctx.db);
    const handsets = openFleet({
      server: srv.dmUrl,
      devices: DEVICES,
      stateDir: singleState,
      encoding: 'mixed',
      auth: 'md5',
      mediaScale: 0.01,
      seed: SEED,
    });
    await provisionFleet(
      srv.ctx.db,
      handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    );
    const roots = new Map<string, string>();
    await inTurn(handsets, async (h) => {
      const { job } = await createBackupJob(srv.ctx.db, (await getDeviceByDevId(srv.ctx.db, h.devId))!, {
        trigger: 'on-demand',
        actor: 'test',
      });
      await h.connect({ initiator: 'client' });
      roots.set(h.devId, (JSON.parse((await getJob(srv.ctx.db, job.id))!.result!) as { rootHash: string }).rootHash);
    });
    return roots;
  } finally {
    await srv.close();
  }
}

beforeAll(async () => {
  if (testingPg()) s3 = await startLocalS3();
  const e = { ...env(), DATA_DIR: dataDir, dataDir, ...s3?.env };
  const db: Db = await testDb(dataDir); // migrations applied once, before the servers start
  ctx = { db, env: e, push: createPush(e), blobs: createBlobStore(e, db) };
  servers = await Promise.all(
    [0, 1, 2].map(() => spawnChildServer({ dataDir, env: { ...databaseEnv(db), ...s3?.env } })),
  );
}, 120_000);

it(`${DEVICES} handsets, every message to the next of 3 processes: each backup and restore completes once, content as with one process`, async () => {
  const ports = servers.map((s) => s.port);
  const handsets = openFleet({
    server: servers[0]!.dmUrl,
    devices: DEVICES,
    stateDir,
    encoding: 'mixed',
    auth: 'md5',
    mediaScale: 0.01,
    seed: SEED,
    handset: { transport: roundRobinTransport(ports, (p) => perServer.set(p, (perServer.get(p) ?? 0) + 1)) },
  });
  await describeVirtualModels(ctx.db);
  await provisionFleet(
    ctx.db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
  );
  const device = async (h: VirtualHandset): Promise<DeviceRow> => (await getDeviceByDevId(ctx.db, h.devId))!;

  // Backups, ordered here, taken by whichever processes the messages reach.
  const backups = new Map<string, string>();
  const sessions = new Map<string, unknown>();
  await inTurn(handsets, async (h) => {
    const { job } = await createBackupJob(ctx.db, await device(h), { trigger: 'on-demand', actor: 'test' });
    backups.set(h.devId, job.id);
    const s = await h.connect({ initiator: 'client' });
    if (!s.ok) sessions.set(h.devId, s);
  });
  // A failed session names its error, and the processes' last words say why.
  expect([...sessions.entries()], servers.map((s) => s.output()).join('\n---\n')).toEqual([]);
  const roots = new Map<string, string>();
  for (const h of handsets) {
    const job = (await getJob(ctx.db, backups.get(h.devId)!))!;
    expect(job.status, `${h.devId}: ${job.error}`).toBe('succeeded');
    expect(job.attempts, h.devId).toBe(1);
    const snaps = await listSnapshots(ctx.db, (await device(h)).id);
    expect(snaps.map((s) => s.status)).toEqual(['complete']);
    roots.set(h.devId, snaps[0]!.rootHash!);
  }
  // On several machines nothing is shared but the database and the bucket: no content in files.
  if (s3)
    expect(fs.existsSync(path.join(dataDir, 'blobs')) ? fs.readdirSync(path.join(dataDir, 'blobs')) : []).toEqual([]);
  // Every process took a fair share of the messages.
  const total = [...perServer.values()].reduce((a, b) => a + b, 0);
  for (const p of ports) expect(perServer.get(p) ?? 0).toBeGreaterThan(total / 4);

  // Restores: each handset loses its settings and gets them back.
  const restores = new Map<string, string>();
  await inTurn(handsets, async (h) => {
    h.damage('settings');
    const snapshotId = (await listSnapshots(ctx.db, (await device(h)).id))[0]!.id;
    const { row } = await createPlan(ctx, { snapshotId, categories: ['settings'] }, 'test');
    restores.set(h.devId, (await executePlan(ctx, row.id, 'test')).job.id);
    await h.connect({ initiator: 'client' });
  });
  for (const h of handsets) {
    const id = restores.get(h.devId)!;
    const job = (await getJob(ctx.db, id))!;
    const bad = (await listItems(ctx.db, id)).filter((i) => i.status !== 'verified');
    expect(job.status, `${h.devId}: ${job.error} ${JSON.stringify(bad.slice(0, 2))}`).toBe('succeeded');
    expect(bad).toEqual([]);
  }

  // The same handsets through one in-process server store the same content.
  expect(await singleProcessRoots()).toEqual(roots);
}, 600_000);
