/**
 * The `rewind` CLI as a user runs it: a real process (tsx cli/rewind.ts, what `npx tsx`
 * resolves to) over a DATA_DIR of its own. Snapshots are seeded from this process into the
 * same database file and blob store; one backup is taken for real, by a virtual handset
 * against the /dm server running in this process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { getDeviceByDevId, listDevices } from '@/db/queries/devices';
import { getSnapshot, insertSnapshot } from '@/db/queries/snapshots';
import { upsertLocalBackup } from '@/db/queries/local-backups';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { AFTER, BEFORE, RINGTONE, seedSnapshot } from '@/test/support/fixtures';
import { openFleet } from '@/sim/fleet';
import type { VirtualHandset } from '@/sim/handset';
import { describeVirtualModels, provisionInput } from '@/sim/provision';
import { provisionDevice } from '@/lib/devices/devices';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { startWakeDispatcher } from '@/lib/jobs/wake-dispatcher';
import { databaseEnv, testDb } from '@/test/support/db';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let db: Db;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rewind(
  args: string[],
  opts: { buffer?: boolean; env?: Record<string, string> } = {},
): Promise<Run & { bytes: Buffer }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['cli/rewind.ts', ...args],
      {
        cwd: ROOT,
        encoding: 'buffer',
        maxBuffer: 64 * 1024 * 1024,
        timeout: 120_000,
        env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent', ...databaseEnv(db), ...opts.env },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), bytes: stdout });
      },
    );
  });
}

const HEADER = 'devId,manufacturer,model,msisdn,subscriber,serverId,auth,clientUser,clientPass,serverPass,firmware';
const ADA = 'IMEI:356938035643809';

function csv(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `${lines.join('\r\n')}\r\n`);
  return file;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-'));
  db = await testDb(dir); // migrations applied here, before any CLI process opens the file
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('devices', () => {
  it('device add provisions one device', async () => {
    const r = await rewind([
      'device',
      'add',
      '--dev-id',
      ADA,
      '--manufacturer',
      'Nimbus',
      '--model',
      'N1',
      '--msisdn',
      '+44 7700 900123',
      '--subscriber',
      'Ada Lovelace',
      '--server-id',
      'rewind',
      '--auth',
      'md5',
      '--client-user',
      'ada',
      '--client-pass',
      's3cret',
      '--server-pass',
      'srvs3cret',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`device ${ADA} provisioned`);
    expect((await getDeviceByDevId(db, ADA))?.model).toBe('N1');
  });

  it('device add takes a scheme each way, and device show prints them with the sessions', async () => {
    const dev = 'IMEI:356938035643810';
    const base = [
      'device',
      'add',
      '--dev-id',
      dev,
      '--manufacturer',
      'Nimbus',
      '--model',
      'N1',
      '--server-id',
      'rewind',
    ];
    const creds = ['--client-user', 'eve', '--client-pass', 'p', '--server-pass', 's'];
    const add = await rewind([...base, '--client-auth', 'basic', '--server-auth', 'md5', ...creds]);
    expect(add.stderr).toBe('');
    expect(add.code).toBe(0);
    expect(await getDeviceByDevId(db, dev)).toMatchObject({ clientAuth: 'basic', serverAuth: 'md5' });
    // --auth sets both; --server-auth wins for its own direction.
    expect((await rewind([...base, '--auth', 'hmac', '--server-auth', 'md5', ...creds])).code).toBe(0);
    expect(await getDeviceByDevId(db, dev)).toMatchObject({ clientAuth: 'hmac', serverAuth: 'md5' });

    const show = await rewind(['device', 'show', dev]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/client auth\s+hmac/);
    expect(show.stdout).toMatch(/server auth\s+md5/);
    expect(show.stdout).toContain('no DM sessions yet');
    const json = JSON.parse((await rewind(['device', 'show', dev, '--json'])).stdout) as {
      device: Record<string, unknown>;
      sessions: unknown[];
    };
    expect(json.device).toMatchObject({ devId: dev, clientAuth: 'hmac', serverAuth: 'md5' });
    expect(json.device).not.toHaveProperty('serverPassword');
    expect(json.sessions).toEqual([]);
  });

  it('device import provisions every row of a good file', async () => {
    const file = csv('good.csv', [
      HEADER,
      'IMEI:490154203237518,Nimbus,N2,+44 7700 900456,Charles Babbage,rewind,hmac,cb,"pa,ss",srv,2.1',
      '"IMEI:490154203237519",Orbit,O5,,"Lovelace, Ada",rewind,basic,ada2,  spaced pass ,srv,',
      `${ADA},Nimbus,N1,+44 7700 900123,Ada Lovelace,rewind,md5,ada,s3cret,srvs3cret,1.0.4`,
    ]);
    const r = await rewind(['device', 'import', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/imported 3 devices \(2 new, 1 updated/);
    expect((await getDeviceByDevId(db, 'IMEI:490154203237518'))?.clientAuth).toBe('hmac');
    const basic = (await getDeviceByDevId(db, 'IMEI:490154203237519'))!;
    expect(basic.clientPassword).toBe('  spaced pass '); // passwords keep their spaces
    expect(basic.firmware).toBeNull();
    expect((await getDeviceByDevId(db, ADA))?.firmware).toBe('1.0.4');
  });

  it('a file with a bad row imports nothing and names each bad row', async () => {
    const before = (await listDevices(db, 1000)).length;
    const file = csv('bad.csv', [
      HEADER,
      'IMEI:111111111111111,Nimbus,N1,+44 7700 900999,Bob,rewind,md5,bob,p,s,',
      'IMEI:222222222222222,Nimbus,N1,12,Bob,rewind,md5,bob,p,s,',
      'IMEI:333333333333333,Nimbus,N1,,Bob,rewind,rsa,bob,p,s,',
    ]);
    const r = await rewind(['device', 'import', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('row 3 (msisdn)');
    expect(r.stderr).toContain('row 4 (auth)');
    expect(r.stderr).toContain('nothing was imported');
    expect(r.stdout).toBe('');
    expect((await listDevices(db, 1000)).length).toBe(before);
    expect(await getDeviceByDevId(db, 'IMEI:111111111111111')).toBeUndefined(); // the good row was not written either
  });
});

describe('profiles', () => {
  it('profile set normalises the paths and profile show lists generic and model paths', async () => {
    const set = await rewind([
      'profile',
      'set',
      '--model',
      'Nimbus/N1',
      '--category',
      'settings',
      '--paths',
      './Settings/, ./Ext/Vendor/Sound',
    ]);
    expect(set.stderr).toBe('');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('settings for Nimbus N1: ./Settings, ./Ext/Vendor/Sound');

    const show = await rewind(['profile', 'show', '--manufacturer', 'Nimbus', '--model', 'N1']);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/settings\s+\.\/DevInfo\s+generic/);
    expect(show.stdout).toMatch(/settings\s+\.\/Settings\s+model/);
    expect(show.stdout).toMatch(/firmware\s+\.\/DevDetail\s+generic/);

    const json = JSON.parse((await rewind(['profile', 'show', '--model', 'Nimbus/N1', '--json'])).stdout) as {
      known: boolean;
      profile: Record<string, string[]>;
      own: Record<string, string[]>;
    };
    expect(json.known).toBe(true);
    expect(json.profile.settings).toEqual(['./DevInfo', './Settings', './Ext/Vendor/Sound']);
    expect(json.own.settings).toEqual(['./Settings', './Ext/Vendor/Sound']);

    const unknown = JSON.parse((await rewind(['profile', 'show', '--model', 'Acme/X1', '--json'])).stdout) as {
      known: boolean;
      profile: Record<string, string[]>;
    };
    expect(unknown.known).toBe(false);
    expect(unknown.profile.settings).toEqual(['./DevInfo']);
  });

  it('a bad path changes nothing', async () => {
    const r = await rewind([
      'profile',
      'set',
      '--model',
      'Nimbus/N1',
      '--category',
      'settings',
      '--paths',
      './Good,../etc',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('../etc');
    const json = JSON.parse((await rewind(['profile', 'show', '--model', 'Nimbus/N1', '--json'])).stdout) as {
      own: Record<string, string[]>;
    };
    expect(json.own.settings).toEqual(['./Settings', './Ext/Vendor/Sound']);
  });
});

describe.concurrent('bad arguments', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['a missing DEV_ID', ['backup'], /^rewind backup: DEV_ID is required$/],
    ['an unknown option', ['snapshots', ADA, '--bogus'], /^rewind snapshots: Unknown option '--bogus'/],
    ['an unknown category', ['backup', ADA, '--categories', 'settings,music'], /^rewind backup: --categories takes/],
    [
      'a bad category for a profile',
      ['profile', 'set', '--model', 'Nimbus/N1', '--category', 'music', '--paths', './A'],
      /^rewind profile set: --category must be one of/,
    ],
    [
      'a model without its manufacturer',
      ['profile', 'show', '--model', 'N1'],
      /^rewind profile show: --model needs the manufacturer/,
    ],
    [
      'a bad local target',
      ['local-backup', ADA, '--target', 'cloud'],
      /^rewind local-backup: --target must be device or smartcard$/,
    ],
    ['a bad scheme', ['device', 'add', '--auth', 'rsa'], /^rewind device add: --auth must be basic, md5 or hmac$/],
    [
      'a bad client scheme',
      ['device', 'add', '--auth', 'md5', '--client-auth', 'x509'],
      /^rewind device add: --client-auth must be basic, md5 or hmac$/,
    ],
    [
      'a bad server scheme',
      ['device', 'add', '--client-auth', 'basic', '--server-auth', 'none'],
      /^rewind device add: --server-auth must be basic, md5 or hmac$/,
    ],
    [
      'no scheme',
      ['device', 'add', '--server-auth', 'md5'],
      /^rewind device add: --auth or --client-auth is required$/,
    ],
    [
      'a bad scheme for the fleet',
      ['sim', '--server-auth', 'des'],
      /^rewind sim: --server-auth must be basic, md5 or hmac$/,
    ],
    ['an extra argument', ['diff', 'a', 'b', 'c'], /^rewind diff: unexpected argument "c"$/],
    [
      'a non-numeric timeout',
      ['backup', ADA, '--wait', '--timeout', 'soon'],
      /^rewind backup: --timeout must be a whole number/,
    ],
    [
      'a file that is not there',
      ['device', 'import', '/nonexistent/devices.csv'],
      /^rewind device import: cannot read/,
    ],
  ];
  it.each(cases)('%s: exit 2, a one-line error and the usage', async (_name, args, message) => {
    const r = await rewind(args);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(message);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^usage: rewind /)]); // no stack trace
    expect(r.stdout).toBe('');
  });

  it('an unknown device is a failed operation (exit 1), not a usage error', async () => {
    const r = await rewind(['snapshots', 'IMEI:000000000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('rewind snapshots: no device IMEI:000000000000000');
  });
});

describe('snapshots, snapshot and diff', () => {
  let a: string;
  let b: string;
  let incomplete: string;

  beforeAll(async () => {
    const blobs = new FileBlobStore(path.join(dir, 'blobs'));
    const device = (await getDeviceByDevId(db, ADA))!;
    a = (await seedSnapshot(db, blobs, device.id, BEFORE, { at: Date.UTC(2025, 0, 1, 10), trigger: 'scheduled' })).id;
    b = (await seedSnapshot(db, blobs, device.id, AFTER, { at: Date.UTC(2025, 0, 2, 10) })).id;
    incomplete = (await insertSnapshot(db, { deviceId: device.id, trigger: 'on-demand', categories: ['settings'] })).id;
  });

  it('snapshots lists them newest first', async () => {
    const r = await rewind(['snapshots', ADA]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^id\s+time \(UTC\)\s+trigger\s+status\s+entries\s+size\s+new\s+root$/);
    expect(lines[1]).toContain(incomplete);
    expect(lines[2]).toContain(b);
    expect(lines[3]).toMatch(new RegExp(`^${a}\\s+2025-01-01 10:00:00Z\\s+scheduled\\s+complete\\s+11\\s+`));
    expect(lines[3]).toContain((await getSnapshot(db, a))!.rootHash!.slice(0, 12));

    const json = JSON.parse((await rewind(['snapshots', ADA, '--json'])).stdout) as Array<{
      id: string;
      categories: string[];
      entries: number;
    }>;
    expect(json.map((s) => s.id)).toEqual([incomplete, b, a]);
    expect(json[2]!.entries).toBe(11);
    expect(json[2]!.categories).toEqual(expect.arrayContaining(['settings', 'firmware', 'applications']));
  });

  it('snapshot shows its entries', async () => {
    const r = await rewind(['snapshot', a]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`snapshot ${a} (complete)`);
    expect(r.stdout).toMatch(/\.\/Settings\/Ringtone\s+settings\s+bin\s+audio\/mpeg\s+512\s+[0-9a-f]{12}/);
    expect(r.stdout).toMatch(/\.\/DevInfo\s+settings\s+node\s+-\s+0\s+-/);
    const json = JSON.parse((await rewind(['snapshot', a, '--json'])).stdout) as {
      snapshot: { id: string };
      entries: Array<{ path: string }>;
    };
    expect(json.snapshot.id).toBe(a);
    expect(json.entries).toHaveLength(11);
  });

  it('snapshot --content writes the raw bytes, and nothing else, to stdout', async () => {
    const r = await rewind(['snapshot', a, '--content', './Settings/Ringtone']);
    expect(r.code).toBe(0);
    expect(new Uint8Array(r.bytes)).toEqual(RINGTONE);
    const fw = await rewind(['snapshot', b, '--content', 'DevDetail/FwV']);
    expect(fw.stdout).toBe('1.1.0');
    const missing = await rewind(['snapshot', a, '--content', './Settings/Nope']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain('has no node ./Settings/Nope');
  });

  it('an incomplete snapshot shows its row and fails; an unknown one fails', async () => {
    const r = await rewind(['snapshot', incomplete]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`snapshot ${incomplete} (incomplete)`);
    expect(r.stderr).toContain('only complete snapshots have a manifest');
    const unknown = await rewind(['snapshot', 'no-such-snapshot']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('rewind snapshot: no snapshot no-such-snapshot');
  });

  it('diff groups changes by category and calls out firmware and app versions', async () => {
    const r = await rewind(['diff', a, b]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toContain('firmware version: 1.0.3 → 1.1.0');
    expect(out).toContain('ShieldAV [com.shield.av]: upgraded 3.2.1 → 4.0.2');
    // Each category's lines by path: + added, - removed, ~ changed.
    expect(out).toContain(
      'settings: 1 added, 1 removed, 1 changed\n  ~ ./DevInfo/Lang (5 B → 5 B)\n  - ./Settings/Ringtone (512 B)\n  + ./Settings/Wallpaper (4 B)\n',
    );
    expect(out).toContain(
      'applications: 0 added, 0 removed, 1 changed\n  ~ ./SCOMO/Inventory/Deployed/av/Version (5 B → 5 B)\n',
    );
    expect(out).toMatch(/firmware: 0 added, 0 removed, 1 changed/);
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      'summary: 1 added, 1 removed, 3 changed; firmware 1.0.3 → 1.1.0; ShieldAV 3.2.1 → 4.0.2 (7 unchanged)',
    );

    const json = JSON.parse((await rewind(['diff', a, b, '--json'])).stdout) as {
      summary: string;
      firmware: unknown[];
      apps: Array<{ change: string }>;
    };
    expect(json.firmware).toEqual([{ field: 'FwV', before: '1.0.3', after: '1.1.0' }]);
    expect(json.apps[0]!.change).toBe('upgraded');

    const bad = await rewind(['diff', a, incomplete]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('incomplete');
  });
});

describe('jobs', () => {
  it('local-backup and local-restore queue jobs that jobs lists', async () => {
    const lb = await rewind(['local-backup', ADA, '--target', 'smartcard', '--categories', 'settings,applications']);
    expect(lb.code).toBe(0);
    expect(lb.stdout).toMatch(/^local-backup job [0-9a-f-]{36} queued for IMEI:356938035643809/);

    const unknown = await rewind(['local-restore', ADA, '--id', 'L-1']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe(`rewind local-restore: ${ADA} has reported no local backup L-1`);

    await upsertLocalBackup(db, {
      deviceId: (await getDeviceByDevId(db, ADA))!.id,
      localId: 'L-1',
      target: 'smartcard',
      takenAt: '2025-01-03T10:00:00Z',
      categories: '["settings"]',
      entries: 3,
      size: 120,
      rootHash: 'ab'.repeat(32),
      jobId: null,
    });
    const listed = await rewind(['local-backups', ADA]);
    expect(listed.stdout).toMatch(/L-1\s+smartcard\s+2025-01-03T10:00:00Z\s+settings\s+3\s+120 B\s+on handset/);
    const restore = await rewind(['local-restore', ADA, '--id', 'L-1']);
    expect(restore.code).toBe(0);

    const jobs = JSON.parse((await rewind(['jobs', ADA, '--json'])).stdout) as Array<{
      kind: string;
      status: string;
      request: Record<string, unknown>;
    }>;
    expect(jobs.map((j) => j.kind)).toEqual(['local-restore', 'local-backup']);
    expect(jobs[1]!.request).toMatchObject({
      target: 'smartcard',
      categories: ['settings', 'applications'],
      actor: 'cli',
    });
    const table = await rewind(['jobs', ADA]);
    expect(table.stdout).toMatch(/^id\s+kind\s+status\s+tries/);
    expect(table.stdout).toMatch(/local-restore\s+queued\s+0/);
  });
});

describe('backup against a running server', () => {
  let srv: TestServer;
  let handset: VirtualHandset;
  let stopWakes: (() => void) | undefined;

  beforeAll(async () => {
    // The server a deployment runs, over the same DATA_DIR: it sends Package #0 for jobs the CLI queues.
    srv = await startTestServer({ dataDir: dir });
    handset = openFleet({
      server: srv.dmUrl,
      devices: 1,
      stateDir: path.join(dir, 'handsets'),
      encoding: 'xml',
      // It checks the server with HMAC, where its account says MD5: the server switches (device show).
      clientAuth: 'md5',
      serverAuth: 'hmac',
      mediaScale: 0.02,
      seed: 11,
    })[0]!;
    await describeVirtualModels(srv.ctx.db);
    const info = { ...handset.identity, nonces: { ...handset.state.nonces } };
    await provisionDevice(srv.ctx.db, { ...provisionInput(info, { inprocPush: true }), serverAuth: 'md5' });
    handset.listen(srv.ctx.push.inproc);
    stopWakes = startWakeDispatcher(srv.ctx, 200);
  });

  afterAll(async () => {
    stopWakes?.();
    await handset?.idle();
    await srv?.close();
  });

  it('backup --wait wakes the handset, follows the job and exits 0 with the snapshot', async () => {
    const r = await rewind(['backup', handset.devId, '--categories', 'settings,firmware', '--wait', '--timeout', '60']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^backup job [0-9a-f-]{36} queued for ${handset.devId}$`));
    const done = /^succeeded: snapshot ([0-9a-f-]{36}), (\d+) entries/.exec(lines.at(-1)!);
    expect(done, r.stdout).not.toBeNull();
    const snap = (await getSnapshot(db, done![1]!))!;
    expect(snap.status).toBe('complete');
    expect(snap.entries).toBe(Number(done![2]));
    expect(JSON.parse(snap.categories)).toEqual(['settings', 'firmware']);

    const listed = await rewind(['snapshots', handset.devId]);
    expect(listed.stdout).toMatch(new RegExp(`${snap.id}\\s+\\S+ \\S+\\s+on-demand\\s+complete`));
    const jobs = await rewind(['jobs', handset.devId]);
    expect(jobs.stdout).toMatch(/backup\s+succeeded\s+1/);
    const shown = await rewind(['device', 'show', handset.devId]);
    expect(shown.stdout).toMatch(/server auth\s+hmac/);
    expect(shown.stdout).toMatch(
      /complete\s+\d+\s+The handset asked the server to authenticate with HMAC instead of MD5: switched/,
    );
  });

  it('backup --wait gives up at the timeout with exit 1 when no handset answers', async () => {
    const r = await rewind(['backup', 'IMEI:490154203237518', '--wait', '--timeout', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^backup job .* queued for IMEI:490154203237518 \(no push address/);
    expect(r.stderr).toMatch(/^timed out after 1 s with the job queued/);
  });
});
