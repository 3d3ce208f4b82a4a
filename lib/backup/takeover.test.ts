/**
 * A handset that times out and reconnects gets a new session, which takes its running backup
 * over; the old session's messages still in flight must not write to the job or complete a
 * second snapshot (the soak found backups completed twice, each with its own snapshot).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob, updateJob } from '@/db/queries/jobs';
import { listSnapshots } from '@/db/queries/snapshots';
import { httpTransport, type Transport } from '../../sim/transport';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { createBackupJob } from './jobs';

let fleet: TestFleet;
beforeAll(async () => {
  fleet = await startTestFleet({ devices: 1, seed: 5150, encoding: 'xml' });
}, 60_000);
afterAll(async () => {
  await fleet?.close();
});

it('the old session of a backup another session took over neither writes its progress nor completes it; the job completes once', async () => {
  const h = fleet.handsets[0]!;
  const device = (await getDeviceByDevId(fleet.ctx.db, h.devId))!;
  const { job } = await createBackupJob(fleet.ctx.db, device, { trigger: 'on-demand', actor: 'test' });
  let sent = 0;
  let progressAtTakeover: string | null = null;
  // After the session's second message, another session (as a reconnect makes) holds the job.
  const takeover: Transport = async (req) => {
    if (++sent === 3) {
      progressAtTakeover = (await getJob(fleet.ctx.db, job.id))!.progress;
      await updateJob(fleet.ctx.db, job.id, { sessionRef: 'a-newer-session' });
    }
    return httpTransport(req);
  };
  await h.connect({ initiator: 'client', transport: takeover });
  expect(sent).toBeGreaterThanOrEqual(3);
  const after = (await getJob(fleet.ctx.db, job.id))!;
  expect(after).toMatchObject({ status: 'running', sessionRef: 'a-newer-session' });
  expect(after.progress).toBe(progressAtTakeover);
  expect(await listSnapshots(fleet.ctx.db, device.id, { status: 'complete' })).toHaveLength(0);

  // The handset's next session finds the job held by a session that is gone, and finishes it once.
  await h.connect({ initiator: 'client' });
  expect((await getJob(fleet.ctx.db, job.id))!.status).toBe('succeeded');
  expect(await listSnapshots(fleet.ctx.db, device.id, { status: 'complete' })).toHaveLength(1);
}, 60_000);
