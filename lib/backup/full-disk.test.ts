/**
 * A full disk in the middle of a backup's writes: the job stops with a reason that says
 * the store is out of space (on the job row and in the job's live view), no snapshot is
 * complete, nothing partial sits under a value's hash, the handset's every message is
 * answered with SyncML (never an HTTP 500), and once space is freed the next backup
 * completes.
 *
 * Portable: a blob store that fails as a full disk does (the ENOSPC error the file store
 * reports) once N bytes are written. Linux as root: a real 2 MB tmpfs under the blob
 * store, then under the database too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listItems } from '@/db/queries/restore';
import { getSnapshot } from '@/db/queries/snapshots';
import { sqliteClient } from '@/db/client';
import { snapshots } from '@/db/schema';
import { testingPg } from '@/test/support/db';
import { createBlobStore } from '../core/context';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { httpTransport, type HttpReply, type Transport } from '../../sim/transport';
import { describeVirtualModels, provisionFleet } from '../../sim/provision';
import { liveJob } from '../jobs/live';
import { MIME } from '../omadm/message';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import { executePlan } from '../restore/engine';
import { createPlan } from '../restore/plan';
import { BlobStoreError, sha256Hex, type BlobStore } from './blob-store';
import { createBackupJob } from './jobs';
import { verifySnapshot } from './verify';

const cleanups: Array<() => void | Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

/** What FileBlobStore throws when the disk is full: its no-space error around the system's ENOSPC. */
function enospc(): BlobStoreError {
  const cause = Object.assign(new Error('ENOSPC: no space left on device, write'), {
    errno: -28,
    code: 'ENOSPC',
    syscall: 'write',
  });
  return new BlobStoreError('no-space', 'the blob store is out of space', { cause });
}

/** A store with `room` bytes left: a new value that does not fit fails as a full disk does. */
class FillingStore implements BlobStore {
  used = 0;
  constructor(
    readonly inner: BlobStore,
    public room: number,
  ) {}
  async put(bytes: Uint8Array, owner: string): Promise<{ hash: string; created: boolean }> {
    if (!(await this.inner.has(sha256Hex(bytes)))) {
      if (this.used + bytes.length > this.room) throw enospc();
      this.used += bytes.length;
    }
    return this.inner.put(bytes, owner);
  }
  get(hash: string) {
    return this.inner.get(hash);
  }
  has(hash: string) {
    return this.inner.has(hash);
  }
  delete(hash: string) {
    return this.inner.delete(hash);
  }
  list() {
    return this.inner.list();
  }
}

/** Every DM reply the handset got, to check that each was SyncML and none an HTTP error. */
function recording(replies: HttpReply[]): Transport {
  return async (req) => {
    const r = await httpTransport(req);
    if (req.method === 'POST') replies.push(r);
    return r;
  };
}

async function withHandset(srv: TestServer, mediaScale: number, seed: number): Promise<VirtualHandset> {
  const stateDir = tempDir('rewind-full-handset-');
  const [h] = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale,
    seed,
    models: ['nimbus-n2'],
  });
  await describeVirtualModels(srv.ctx.db);
  await provisionFleet(srv.ctx.db, [{ ...h!.identity, nonces: { ...h!.state.nonces } }]);
  return h!;
}

/**
 * One backup session on a store that fills up, and what must hold after it. With the
 * database full as well (`dbFull`), even the job's failure may not fit: the job is then
 * left as it was (running, its snapshot incomplete) for a later session to take up.
 */
async function expectOutOfSpace(
  srv: TestServer,
  h: VirtualHandset,
  blobsDir: string | undefined,
  reason: RegExp,
  dbFull = false,
): Promise<string> {
  const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
  const { job } = await createBackupJob(srv.ctx.db, device, { trigger: 'on-demand', actor: 'test' });
  const replies: HttpReply[] = [];
  h.transport = recording(replies);
  const s = await h.connect({ initiator: 'client' });
  await h.idle();

  // The handset was answered in SyncML throughout, and its session ended normally.
  expect(s.error, JSON.stringify(s.error)).toBeUndefined();
  expect(replies.length).toBeGreaterThan(1);
  for (const r of replies) {
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain(MIME.dmXml);
  }

  const row = (await getJob(srv.ctx.db, job.id))!;
  const snaps = (await srv.ctx.db.select().from(snapshots)).filter((x) => x.deviceId === device.id);
  // No snapshot of the handset is complete.
  expect(snaps.filter((x) => x.status === 'complete')).toEqual([]);
  if (dbFull && row.status === 'running') {
    // Nothing could be written, the job's failure included: the session was ended (Alert
    // 1223, the Session Abort), leaving the job for a later session.
    expect(new TextDecoder().decode(replies.at(-1)!.body)).toMatch(/<Alert>[\s\S]*<Data>1223<\/Data>/);
    expect(snaps.map((x) => x.status)).toEqual(['incomplete']);
    if (row.error) expect(row.error).toMatch(reason);
  } else {
    // The job failed saying why, on its row and in its live view; so did its snapshot.
    expect(row.status, JSON.stringify(row)).toBe('failed');
    expect(row.error).toMatch(reason);
    expect(row.error).toMatch(/free space/);
    const live = await liveJob(srv.ctx.db, row);
    expect(live.finished).toBe(true);
    expect(live.job.error).toMatch(reason);
    const { snapshotId } = JSON.parse(row.result!) as { snapshotId: string };
    expect(await getSnapshot(srv.ctx.db, snapshotId)).toMatchObject({ status: 'failed' });
    expect((await getSnapshot(srv.ctx.db, snapshotId))!.error).toMatch(reason);
  }

  // Whatever the store holds is whole: under a hash, exactly the bytes with that hash.
  for await (const hash of srv.ctx.blobs.list()) expect(sha256Hex((await srv.ctx.blobs.get(hash))!), hash).toBe(hash);
  // The values that did not fit are not there at all, and no temporary file is left behind.
  const big = h.tree
    .children('./AppData/Ringtones')
    .map((n) => h.tree.read(`./AppData/Ringtones/${n}`)!)
    .sort((a, b) => b.length - a.length)[0]!;
  expect(await srv.ctx.blobs.has(sha256Hex(big))).toBe(false);
  if (blobsDir) expect(fs.readdirSync(blobsDir).filter((f) => f.startsWith('.tmp-'))).toEqual([]);
  return job.id;
}

/** Space is back: the job left unfinished resumes, or a new backup (after a failed one) completes. */
async function expectBackupCompletes(srv: TestServer, h: VirtualHandset, jobId: string): Promise<string> {
  const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
  const id =
    (await getJob(srv.ctx.db, jobId))!.status === 'failed'
      ? (await createBackupJob(srv.ctx.db, device, { trigger: 'on-demand', actor: 'test' })).job.id
      : jobId;
  h.transport = httpTransport;
  await h.connect({ initiator: 'client' });
  await h.idle();
  const row = (await getJob(srv.ctx.db, id))!;
  expect(row.status, row.error ?? '').toBe('succeeded');
  const { snapshotId } = JSON.parse(row.result!) as { snapshotId: string };
  expect(await getSnapshot(srv.ctx.db, snapshotId)).toMatchObject({ status: 'complete' });
  expect((await verifySnapshot(srv.ctx.db, srv.ctx.blobs, snapshotId)).ok).toBe(true);
  return snapshotId;
}

describe('a full disk during a backup', () => {
  it('a blob store that runs out of space: the job fails saying so, nothing half-written is kept, the next backup completes; a restore does not run without its safety backup and says why', async () => {
    const srv = await startTestServer();
    cleanups.push(() => srv.close());
    const h = await withHandset(srv, 0.35, 51);
    const real = srv.ctx.blobs;
    const filling = new FillingStore(real, 256 * 1024);
    srv.ctx.blobs = filling;
    const jobId = await expectOutOfSpace(srv, h, undefined, /blob store is out of space/);
    filling.room = Number.POSITIVE_INFINITY; // space freed
    const snapshotId = await expectBackupCompletes(srv, h, jobId);

    // Full again, and a restore: its safety backup cannot be stored, so the restore does not
    // run, and both say why. With space, a new plan restores the handset.
    filling.room = filling.used;
    h.damage('appdata');
    const replies: HttpReply[] = [];
    h.transport = recording(replies);
    const { row: plan } = await createPlan(srv.ctx, { snapshotId, categories: ['appdata'] }, 'test');
    const first = await executePlan(srv.ctx, plan.id, 'test');
    await h.connect({ initiator: 'client' });
    await h.idle();
    expect(replies.every((r) => r.status === 200 && r.headers['content-type']?.includes(MIME.dmXml))).toBe(true);
    expect(await getJob(srv.ctx.db, first.backup!.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/blob store is out of space/),
    });
    expect(await getJob(srv.ctx.db, first.job.id)).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/safety backup .*failed: the blob store is out of space/),
    });
    expect((await listItems(srv.ctx.db, first.job.id)).filter((i) => i.status !== 'pending')).toEqual([]);
    filling.room = Number.POSITIVE_INFINITY;
    const { row: again } = await createPlan(srv.ctx, { snapshotId, categories: ['appdata'] }, 'test');
    const second = await executePlan(srv.ctx, again.id, 'test');
    h.transport = httpTransport;
    await h.connect({ initiator: 'client' });
    await h.idle();
    expect(
      (await getJob(srv.ctx.db, second.job.id))!.status,
      (await getJob(srv.ctx.db, second.job.id))!.error ?? '',
    ).toBe('succeeded');
  }, 60_000);

  describe('on a real 2 MB file system (Linux, root)', () => {
    const mnt = mountTmpfs();
    const mnt2 = mnt ? mountTmpfs() : undefined;

    it.skipIf(!mnt)(
      'the blob store on it',
      async () => {
        const srv = await startTestServer();
        cleanups.push(() => srv.close());
        // The same kind of store the server builds, with its files on the small file system.
        srv.ctx.blobs = createBlobStore({ ...srv.ctx.env, dataDir: mnt! }, srv.ctx.db);
        const h = await withHandset(srv, 1, 52);
        const jobId = await expectOutOfSpace(srv, h, path.join(mnt!, 'blobs'), /blob store is out of space/);
        remount(mnt!, '16m');
        await expectBackupCompletes(srv, h, jobId);
      },
      60_000,
    );

    // SQLite only: a PostgreSQL database is not on that file system.
    it.skipIf(!mnt2 || testingPg())(
      'the blob store and the database on it',
      async () => {
        const srv = await startTestServer({ dataDir: mnt2! });
        cleanups.push(() => srv.close());
        const h = await withHandset(srv, 1, 53);
        const jobId = await expectOutOfSpace(srv, h, path.join(mnt2!, 'blobs'), /out of space|disk is full/, true);
        expect(sqliteClient(srv.ctx.db)!.pragma('integrity_check', { simple: true })).toBe('ok');
        remount(mnt2!, '16m');
        await expectBackupCompletes(srv, h, jobId);
      },
      60_000,
    );
  });
});

/** A 2 MB tmpfs, or undefined (with the reason printed) where mounting is not permitted. */
function mountTmpfs(): string | undefined {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.warn('full-disk: skipping the tmpfs cases (they need Linux and root to mount a small file system)');
    return undefined;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    fs.rmdirSync(dir);
    console.warn(
      `full-disk: skipping the tmpfs cases: mount is not permitted here (${(err as Error).message.split('\n')[0]})`,
    );
    return undefined;
  }
  // Runs after the servers using it are closed (cleanups run newest first).
  cleanups.unshift(() => {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    fs.rmdirSync(dir);
  });
  return dir;
}

function remount(dir: string, size: string): void {
  execFileSync('mount', ['-o', `remount,size=${size}`, dir], { stdio: 'pipe' });
}
