/**
 * Session state lives in the database, not in the process: a server stopped and started
 * again in the middle of a session (same data directory, same port) takes the handset's
 * next message as if nothing happened, and the backup it was taking completes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { openFleet } from '../../sim/fleet';
import { httpTransport, type Transport } from '../../sim/transport';
import { describeVirtualModels, provisionFleet } from '../../sim/provision';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { getSnapshot } from '@/db/queries/snapshots';
import { createBackupJob } from '../backup/jobs';
import { startTestServer, type TestServer } from '../../test/support/test-server';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-restart-'));
const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-restart-handset-'));
let srv: TestServer | undefined;

afterAll(async () => {
  await srv?.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(stateDir, { recursive: true, force: true });
});

it('a restart between two messages of a backup session loses nothing', async () => {
  srv = await startTestServer({ dataDir });
  const port = srv.server.port;
  const [h] = openFleet({ server: srv.dmUrl, devices: 1, stateDir, auth: 'md5', mediaScale: 0.02, seed: 3 });
  await describeVirtualModels(srv.ctx.db);
  await provisionFleet(srv.ctx.db, [{ ...h!.identity, nonces: { ...h!.state.nonces } }]);
  const { job } = await createBackupJob(srv.ctx.db, (await getDeviceByDevId(srv.ctx.db, h!.devId))!, {
    trigger: 'on-demand',
    actor: 'test',
  });

  let sent = 0;
  let restarted = false;
  const transport: Transport = async (req) => {
    if (req.method === 'POST' && ++sent === 3) {
      // Between the handset's second and third message: the server goes away and comes back.
      await srv!.close();
      srv = await startTestServer({ dataDir, port });
      restarted = true;
      // Let the client notice its kept-alive connection to the old process is gone.
      await new Promise((r) => setTimeout(r, 50));
    }
    return httpTransport(req);
  };
  h!.transport = transport;
  const s = await h!.connect({ initiator: 'client' });
  expect(restarted).toBe(true);
  expect(s.ok, s.error?.message).toBe(true);
  expect(s.messagesOut).toBeGreaterThan(3);
  const done = (await getJob(srv.ctx.db, job.id))!;
  expect(done.status, done.error ?? '').toBe('succeeded');
  const { snapshotId } = JSON.parse(done.result!) as { snapshotId: string };
  expect(await getSnapshot(srv.ctx.db, snapshotId)).toMatchObject({ status: 'complete' });
}, 60_000);
