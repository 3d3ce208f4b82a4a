/**
 * The restore, catalog and maintenance commands as a user runs them: real processes
 * (tsx cli/rewind.ts) over a DATA_DIR of their own, with snapshots seeded from this
 * process into the same database file and blob store (test/support/fixtures.ts); one restore is
 * run for real, by a virtual handset against the /dm server running in this process.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, type Db } from '@/db/client';
import { exec, row } from '@/db/sql';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { listAppPackages, listFirmwarePackages } from '@/db/queries/catalog';
import { ensureModel, setProfile } from '@/db/queries/profiles';
import { listItems } from '@/db/queries/restore';
import { getSnapshot, insertSnapshot, updateSnapshot } from '@/db/queries/snapshots';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { createBackupJob } from '@/lib/backup/jobs';
import { openFleet } from '@/sim/fleet';
import type { VirtualHandset } from '@/sim/handset';
import { describeVirtualModels, provisionFleet } from '@/sim/provision';
import { startTestServer, type TestServer } from '@/test/support/test-server';
import { startWakeDispatcher } from '@/lib/jobs/wake-dispatcher';
import { provisionDevice } from '@/lib/devices/devices';
import type { RestorePlan } from '@/lib/restore/plan';
import { databaseEnv, testDb } from '@/test/support/db';
import { AFTER, BEFORE, seedSnapshot } from '@/test/support/fixtures';
import { formatBytes } from './format';
import { createBlobStore } from '@/lib/core/context';
import { env } from '@/lib/core/env';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let db: Db;
let blobs: FileBlobStore;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function rewind(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['cli/rewind.ts', ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
        timeout: 120_000,
        env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent', ...databaseEnv(db) },
      },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const ADA = 'IMEI:356938035643809';
const BOB = 'IMEI:490154203237518';
const CAROL = 'IMEI:351756051523999';
const DAVE = 'IMEI:352099001761481';

/** Bytes that stand for a package; the catalog stores whatever it is given. */
const FW_BYTES = 2048;
const APP_BYTES = 1536;

function provision(devId: string, subscriber: string, firmware?: string) {
  return provisionDevice(db, {
    devId,
    manufacturer: 'Nimbus',
    model: 'N1',
    subscriber,
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    ...(firmware ? { firmware } : {}),
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-restore-cli-'));
  db = await testDb(dir); // migrations applied here, before any CLI process opens the file
  blobs = new FileBlobStore(path.join(dir, 'blobs'));
  const ada = await provision(ADA, 'Ada Lovelace', '1.0.2');
  await updateDevice(db, ada.id, { networkState: JSON.stringify({ bearer: 'cellular', roaming: false }) });
  await provision(BOB, 'Bob Babbage');
  await provision(CAROL, 'Carol Shaw');
  await provision(DAVE, 'Dave Cutler');
  await setProfile(db, (await ensureModel(db, 'Nimbus', 'N1')).id, 'settings', ['./Settings']);
  fs.writeFileSync(
    path.join(dir, 'fw.bin'),
    Uint8Array.from({ length: FW_BYTES }, (_, i) => (i * 7) % 256),
  );
  fs.writeFileSync(
    path.join(dir, 'app.bin'),
    Uint8Array.from({ length: APP_BYTES }, (_, i) => (i * 13) % 256),
  );
  fs.writeFileSync(path.join(dir, 'empty.bin'), new Uint8Array(0));
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('catalog', () => {
  it('firmware add and app add publish packages that catalog lists', async () => {
    const [fw, app] = await Promise.all([
      rewind([
        'firmware',
        'add',
        '--manufacturer',
        'Nimbus',
        '--model',
        'N1',
        '--version',
        '1.0.3',
        '--name',
        'N1 1.0.3',
        path.join(dir, 'fw.bin'),
      ]),
      rewind([
        'app',
        'add',
        '--id',
        'com.shield.av',
        '--name',
        'ShieldAV',
        '--version',
        '3.2.1',
        '--models',
        'Nimbus/N1, Nimbus/N2',
        path.join(dir, 'app.bin'),
      ]),
    ]);
    expect(fw.stderr).toBe('');
    expect(fw.code).toBe(0);
    expect(fw.stdout).toMatch(
      /^firmware Nimbus N1 1\.0\.3 published: package [0-9a-f-]{36}, 2\.0 KB, sha256 [0-9a-f]{12}\n$/,
    );
    expect(app.stderr).toBe('');
    expect(app.code).toBe(0);
    expect(app.stdout).toMatch(
      /^app ShieldAV \[com\.shield\.av\] 3\.2\.1 published for Nimbus\/N1, Nimbus\/N2: package [0-9a-f-]{36}, 1\.5 KB/,
    );

    const [text, json] = await Promise.all([rewind(['catalog']), rewind(['catalog', '--json'])]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^firmware \(1\):\nmanufacturer\s+model\s+version\s+name\s+size\s+added \(UTC\)\s+package\nNimbus\s+N1\s+1\.0\.3\s+N1 1\.0\.3\s+2\.0 KB\s/,
    );
    expect(text.stdout).toMatch(
      /apps \(1\):\napp id\s+name\s+version\s+models\s+size.*\ncom\.shield\.av\s+ShieldAV\s+3\.2\.1\s+Nimbus\/N1,Nimbus\/N2\s+1\.5 KB/,
    );
    const listed = JSON.parse(json.stdout) as {
      firmware: Array<Record<string, unknown>>;
      apps: Array<Record<string, unknown>>;
    };
    expect(listed.firmware).toEqual([
      expect.objectContaining({
        manufacturer: 'Nimbus',
        model: 'N1',
        version: '1.0.3',
        name: 'N1 1.0.3',
        size: FW_BYTES,
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      }),
    ]);
    expect(listed.apps).toEqual([
      expect.objectContaining({
        appId: 'com.shield.av',
        version: '3.2.1',
        models: ['Nimbus/N1', 'Nimbus/N2'],
        size: APP_BYTES,
      }),
    ]);
    // The package is in the deployment's store (a pack, sealed), readable by its hash.
    const stored = await createBlobStore({ ...env(), dataDir: dir }, db).get(listed.firmware[0]!.sha256 as string);
    expect(stored?.length).toBe(FW_BYTES);
  });

  it('a bad version or an empty file publishes nothing (exit 2)', async () => {
    const [version, empty] = await Promise.all([
      rewind([
        'firmware',
        'add',
        '--manufacturer',
        'Nimbus',
        '--model',
        'N1',
        '--version',
        '1.0 beta',
        path.join(dir, 'fw.bin'),
      ]),
      rewind(['app', 'add', '--id', 'com.x', '--name', 'X', '--version', '1', path.join(dir, 'empty.bin')]),
    ]);
    expect(version.code).toBe(2);
    expect(version.stderr).toMatch(/^rewind firmware add: "1\.0 beta" is not a version/);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/^rewind app add: the package is empty/);
    expect([(await listFirmwarePackages(db)).length, (await listAppPackages(db)).length]).toEqual([1, 1]);
  });
});

describe('restore', () => {
  let snap: string;

  beforeAll(async () => {
    const ada = (await getDeviceByDevId(db, ADA))!;
    snap = (
      await seedSnapshot(
        db,
        blobs,
        ada.id,
        {
          ...BEFORE,
          './Settings/Email': { category: 'settings' },
          './Settings/Email/Work': { category: 'settings' },
          './Settings/Email/Work/Server': { category: 'settings', value: 'imap.example.org' },
          './Ext/Vendor/Theme': { category: 'settings', value: 'dark' },
        },
        { at: Date.UTC(2025, 0, 1, 10) },
      )
    ).id;
    // The handset as last backed up: no mail account, no ringtone, a newer antivirus.
    await seedSnapshot(db, blobs, ada.id, AFTER, { at: Date.UTC(2025, 0, 2, 10) });
  });

  it('--dry-run prints the plan: steps by kind, bytes, cost, the exact prompt and what will not be carried', async () => {
    const [text, json] = await Promise.all([
      rewind(['restore', ADA, '--snapshot', snap, '--dry-run']),
      rewind(['restore', ADA, '--snapshot', snap, '--dry-run', '--json']),
    ]);
    expect(json.stderr).toBe('');
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout) as RestorePlan;
    expect(plan.steps.map((s) => [s.seq, s.kind, s.path, s.op])).toEqual([
      [1, 'firmware', './DevDetail/FwV', 'update'],
      [2, 'app', './SCOMO/Inventory/Deployed/av', 'install'],
      [3, 'node', './Settings/Email', 'ensure'],
      [4, 'node', './Settings/Email/Work', 'ensure'],
      [5, 'node', './Settings/Email/Work/Server', 'add'], // values in manifest (path) order
      [6, 'node', './Settings/Ringtone', 'add'],
    ]);
    // Compared with the handset as last backed up: each step says what it finds and what it leaves.
    expect(plan.summary).toEqual({ unchanged: 0, change: 2, add: 2, remove: 0, keep: 0, notCarried: 1 });
    expect(plan.steps[1]).toMatchObject({ before: '4.0.2', after: '3.2.1' });
    expect(plan.steps[5]).toMatchObject({ before: null, after: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(plan.steps[0]).toMatchObject({ from: '1.0.2', to: '1.0.3', bytes: FW_BYTES });
    expect(plan.bytes).toBe(FW_BYTES + APP_BYTES + 512 + 'imap.example.org'.length);
    expect(plan.cost.network).toBe('home');
    expect(plan.notCarried).toEqual([{ path: './Ext/Vendor/Theme', reason: 'the Nimbus N1 profile has no such node' }]);

    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const out = text.stdout;
    expect(out).toContain(
      `restore from snapshot ${snap} of ${ADA} (taken 2025-01-01 10:00:00Z)\n  to       ${ADA} (the same handset)\n`,
    );
    expect(out).toContain('firmware (1):\n  1. 1.0.2 → 1.0.3 through FUMO (2.0 KB)\n');
    expect(out).toContain(
      '  summary  unchanged 0 · will change 2 · will add 2 · will remove 0 · newer kept 0 · not carried 1\n',
    );
    expect(out).toContain('apps (1):\n  2. ShieldAV [com.shield.av] 4.0.2 → 3.2.1 through SCOMO (1.5 KB)\n');
    expect(out).toMatch(
      /nodes that change \(4\):\n\s+seq\s+op\s+path\s+before → after\s+note\n\s+3\s+ensure\s+\.\/Settings\/Email\s+folder made\n/,
    );
    expect(out).toMatch(
      /\n\s+5\s+add\s+\.\/Settings\/Email\/Work\/Server\s+- → "imap\.example\.org"\s+atomic with \.\/Settings\/Email\/Work\n/,
    );
    expect(out).toMatch(/\n\s+6\s+add\s+\.\/Settings\/Ringtone\s+- → 512 B [0-9a-f]{12}\n/);
    expect(out).toContain(`bytes    ${(plan.bytes / 1024).toFixed(1)} KB (${plan.bytes} bytes)\n`);
    expect(out).toContain(`cost     ${plan.cost.text} (network: home)\n`);
    expect(out).toContain(`prompt   ${JSON.stringify(plan.prompt.text)}\n`);
    expect(plan.prompt.text).toMatch(
      /^Restore firmware 1\.0\.3, 1 app, settings from your backup of 2025-01-01 \(.+\)\? Charges may apply: about EUR/,
    );
    expect(out).toContain('choices  1. Now  2. Later on Wi-Fi  3. Reject\n');
    expect(out).toContain(JSON.stringify(plan.prompt.fallback.text));
    expect(out).toContain('will not be carried (1):\n  ./Ext/Vendor/Theme: the Nimbus N1 profile has no such node\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      'dry run: nothing was sent; run it again without --dry-run to restore',
    );
    // A dry run stores no plan (a stored one would keep the snapshot from retention) and queues nothing.
    expect(await row(db, sql`select count(*) as n from restore_plans`)).toEqual({ n: 0 });
    expect(await row(db, sql`select count(*) as n from jobs`)).toEqual({ n: 0 });
  });

  it("a selection narrows the plan; the snapshot must be DEV_ID's and the target the same subscriber's", async () => {
    const [apps, other, notSame] = await Promise.all([
      rewind(['restore', ADA, '--snapshot', snap, '--apps', 'com.shield.av', '--dry-run', '--json']),
      rewind(['restore', BOB, '--snapshot', snap, '--dry-run']),
      rewind(['restore', ADA, '--snapshot', snap, '--to', BOB, '--dry-run']),
    ]);
    expect((JSON.parse(apps.stdout) as RestorePlan).steps.map((s) => s.kind)).toEqual(['app']);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(`rewind restore: snapshot ${snap} is a backup of ${ADA}, not of ${BOB}`);
    expect(notSame.code).toBe(1);
    expect(notSame.stderr.trim()).toBe(`rewind restore: ${BOB} is not a handset of the same subscriber as ${ADA}`);
  });

  it('without --dry-run it queues a safety backup and the restore; job shows its items', async () => {
    const args = ['restore', ADA, '--snapshot', snap, '--categories', 'settings', '--paths', './Settings/Email/'];
    const why = await rewind(args);
    expect(why.code).toBe(2);
    expect(why.stderr).toMatch(/--reason is required/);
    const r = await rewind([...args, '--reason', 'ticket 12: mail account lost']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^plan [0-9a-f-]{36}: 3 steps, 16 B, about EUR 0\.00 on your home network; 0 not carried$/,
    );
    const m =
      /^restore job ([0-9a-f-]{36}) queued for IMEI:356938035643809 after safety backup ([0-9a-f-]{36}) \(no push address/.exec(
        lines[1]!,
      );
    expect(m, r.stdout).not.toBeNull();
    const [, jobId, backupId] = m!;
    expect(await getJob(db, jobId!)).toMatchObject({ kind: 'restore', status: 'queued', dependsOn: backupId });
    expect((await listItems(db, jobId!)).map((i) => [i.path, i.op, i.status])).toEqual([
      ['./Settings/Email', 'add', 'pending'],
      ['./Settings/Email/Work', 'add', 'pending'],
      ['./Settings/Email/Work/Server', 'add', 'pending'],
    ]);

    const [text, json, retry] = await Promise.all([
      rewind(['job', jobId!]),
      rewind(['job', jobId!, '--json']),
      rewind(['retry-failed', jobId!]),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`job ${jobId}: restore of ${ADA} (plan `);
    expect(text.stdout).toContain('  reason    ticket 12: mail account lost\n');
    expect(text.stdout).toContain(
      `  status    waiting for the safety backup ${backupId}: queued: waiting for a server to send Package #0\n`,
    );
    expect(text.stdout).toMatch(
      /items \(3: 3 pending\):\n\s+seq\s+kind\s+path\s+op\s+status\s+detail\n\s+1\s+node\s+\.\/Settings\/Email\s+add\s+pending\s+-\n/,
    );
    expect(text.stdout).toContain('consents (0):\n  none yet');
    const detail = JSON.parse(json.stdout) as {
      kind: string;
      counts: Record<string, number>;
      items: Array<{ seq: number; status: string }>;
      consents: unknown[];
    };
    expect(detail).toMatchObject({ kind: 'restore', counts: { total: 3, pending: 3 }, consents: [] });
    expect(detail.items.map((i) => i.seq)).toEqual([1, 2, 3]);
    expect(retry.code).toBe(1);
    expect(retry.stderr.trim()).toBe('rewind retry-failed: the restore is still running');
  });
});

describe('retention, gc and hold', () => {
  const ids: string[] = [];
  let incomplete: string;

  beforeAll(async () => {
    const carol = (await getDeviceByDevId(db, CAROL))!;
    for (let i = 1; i <= 7; i++) {
      const s = await seedSnapshot(
        db,
        blobs,
        carol.id,
        { './Settings/Counter': { category: 'settings', value: `carol ${i}` }, ...BEFORE },
        { at: Date.UTC(2025, 1, 3, 9, i) },
      );
      ids.push(s.id);
    }
    incomplete = (await insertSnapshot(db, { deviceId: carol.id, trigger: 'scheduled', categories: ['settings'] })).id;
    await updateSnapshot(db, incomplete, { startedAt: Date.UTC(2025, 0, 20) });
    // Everything stored long ago: past garbage collection's grace period.
    await exec(db, sql`update blobs set created_at = ${Date.now() - 3_600_000}`);
  });

  it('hold puts a snapshot under legal hold; retention --dry-run shows what goes and why, and what GC would sweep', async () => {
    const hold = await rewind(['hold', ids[0]!]);
    expect(hold.code).toBe(0);
    expect(hold.stdout.trim()).toBe(`snapshot ${ids[0]} is under legal hold: retention keeps it until it is released`);
    expect((await getSnapshot(db, ids[0]!))!.legalHold).toBe(true);

    const [r, gc] = await Promise.all([rewind(['retention', CAROL, '--dry-run']), rewind(['gc', '--dry-run'])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(
      /^IMEI:351756051523999: policy "Standard" keeps the last 5, 7 daily, 4 weekly, 12 monthly \(dry run: nothing deleted\)\n/,
    );
    expect(out).toMatch(
      new RegExp(
        `kept \\(6\\):\\nsnapshot\\s+time \\(UTC\\)\\s+status\\s+why\\n${ids[6]}\\s+2025-02-03 09:07:00Z\\s+complete\\s+last, daily, weekly, monthly\\n`,
      ),
    );
    expect(out).toMatch(new RegExp(`${ids[2]}\\s+2025-02-03 09:03:00Z\\s+complete\\s+last\\n`));
    expect(out).toMatch(new RegExp(`${ids[0]}\\s+2025-02-03 09:01:00Z\\s+complete\\s+legal hold\\n`));
    expect(out).toMatch(
      new RegExp(
        `would remove \\(2\\):\\nsnapshot\\s+time \\(UTC\\)\\s+status\\s+why\\n${ids[1]}\\s+2025-02-03 09:02:00Z\\s+complete\\s+not kept by any rule\\n${incomplete}\\s+2025-01-20 00:00:00Z\\s+incomplete\\s+incomplete\\n`,
      ),
    );
    // The removed snapshot's own value and its manifest; everything else is shared or kept.
    const manifest = (await row<{ size: number }>(
      db,
      sql`select size from blobs where hash = ${(await getSnapshot(db, ids[1]!))!.rootHash}`,
    ))!;
    expect(out.trimEnd().split('\n').at(-1)).toBe(
      `garbage collection would sweep 2 blobs (${formatBytes(manifest.size + 'carol 2'.length)})`,
    );
    expect(gc.stdout.trim()).toBe('garbage collection would sweep 0 blobs (0 B)');
    for (const id of [...ids, incomplete]) expect(await getSnapshot(db, id), id).toBeDefined();

    const release = await rewind(['hold', ids[0]!, '--release']);
    expect(release.stdout.trim()).toBe(`legal hold on snapshot ${ids[0]} released`);
    expect((await getSnapshot(db, ids[0]!))!.legalHold).toBe(false);
  });
});

describe('verify', () => {
  let good: string;
  let bad: string;

  beforeAll(async () => {
    const dave = (await getDeviceByDevId(db, DAVE))!;
    good = (await seedSnapshot(db, blobs, dave.id, BEFORE, { at: Date.UTC(2025, 2, 1) })).id;
    bad = (
      await seedSnapshot(
        db,
        blobs,
        dave.id,
        { ...BEFORE, './Settings/Only': { category: 'settings', value: 'only in this snapshot' } },
        { at: Date.UTC(2025, 2, 2) },
      )
    ).id;
    // Bit rot: the value's file no longer holds what its name says.
    const { createHash } = await import('node:crypto');
    const hash = createHash('sha256').update('only in this snapshot').digest('hex');
    fs.writeFileSync(path.join(dir, 'blobs', hash.slice(0, 2), hash.slice(2, 4), hash), 'only in this snapsho!');
  });

  it('a sound snapshot passes; a damaged value fails with exit 1, for one snapshot, a device and all', async () => {
    const [ok, damaged, device, all] = await Promise.all([
      rewind(['verify', good]),
      rewind(['verify', bad]),
      rewind(['verify', '--device', DAVE]),
      rewind(['verify', '--all']),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`${good}: ok (8 values checked)`);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toBe('');
    expect(damaged.stderr.trim().split('\n')).toEqual([
      `${bad}: DAMAGED: 0 missing, 1 damaged of 9 values`,
      '  damaged  ./Settings/Only',
    ]);
    expect(device.code).toBe(1);
    expect(device.stdout.trim()).toBe(`${good}: ok (8 values checked)`);
    expect(device.stderr.trim().split('\n').at(-1)).toBe(`2 snapshots verified of ${DAVE}: 1 DAMAGED`);
    expect(all.code).toBe(1);
    expect(all.stderr).toContain(`${bad}: DAMAGED: 0 missing, 1 damaged of 9 values [${DAVE}]`);
    expect(all.stderr.trim().split('\n').at(-1)).toMatch(/^\d+ snapshots verified: 1 DAMAGED$/);
  });
});

describe.concurrent('bad arguments', () => {
  const fw = () => path.join(dir, 'fw.bin');
  const cases: Array<[string, () => string[], RegExp]> = [
    ['restore without --snapshot', () => ['restore', ADA, '--dry-run'], /^rewind restore: --snapshot is required$/],
    [
      'restore with a path that is not a DM path',
      () => ['restore', ADA, '--snapshot', 's', '--paths', './Settings,../etc', '--dry-run'],
      /^rewind restore: --paths takes .*"\.\.\/etc"/,
    ],
    [
      'restore --dry-run --wait',
      () => ['restore', ADA, '--snapshot', 's', '--dry-run', '--wait'],
      /^rewind restore: --dry-run and --wait exclude each other$/,
    ],
    ['job without JOB_ID', () => ['job'], /^rewind job: JOB_ID is required$/],
    [
      'firmware add without --version',
      () => ['firmware', 'add', '--manufacturer', 'Nimbus', '--model', 'N1', fw()],
      /^rewind firmware add: --version: is required$/,
    ],
    [
      'firmware add with a file that is not there',
      () => ['firmware', 'add', '--manufacturer', 'Nimbus', '--model', 'N1', '--version', '1', '/nonexistent/fw.bin'],
      /^rewind firmware add: cannot read \/nonexistent\/fw\.bin: ENOENT$/,
    ],
    [
      'app add with a model without its manufacturer',
      () => ['app', 'add', '--id', 'com.x', '--name', 'X', '--version', '1', '--models', 'N1', fw()],
      /^rewind app add: --models: a model is "MANUFACTURER\/MODEL"$/,
    ],
    ['retention without DEV_ID', () => ['retention', '--dry-run'], /^rewind retention: DEV_ID is required$/],
    ['gc with an unknown option', () => ['gc', '--force'], /^rewind gc: Unknown option '--force'/],
    [
      'verify with nothing to verify',
      () => ['verify'],
      /^rewind verify: give one of SNAPSHOT_ID, --device DEV_ID or --all$/,
    ],
    ['hold without SNAPSHOT_ID', () => ['hold', '--release'], /^rewind hold: SNAPSHOT_ID is required$/],
  ];
  it.each(cases)('%s: exit 2, a one-line error and the usage', async (_name, args, message) => {
    const r = await rewind(args());
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(message);
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^usage: rewind /)]);
    expect(r.stdout).toBe('');
  });

  it('an unknown snapshot or job is a failed operation (exit 1)', async () => {
    const [hold, job] = await Promise.all([rewind(['hold', 'nope']), rewind(['job', 'nope'])]);
    expect([hold.code, job.code]).toEqual([1, 1]);
    expect(hold.stderr.trim()).toBe('rewind hold: no snapshot nope');
    expect(job.stderr.trim()).toBe('rewind job: no job nope');
  });
});

describe('restore --wait against a running server', () => {
  let srv: TestServer;
  let handset: VirtualHandset;
  let stopWakes: (() => void) | undefined;
  let snap: string;

  beforeAll(async () => {
    // The server a deployment runs, over the same DATA_DIR: it sends Package #0 for the jobs the CLI queues.
    srv = await startTestServer({ dataDir: dir });
    handset = openFleet({
      server: srv.dmUrl,
      devices: 1,
      stateDir: path.join(dir, 'handsets'),
      encoding: 'wbxml',
      auth: 'md5',
      mediaScale: 0.02,
      seed: 17,
    })[0]!;
    await describeVirtualModels(srv.ctx.db);
    await provisionFleet(srv.ctx.db, [{ ...handset.identity, nonces: { ...handset.state.nonces } }], {
      inprocPush: true,
    });
    handset.listen(srv.ctx.push.inproc);
    const { job } = await createBackupJob(srv.ctx.db, (await getDeviceByDevId(srv.ctx.db, handset.devId))!, {
      trigger: 'on-demand',
      categories: ['settings'],
      actor: 'test',
    });
    await handset.connect({ initiator: 'client' });
    snap = (JSON.parse((await getJob(srv.ctx.db, job.id))!.result!) as { snapshotId: string }).snapshotId;
    stopWakes = startWakeDispatcher(srv.ctx, 200);
  });

  afterAll(async () => {
    stopWakes?.();
    await handset?.idle();
    await srv?.close();
  });

  it('follows the safety backup, the consent and the items to the end: exit 0 when all are verified, 1 when the user rejects', async () => {
    handset.damage('settings');
    const r = await rewind([
      'restore',
      handset.devId,
      '--snapshot',
      snap,
      '--categories',
      'settings',
      '--reason',
      'ticket 9',
      '--wait',
      '--timeout',
      '60',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^plan [0-9a-f-]{36}: \d+ steps, /);
    const jobId = /^restore job ([0-9a-f-]{36}) queued for /.exec(lines[1]!)![1]!;
    expect(lines).toContain('consent: accepted (choice prompt 1103, on wifi, free on Wi-Fi)');
    const total = (await listItems(db, jobId)).filter((i) => i.status !== 'unchanged').length;
    expect(total).toBeGreaterThan(0);
    expect(lines.at(-1)).toBe(`succeeded: ${total} of ${total} items verified`);
    expect(handset.tree.children('./Settings/Email').length).toBeGreaterThan(0);

    // Damaged again: a handset already equal to the backup would not be asked at all.
    handset.damage('settings');
    handset.user.behaviour = 'reject';
    try {
      const no = await rewind([
        'restore',
        handset.devId,
        '--snapshot',
        snap,
        '--categories',
        'settings',
        '--reason',
        'ticket 9',
        '--wait',
        '--timeout',
        '60',
      ]);
      expect(no.code).toBe(1);
      expect(no.stdout).toContain('consent: rejected (choice prompt 1103');
      expect(no.stderr.trim()).toBe('rejected: the user rejected the restore on the handset');
    } finally {
      handset.user.behaviour = 'accept';
    }
  });
});
