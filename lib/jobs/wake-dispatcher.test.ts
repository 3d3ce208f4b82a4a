/**
 * A Package #0 whose session does not come is sent again with a growing wait until the
 * job's deadline, and each attempt is on the job. Over real HTTP: the server pushes through
 * an operator gateway (PUSH_WEBHOOK_URL) that is a plain node:http server on 127.0.0.1;
 * it loses the first two SMS, and hands the third to the virtual handset, which then opens
 * its session to the real /dm endpoint.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { provisionFleet } from '../../sim/provision';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { getJob, insertJob } from '@/db/queries/jobs';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import { publicJob } from '../backup/views';
import { jobSchema } from '../backup/schemas';
import { dispatchWakes } from './wake-dispatcher';
import { liveJob } from './live';
import { wakeAttemptsOf } from './wakes';

const RETRY_S = 60;
const DEADLINE_S = 3600;

let srv: TestServer;
let gateway: http.Server;
let stateDir: string;
let handsets: VirtualHandset[];
/** What the gateway received, by push address; `deliver` says which ones reach the handset. */
const received: Array<{ address: string; pkg: Uint8Array }> = [];
let deliver: (address: string, pkg: Uint8Array) => void = () => undefined;

beforeAll(async () => {
  gateway = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const address = decodeURIComponent(String(req.headers['x-rewind-push-address']));
      const pkg = new Uint8Array(Buffer.concat(chunks));
      received.push({ address, pkg });
      res.writeHead(202).end(); // the operator took it; whether the SMS arrives is another matter
      deliver(address, pkg);
    });
  });
  await new Promise<void>((r) => gateway.listen(0, '127.0.0.1', r));
  const port = (gateway.address() as AddressInfo).port;
  srv = await startTestServer({
    env: { PUSH_WEBHOOK_URL: `http://127.0.0.1:${port}/push`, WAKE_RETRY_AFTER: RETRY_S, WAKE_DEADLINE: DEADLINE_S },
  });
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-wakes-'));
  handsets = openFleet({
    server: srv.dmUrl,
    devices: 2,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.01,
    seed: 5,
  });
  await provisionFleet(
    srv.ctx.db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
  );
  for (const [i, h] of handsets.entries()) {
    const d = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
    await updateDevice(srv.ctx.db, d.id, { pushAddress: `tel:+4477009000${i}` });
  }
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await new Promise((r) => gateway?.close(r));
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

async function queueJob(h: VirtualHandset) {
  const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
  return insertJob(srv.ctx.db, {
    deviceId: device.id,
    kind: 'dm-commands',
    payload: { work: [{ id: 'get', kind: 'get', paths: ['./DevInfo/Man'] }] },
    wakePending: true,
  });
}

const S = 1000;

describe('a Package #0 whose session does not come', () => {
  it('is sent again with backoff until the session comes, and every attempt is on the job', async () => {
    const h = handsets[0]!;
    const address = 'tel:+44770090000';
    const sent = () => received.filter((r) => r.address === address).length;
    let session: Promise<unknown> | undefined;
    // The first two SMS are lost; the third reaches the handset.
    deliver = (to, pkg) => {
      if (to === address && sent() === 3) session = h.onNotification(pkg);
    };
    const job = await queueJob(h);
    const t0 = Date.now();

    expect(await dispatchWakes(srv.ctx, t0)).toBe(1);
    expect(sent()).toBe(1);
    let row = (await getJob(srv.ctx.db, job.id))!;
    expect(row.wakePending).toBe(true);
    expect(row.wakeAt).toBe(t0 + RETRY_S * S);
    expect(row.deadline).toBe(job.createdAt + DEADLINE_S * S);

    // Not before its backoff ...
    expect(await dispatchWakes(srv.ctx, t0 + (RETRY_S - 1) * S)).toBe(0);
    expect(sent()).toBe(1);
    // ... then again, and the wait doubles.
    const t1 = t0 + RETRY_S * S;
    expect(await dispatchWakes(srv.ctx, t1)).toBe(1);
    expect(sent()).toBe(2);
    row = (await getJob(srv.ctx.db, job.id))!;
    expect(row.wakeAt).toBe(t1 + 2 * RETRY_S * S);
    expect(await dispatchWakes(srv.ctx, t1 + 2 * RETRY_S * S - 1)).toBe(0);

    const t2 = t1 + 2 * RETRY_S * S;
    expect(await dispatchWakes(srv.ctx, t2)).toBe(1);
    expect(sent()).toBe(3);
    expect(session).toBeDefined();
    await session;
    await h.idle();
    row = (await getJob(srv.ctx.db, job.id))!;
    expect(row.status, row.error ?? '').toBe('succeeded');
    expect(wakeAttemptsOf(row)).toEqual([
      { at: t0, delivered: true },
      { at: t1, delivered: true },
      { at: t2, delivered: true },
    ]);

    // Where a job is shown: the API's body (as the OpenAPI document says) and the job page.
    const body = publicJob(row);
    expect(jobSchema.parse(JSON.parse(JSON.stringify(body)))).toMatchObject({
      wakes: { attempts: [{ at: t0 }, { at: t1 }, { at: t2 }], deadline: row.deadline, next: null },
    });
    const live = await liveJob(srv.ctx.db, row);
    expect(live.wakes).toMatch(/^3 sent: \d\d:\d\d UTC, \d\d:\d\d UTC, \d\d:\d\d UTC$/);

    // The session came and the job ran: nothing more is sent.
    expect(await dispatchWakes(srv.ctx, t2 + DEADLINE_S * S)).toBe(0);
    expect(sent()).toBe(3);
  }, 60_000);

  it('stops at the job’s deadline, and a session after the last one stops it too', async () => {
    const h = handsets[1]!;
    const address = 'tel:+44770090001';
    const sent = () => received.filter((r) => r.address === address).length;
    deliver = () => undefined; // every SMS lost
    const job = await queueJob(h);
    // Due times as the backoff makes them: 0, 1, 3, 7, 15, 31 and 63 minutes; past 60 minutes, none.
    let now = job.createdAt;
    for (let i = 0; i < 12; i++) {
      await dispatchWakes(srv.ctx, now);
      const row = (await getJob(srv.ctx.db, job.id))!;
      if (!row.wakePending) break;
      now = row.wakeAt!;
    }
    expect(sent()).toBe(6);
    let row = (await getJob(srv.ctx.db, job.id))!;
    expect(wakeAttemptsOf(row).map((a) => (a.at - job.createdAt) / (RETRY_S * S))).toEqual([0, 1, 3, 7, 15, 31]);
    expect(row.wakeAt).toBeNull();
    expect(row.status).toBe('queued'); // it still runs when the handset next connects
    const live = await liveJob(srv.ctx.db, row);
    expect(live.wakes).toMatch(/^6 sent: /);
    expect(live.wakes).not.toMatch(/next at/);

    // A session that comes after a Package #0 stops its resends even when the job cannot
    // run in it: here a job waiting for another that is deferred for a day.
    const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
    const later = await insertJob(srv.ctx.db, {
      deviceId: device.id,
      kind: 'dm-commands',
      payload: { work: [{ id: 'get', kind: 'get', paths: ['./DevInfo/Mod'] }] },
      notBefore: Date.now() + 86_400 * S,
    });
    const waiting = await insertJob(srv.ctx.db, {
      deviceId: device.id,
      kind: 'dm-commands',
      payload: { work: [{ id: 'get', kind: 'get', paths: ['./DevInfo/Man'] }] },
      dependsOn: later.id,
      wakePending: true,
    });
    const t = Date.now();
    expect(await dispatchWakes(srv.ctx, t)).toBe(1);
    expect(sent()).toBe(7);
    const s = await h.connect({ initiator: 'client' });
    expect(s.ok, s.error?.message).toBe(true);
    expect((await getJob(srv.ctx.db, job.id))!.status).toBe('succeeded'); // the first job ran in it
    row = (await getJob(srv.ctx.db, waiting.id))!;
    expect(row.status).toBe('queued');
    expect(row.wakePending).toBe(true);
    expect(await dispatchWakes(srv.ctx, row.wakeAt!)).toBe(0);
    expect(sent()).toBe(7);
    expect(wakeAttemptsOf((await getJob(srv.ctx.db, waiting.id))!)).toHaveLength(1);
  }, 60_000);
});
