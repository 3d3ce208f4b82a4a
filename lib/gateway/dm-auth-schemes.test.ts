/**
 * A DM account holds a scheme for each direction (DMAcc AppAuth): virtual handsets that send
 * basic and check the server with MD5 (or HMAC), over real HTTP to the real server. When the
 * server's credentials are in another scheme, the handset refuses them with a Chal naming its
 * own; the server follows, keeps the scheme on the account, and notes the switch in the
 * session's history; below DM_MIN_SERVER_AUTH it ends the session with the reason instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { httpTransport } from '../../sim/transport';
import { describeVirtualModels, provisionInput } from '../../sim/provision';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { getSnapshot } from '@/db/queries/snapshots';
import { recentSessions } from '@/db/queries/session-history';
import { decodeMessage } from '../omadm/codec/index';
import type { AuthScheme } from '../omadm/auth';
import type { Status } from '../omadm/message';
import { provisionDevice } from '../devices/devices';
import { createBackupJob } from '../backup/jobs';
import type { Env } from '../core/env';
import { startTestServer, type TestServer } from '../../test/support/test-server';

const servers: TestServer[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Setup {
  srv: TestServer;
  h: VirtualHandset;
  /** The SyncHdr statuses the handset sent about the server's credentials, in order. */
  verdicts: Status[];
}

/**
 * One handset checking the server with `handset.server`, whose account on the server says
 * `account.server` (what an operator provisioned, e.g. `--auth basic` for both ways).
 */
async function setUp(opts: {
  encoding: 'xml' | 'wbxml';
  handset: { client: AuthScheme; server: AuthScheme };
  account: { server: AuthScheme };
  env?: Partial<Env>;
  seed: number;
}): Promise<Setup> {
  const srv = await startTestServer(opts.env ? { env: opts.env } : {});
  servers.push(srv);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-auth-schemes-'));
  dirs.push(stateDir);
  const [h] = openFleet({
    server: srv.dmUrl,
    devices: 1,
    stateDir,
    encoding: opts.encoding,
    clientAuth: opts.handset.client,
    serverAuth: opts.handset.server,
    mediaScale: 0.01,
    seed: opts.seed,
  });
  expect(h!.identity).toMatchObject({ clientScheme: opts.handset.client, serverScheme: opts.handset.server });
  await describeVirtualModels(srv.ctx.db);
  const info = { ...h!.identity, nonces: { ...h!.state.nonces } };
  await provisionDevice(srv.ctx.db, { ...provisionInput(info), serverAuth: opts.account.server });
  const verdicts: Status[] = [];
  h!.transport = async (req) => {
    if (req.body) {
      const sent = decodeMessage(req.body, opts.encoding);
      for (const c of sent.body.commands) if (c.kind === 'Status' && c.cmdRef === 0) verdicts.push(c);
    }
    return httpTransport(req);
  };
  return { srv, h: h!, verdicts };
}

async function device(s: Setup) {
  return (await getDeviceByDevId(s.srv.ctx.db, s.h.devId))!;
}

describe.each(['xml', 'wbxml'] as const)('server authentication per direction (%s)', (encoding) => {
  it('a handset sending basic and checking the server with MD5 completes a session and a backup on an account provisioned basic both ways', async () => {
    const s = await setUp({
      encoding,
      handset: { client: 'basic', server: 'md5' },
      account: { server: 'basic' },
      seed: encoding === 'xml' ? 11 : 12,
    });
    const { job } = await createBackupJob(s.srv.ctx.db, await device(s), { trigger: 'on-demand', actor: 'test' });
    const first = await s.h.connect({ initiator: 'client' });
    expect(first.ok, first.error?.message).toBe(true);
    // The handset refused the basic credentials once, naming MD5; the MD5 ones it accepted.
    expect(s.verdicts.slice(0, 2)).toMatchObject([
      { data: '401', chal: { meta: { type: 'syncml:auth-md5' } } },
      { data: '212' },
    ]);
    expect(s.verdicts.filter((v) => v.data === '401' || v.data === '407')).toHaveLength(1);
    const done = (await getJob(s.srv.ctx.db, job.id))!;
    expect(done.status, done.error ?? '').toBe('succeeded');
    const { snapshotId } = JSON.parse(done.result!) as { snapshotId: string };
    expect(await getSnapshot(s.srv.ctx.db, snapshotId)).toMatchObject({ status: 'complete' });

    // Kept on the account, and written in the session's history.
    expect(await device(s)).toMatchObject({ clientAuth: 'basic', serverAuth: 'md5' });
    const [history] = await recentSessions(s.srv.ctx.db, (await device(s)).id);
    expect(history).toMatchObject({ status: 'complete', error: null });
    expect(history!.authChange).toMatch(/asked the server to authenticate with MD5 instead of basic: switched/);

    // The next session starts with MD5: no refusal at all.
    s.verdicts.length = 0;
    const second = await s.h.connect({ initiator: 'client' });
    expect(second.ok, second.error?.message).toBe(true);
    expect(s.verdicts[0]).toMatchObject({ data: '212' });
    expect(s.verdicts.some((v) => v.data === '401' || v.data === '407')).toBe(false);
    const [latest] = await recentSessions(s.srv.ctx.db, (await device(s)).id);
    expect(latest).toMatchObject({ status: 'complete', authChange: null });
  }, 60_000);

  it('a handset provisioned basic one way and MD5 the other needs no switch', async () => {
    const s = await setUp({
      encoding,
      handset: { client: 'basic', server: 'md5' },
      account: { server: 'md5' },
      seed: encoding === 'xml' ? 13 : 14,
    });
    const r = await s.h.connect({ initiator: 'client' });
    expect(r.ok, r.error?.message).toBe(true);
    expect(s.verdicts[0]).toMatchObject({ data: '212' });
    expect((await recentSessions(s.srv.ctx.db, (await device(s)).id))[0]).toMatchObject({ authChange: null });
  }, 60_000);

  it('a handset that checks the server with HMAC gets signed messages from the next one on', async () => {
    const s = await setUp({
      encoding,
      handset: { client: 'md5', server: 'hmac' },
      account: { server: 'md5' },
      seed: encoding === 'xml' ? 15 : 16,
    });
    const { job } = await createBackupJob(s.srv.ctx.db, await device(s), { trigger: 'on-demand', actor: 'test' });
    const r = await s.h.connect({ initiator: 'client' });
    expect(r.ok, r.error?.message).toBe(true);
    // No x-syncml-hmac on the first answer: 407 naming HMAC, then accepted.
    expect(s.verdicts.slice(0, 2)).toMatchObject([
      { data: '407', chal: { meta: { type: 'syncml:auth-MAC' } } },
      { data: '212' },
    ]);
    expect((await getJob(s.srv.ctx.db, job.id))!.status).toBe('succeeded');
    expect((await device(s)).serverAuth).toBe('hmac');
    expect((await recentSessions(s.srv.ctx.db, (await device(s)).id))[0]!.authChange).toMatch(
      /HMAC instead of MD5: switched/,
    );
  }, 60_000);
});

describe('a scheme the server will not use', () => {
  it('below DM_MIN_SERVER_AUTH: the session ends with Alert 1223 and the reason, the account unchanged', async () => {
    const s = await setUp({
      encoding: 'xml',
      handset: { client: 'md5', server: 'basic' },
      account: { server: 'basic' },
      env: { DM_MIN_SERVER_AUTH: 'md5' },
      seed: 21,
    });
    const { job } = await createBackupJob(s.srv.ctx.db, await device(s), { trigger: 'on-demand', actor: 'test' });
    const r = await s.h.connect({ initiator: 'client' });
    // The server authenticated with MD5 (the minimum) although the account says basic; the
    // handset asked for basic, and the server ended the session.
    expect(s.verdicts).toMatchObject([{ data: '401', chal: { meta: { type: 'syncml:auth-basic' } } }]);
    expect(r.end).toBe('aborted-by-server');
    const [history] = await recentSessions(s.srv.ctx.db, (await device(s)).id);
    expect(history).toMatchObject({ status: 'failed', authChange: null });
    expect(history!.error).toMatch(/asked the server to authenticate with basic instead of MD5, below the minimum MD5/);
    expect((await device(s)).serverAuth).toBe('basic');
    // The backup waits for a session the handset and the server can agree on.
    const j = (await getJob(s.srv.ctx.db, job.id))!;
    expect(j.status).toBe('queued');
  }, 60_000);

  it('basic for an account that keeps no server password: refused with that reason', async () => {
    const s = await setUp({
      encoding: 'wbxml',
      handset: { client: 'md5', server: 'basic' },
      account: { server: 'md5' },
      seed: 22,
    });
    const r = await s.h.connect({ initiator: 'client' });
    expect(r.end).toBe('aborted-by-server');
    const [history] = await recentSessions(s.srv.ctx.db, (await device(s)).id);
    expect(history).toMatchObject({ status: 'failed' });
    expect(history!.error).toMatch(/keeps no server password for basic/);
    expect((await device(s)).serverAuth).toBe('md5');
  }, 60_000);
});
