/**
 * The DM endpoint end to end: virtual handsets speak real SyncML over HTTP to the real
 * node:http front, whose sessions live in a real SQLite file between messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet } from '../../sim/fleet';
import type { SessionSummary, VirtualHandset } from '../../sim/handset';
import { provisionFleet } from '../../sim/provision';
import { sql } from 'drizzle-orm';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob, insertJob } from '@/db/queries/jobs';
import { value } from '@/db/sql';
import { base64Encode } from '../omadm/util/bytes';
import { dmAccPaths } from '../omadm/mo/dmacc';
import { wakeDevice } from './wake';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import type { DmCommandsPayload } from '../jobs/kinds';

const FLEET = 50;
const LO_PATH = './AppData/Ringtones/Upload';
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let srv: TestServer;
let stateDir: string;
let handsets: VirtualHandset[];
const sessions = new Map<string, SessionSummary[]>();

beforeAll(async () => {
  srv = await startTestServer();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-fleet-'));
  // Even handsets speak XML, odd ones WBXML; MD5 both ways.
  handsets = openFleet({
    server: srv.dmUrl,
    devices: FLEET,
    stateDir,
    encoding: 'mixed',
    auth: 'md5',
    mediaScale: 0.01,
    seed: 7,
  });
  await provisionFleet(
    srv.ctx.db,
    handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
    { inprocPush: true },
  );
  for (const h of handsets) {
    h.listen(srv.ctx.push.inproc);
    h.onSession((s) => sessions.set(h.devId, [...(sessions.get(h.devId) ?? []), s]));
  }
});

afterAll(async () => {
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

describe('DM endpoint with a fleet of virtual handsets', () => {
  it('completes a session with each of 50 handsets, half in WBXML, MD5 both ways', async () => {
    const queue = [...handsets];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let h = queue.shift(); h; h = queue.shift()) await h.connect({ initiator: 'client' });
      }),
    );
    for (const h of handsets) {
      const s = sessions.get(h.devId)?.[0];
      expect(s, h.devId).toBeDefined();
      expect(s!.error, h.devId).toBeUndefined();
      expect(s!.ok, h.devId).toBe(true);
      // The server accepted the handset's credentials, and the handset ours (212 then 200s).
      expect(s!.statusesReceived['212'], h.devId).toBe(1);
      const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
      expect(device.encoding).toBe(h.identity.encoding);
      expect(device.lastSeenAt).toBeGreaterThan(0);
      // Inventory read in the session: firmware and network state came from the handset's tree.
      expect(device.firmware).toBe(h.tree.text('./DevDetail/FwV'));
      expect(JSON.parse(device.networkState!)).toMatchObject({ bearer: 'wifi', roaming: false });
    }
    expect(new Set(handsets.map((h) => h.identity.encoding))).toEqual(new Set(['xml', 'wbxml']));
    const done = await value(srv.ctx.db, sql`select count(*) as n from dm_sessions where status = 'complete'`);
    expect(done).toBe(FLEET);
  }, 120_000);

  it('carries a 2 MB Large Object each way, byte-exact, in XML and in WBXML', async () => {
    const picks = [handsets[0]!, handsets[1]!, handsets[2]!, handsets[3]!];
    const uploads = new Map<string, Uint8Array>();
    const jobIds = new Map<string, string>();
    for (const h of picks) {
      const bytes = new Uint8Array(randomBytes(2 * 1024 * 1024));
      uploads.set(h.devId, bytes);
      const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
      const payload: DmCommandsPayload = {
        work: [
          {
            id: 'put',
            kind: 'add',
            items: [{ path: LO_PATH, format: 'bin', type: 'audio/mpeg', value: base64Encode(bytes) }],
          },
          { id: 'get', kind: 'get', paths: [LO_PATH] },
        ],
      };
      jobIds.set(h.devId, (await insertJob(srv.ctx.db, { deviceId: device.id, kind: 'dm-commands', payload })).id);
    }
    await Promise.all(picks.map((h) => h.connect({ initiator: 'client' })));
    for (const h of picks) {
      const s = sessions.get(h.devId)!.at(-1)!;
      expect(s.ok, `${h.devId} ${s.error?.message}`).toBe(true);
      const sent = uploads.get(h.devId)!;
      // Server to handset: the handset's tree holds exactly the bytes, in several messages.
      expect(sha256(h.tree.read(LO_PATH)!)).toBe(sha256(sent));
      expect(s.messagesIn).toBeGreaterThan((2 * 1024 * 1024) / h.identity.maxMsgSize);
      // Handset to server: the Get came back whole.
      const job = (await getJob(srv.ctx.db, jobIds.get(h.devId)!))!;
      expect(job.status).toBe('succeeded');
      const events = (
        JSON.parse(job.result!) as { events: Array<{ type: string; status: number; size?: number; sha256?: string }> }
      ).events;
      const result = events.find((e) => e.type === 'result')!;
      expect(result).toMatchObject({ status: 200, size: sent.length, sha256: sha256(sent) });
    }
    expect(new Set(picks.map((h) => h.identity.encoding))).toEqual(new Set(['xml', 'wbxml']));
  }, 120_000);

  it('runs a server-initiated session when Package #0 wakes a handset', async () => {
    const picks = handsets.slice(10, 16);
    const before = picks.map((h) => sessions.get(h.devId)?.length ?? 0);
    for (const h of picks) {
      const sessionId = await wakeDevice(srv.ctx.push, (await getDeviceByDevId(srv.ctx.db, h.devId))!);
      await h.idle();
      const s = sessions.get(h.devId)!.at(-1)!;
      expect(s.initiator).toBe('server');
      expect(s.sessionId).toBe(sessionId);
      expect(s.ok, s.error?.message).toBe(true);
    }
    picks.forEach((h, i) => expect(sessions.get(h.devId)!.length).toBe(before[i]! + 1));
    // A notification signed with the wrong password is dropped by the handset.
    const h = handsets[20]!;
    const device = {
      ...(await getDeviceByDevId(srv.ctx.db, h.devId))!,
      serverDerived: 'AAAAAAAAAAAAAAAAAAAAAA==',
      serverPassword: null,
    };
    await wakeDevice(srv.ctx.push, device);
    await h.idle();
    expect(h.rejectedNotifications).toBe(1);
  }, 60_000);

  it('refuses a handset whose credentials are wrong, with 401 and a challenge, and runs no work', async () => {
    const h = handsets[30]!;
    // The handset's DM account holds its credentials: change the client secret there.
    const secretPath = dmAccPaths(h.identity.account).auth('CLCRED').AAuthSecret;
    const good = h.tree.read(secretPath)!;
    h.tree.set(secretPath, 'wrong-password');
    const device = (await getDeviceByDevId(srv.ctx.db, h.devId))!;
    const job = await insertJob(srv.ctx.db, {
      deviceId: device.id,
      kind: 'dm-commands',
      payload: { work: [{ id: 'get', kind: 'get', paths: ['./DevInfo/Mod'] }] },
    });
    const seenBefore = device.lastSeenAt;
    const s = await h.connect({ initiator: 'client' });
    expect(s?.ok).toBe(false);
    expect(s?.statusesReceived['401']).toBeGreaterThan(0);
    // Not "seen": nobody proved to be this handset.
    expect((await getDeviceByDevId(srv.ctx.db, h.devId))!.lastSeenAt).toBe(seenBefore);
    expect((await getJob(srv.ctx.db, job.id))!.status).toBe('queued');
    h.tree.set(secretPath, good);
    const again = await h.connect({ initiator: 'client' });
    expect(again?.ok, again?.error?.message).toBe(true);
    expect((await getJob(srv.ctx.db, job.id))!.status, (await getJob(srv.ctx.db, job.id))!.result ?? '').toBe(
      'succeeded',
    );
  }, 60_000);
});
