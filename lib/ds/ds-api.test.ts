/**
 * DS jobs through POST /api/v1/jobs: the route handler called as Next calls it, over a
 * server whose DS snapshot comes from a real DS session of the virtual handsets' client.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { dsSnapshotsOf } from '@/db/queries/ds';
import { getJob, jobsForDevice } from '@/db/queries/jobs';
import { provisionDevice } from '@/lib/devices/devices';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { createApiToken } from '@/lib/auth/tokens';
import * as jobsRoute from '@/app/api/v1/jobs/route';
import { runDsSession } from '../../sim/ds-client';
import { generatedHandsetDs } from '../../sim/ds-store';
import { httpTransport } from '../../sim/transport';
import { addDsAccount } from './accounts';
import { deviceHistory, subscriberHistory } from '@/lib/devices/history';
import { documentChecker } from '@/test/support/api-contract';

const ADA = 'IMEI:356938035643809';
const ADA_NEW = 'IMEI:490154203237518';
const BOB = 'IMEI:351756051523999';

/** Every answer checked against the OpenAPI document. */
const conformsToDocument = documentChecker([[jobsRoute.POST, 'POST /jobs']]);

let t: TestServer;
let agent: string;
let snapshotId: string;

async function post(body: unknown): Promise<{
  status: number;
  body: { job?: { id: string; kind: string }; created?: boolean; error?: { code: string; message: string } };
}> {
  const req = new Request('http://localhost/api/v1/jobs', {
    method: 'POST',
    headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const res = await (jobsRoute.POST as unknown as (r: Request, c: { params: Promise<never> }) => Promise<Response>)(
    req,
    { params: Promise.resolve({}) as Promise<never> },
  );
  const answer = (await res.json()) as never;
  conformsToDocument(jobsRoute.POST, res.status, answer, true, body);
  return { status: res.status, body: answer };
}

beforeAll(async () => {
  t = await startTestServer();
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  await provisionDevice(t.ctx.db, { ...base, devId: ADA, subscriber: 'Ada Lovelace', msisdn: '+447700900001' });
  await provisionDevice(t.ctx.db, { ...base, devId: ADA_NEW, subscriber: 'Ada Lovelace', msisdn: '+447700900001' });
  await provisionDevice(t.ctx.db, { ...base, devId: BOB, subscriber: 'Bob Babbage', msisdn: '+447700900002' });
  agent = (await createApiToken(t.ctx.db, 'agent', 'test agent')).token;
  await addDsAccount(t.ctx.db, { devId: ADA, user: 'ada-phone', pass: 'secret-1' });
  const out = await runDsSession(
    {
      serverUrl: `http://127.0.0.1:${t.server.port}/ds`,
      user: 'ada-phone',
      password: 'secret-1',
      scheme: 'md5',
      devId: ADA,
      man: 'Nimbus Mobile',
      mod: 'N1',
      swV: '4.2',
      encoding: 'xml',
      maxMsgSize: 64 * 1024,
      stores: ['contacts', 'calendar'],
      syncType: 'slow',
      transport: httpTransport,
    },
    generatedHandsetDs(3, 'nimbus-n1'),
  );
  expect(out.ok, out.error).toBe(true);
  snapshotId = (await dsSnapshotsOf(t.ctx.db, (await getDeviceByDevId(t.ctx.db, ADA))!.id))[0]!.id;
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/v1/jobs with DS kinds', () => {
  it('queues a ds-backup, and a second request joins it', async () => {
    const a = await post({ devId: ADA, kind: 'ds-backup' });
    expect(a.status).toBe(202);
    expect(a.body).toMatchObject({ job: { kind: 'ds-backup' }, created: true });
    expect((await getJob(t.ctx.db, a.body.job!.id))!.wakePending).toBe(true);
    const b = await post({ devId: ADA, kind: 'ds-backup' });
    expect(b.body).toMatchObject({ job: { id: a.body.job!.id }, created: false });
  });

  it('queues a ds-restore onto the subscriber’s new handset; refuses another subscriber’s (403), an unknown snapshot (404), and a body without one (400)', async () => {
    const ok = await post({ devId: ADA_NEW, kind: 'ds-restore', snapshotId });
    expect(ok.status).toBe(202);
    expect((await getJob(t.ctx.db, ok.body.job!.id))!.payload).toMatchObject({
      snapshotId,
      stores: ['contacts', 'calendar'],
    });

    const other = await post({ devId: BOB, kind: 'ds-restore', snapshotId });
    expect(other.status).toBe(403);
    expect(other.body.error).toMatchObject({ code: 'forbidden-target' });
    expect(await jobsForDevice(t.ctx.db, (await getDeviceByDevId(t.ctx.db, BOB))!.id)).toHaveLength(0);

    const unknown = await post({
      devId: ADA_NEW,
      kind: 'ds-restore',
      snapshotId: '00000000-0000-0000-0000-000000000000',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'no-ds-snapshot' });

    expect((await post({ devId: ADA_NEW, kind: 'ds-restore' })).status).toBe(400);
  });
});

describe("a DS sign-in's failures in the handset's history", () => {
  const sync = (user: string, password: string, devId: string) =>
    runDsSession(
      {
        serverUrl: `http://127.0.0.1:${t.server.port}/ds`,
        user,
        password,
        scheme: 'md5',
        devId,
        man: 'Nimbus Mobile',
        mod: 'N1',
        swV: '4.2',
        encoding: 'xml',
        maxMsgSize: 64 * 1024,
        stores: ['contacts'],
        syncType: 'slow',
        transport: httpTransport,
      },
      generatedHandsetDs(1, 'nimbus-n1'),
    );

  it('keeps a wrong password after the challenge as a failed attempt, in plain words; the first challenge is no failure', async () => {
    const bob = (await getDeviceByDevId(t.ctx.db, BOB))!;
    await addDsAccount(t.ctx.db, { devId: BOB, user: 'bob-phone', pass: 'secret-2' });
    // The account has no MD5 nonce yet: the client meets the challenge once and then signs in.
    expect((await sync('bob-phone', 'secret-2', BOB)).ok).toBe(true);
    expect((await deviceHistory(t.ctx.db, bob.id)).filter((e) => e.kind === 'attempt')).toEqual([]);

    expect((await sync('bob-phone', 'not the password', BOB)).ok).toBe(false);
    const attempts = (await deviceHistory(t.ctx.db, bob.id)).filter((e) => e.kind === 'attempt');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      outcome: 'failed',
      code: 'wrong-credentials',
      startedBy: "the handset's contacts and calendar sync (DS)",
    });
    // The client tries the nonce it was given, then once more with the challenge's: two failures, one row.
    expect(attempts[0]!.reason).toMatch(
      /^wrong credentials: .*contacts and calendar sync .* its DS account \(2 times\)$/,
    );
    const told = await subscriberHistory(t.ctx.db, bob.id);
    expect(told[0]!.text).toMatch(/^Your phone's contacts and calendar sync could not sign in/);
    expect(told.every((e) => !/DS|SyncML/.test(e.text))).toBe(true);
  });
});
