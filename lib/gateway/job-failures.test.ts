/**
 * Storage failing under a job inside a DM session, over the real /dm: the handset gets its
 * answers (no HTTP error), the job ends or is retried with the reason, the snapshot is closed
 * as incomplete with it, and the session's history keeps it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { recentSessions } from '@/db/queries/session-history';
import { startLocalS3, type LocalS3 } from '@/test/support/s3-server';
import { keyOwner } from '../backup/blob-store';
import { createBackupJob } from '../backup/jobs';
import { Keyring, newKey } from '../backup/keyring';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';

let fleet: TestFleet;
let s3: LocalS3;
let s3Closed = false;

beforeAll(async () => {
  s3 = await startLocalS3();
  fleet = await startTestFleet({ devices: 2, seed: 5151, encoding: 'xml', mediaScale: 0.02, env: s3.env });
}, 120_000);
afterAll(async () => {
  await fleet?.close();
  if (!s3Closed) await s3?.close();
});

async function backUp(i: number) {
  const { db } = fleet.ctx;
  const h = fleet.handsets[i]!;
  const device = (await getDeviceByDevId(db, h.devId))!;
  const { job } = await createBackupJob(db, device, { trigger: 'on-demand', actor: 'test' });
  const session = await h.connect({ initiator: 'client' });
  const done = (await getJob(db, job.id))!;
  return {
    session,
    job: done,
    // The attempt's snapshots (the job no longer points at one once stopped).
    snapshots: (await db.query.snapshots.findMany()).filter((s) => s.jobId === job.id),
    history: await recentSessions(db, device.id),
    device,
  };
}

it('a data key that does not open with the master key fails the job with that reason; the snapshot and the session keep it', async () => {
  const { db } = fleet.ctx;
  // The owner's data key as another master key wrapped it (a key mixed up between deployments).
  const device = (await getDeviceByDevId(db, fleet.handsets[0]!.devId))!;
  await new Keyring(db, newKey()).dataKey(keyOwner(device));

  const r = await backUp(0);
  expect(r.session.ok, JSON.stringify(r.session)).toBe(true);
  expect(r.job.status).toBe('failed');
  expect(r.job.error).toMatch(/^the data key of .* does not open with this master key/);
  expect(r.snapshots.map((s) => [s.status, s.error])).toEqual([['incomplete', r.job.error]]);
  expect(r.history[0]?.error).toBe(r.job.error);
});

it('the blob store unreachable queues the job again with the reason, the snapshot closed as incomplete with it', async () => {
  await s3.close();
  s3Closed = true;
  const r = await backUp(1);
  expect(r.session.ok, JSON.stringify(r.session)).toBe(true);
  expect(r.job.status).toBe('queued');
  expect(r.job.error).toMatch(/^the blob store failed: /);
  expect(r.job.wakePending).toBe(true);
  expect(r.history[0]?.error).toBe(r.job.error);
  expect(r.snapshots.map((s) => [s.status, s.error])).toEqual([['incomplete', r.job.error]]);
}, 120_000);
