/**
 * The Data Sync commands as a user runs them: real processes (tsx cli/rewind.ts) over the
 * DATA_DIR of a server running in this process, whose virtual handsets take the jobs those
 * processes queue (Package #0 from the wake dispatcher, DM, then DS).
 */
import { execFile } from 'node:child_process';
import { databaseEnv } from '@/test/support/db';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { devices } from '@/db/schema';
import type { VirtualHandset } from '@/sim/handset';
import { emptyHandsetDs, userPut } from '@/sim/ds-store';
import { startTestFleet, type TestFleet } from '@/test/support/test-fleet';
import { startWakeDispatcher } from '@/lib/jobs/wake-dispatcher';

const ROOT = path.resolve(__dirname, '../..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let srv: TestFleet;
let stopWakes: () => void;
let phone: VirtualHandset;
let newPhone: VirtualHandset;
let stranger: VirtualHandset;

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
        env: { ...process.env, DATA_DIR: srv.dataDir, LOG_LEVEL: 'silent', ...databaseEnv(srv.ctx.db) },
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

beforeAll(async () => {
  srv = await startTestFleet({ devices: 3, seed: 33, mediaScale: 0.01 });
  [phone, newPhone, stranger] = srv.handsets as [VirtualHandset, VirtualHandset, VirtualHandset];
  const subscriber = (await getDeviceByDevId(srv.ctx.db, phone.devId))!.subscriberId;
  await srv.ctx.db.update(devices).set({ subscriberId: subscriber }).where(eq(devices.devId, newPhone.devId));
  newPhone.state.ds = emptyHandsetDs(newPhone.identity.model);
  stopWakes = startWakeDispatcher(srv.ctx, 200);
});

afterAll(async () => {
  stopWakes?.();
  await srv?.close();
});

describe('rewind ds-backup, ds-snapshots, ds-diff, ds-restore', () => {
  it('backs up, lists, diffs and migrates a phonebook; another subscriber’s handset is refused', async () => {
    const first = await rewind(['ds-backup', phone.devId, '--wait', '--timeout', '60']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/ds-backup job .* queued/);
    expect(first.stdout).toMatch(
      /succeeded: DS snapshot .*, \d+ contacts, \d+ events \(contacts: \d+ added; calendar: \d+ added\)/,
    );

    for (const luid of Object.keys(phone.ds.stores.contacts.items).slice(0, 3)) {
      userPut(
        phone.ds,
        'contacts',
        phone.ds.stores.contacts.items[luid]!.text.replace(/^FN:.*$/m, `FN:Changed ${luid}`),
        luid,
      );
    }
    const second = await rewind(['ds-backup', phone.devId, '--wait']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain('(contacts: 3 replaced)');

    const list = await rewind(['ds-snapshots', phone.devId, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const snaps = JSON.parse(list.stdout) as Array<{ id: string; contacts: number; syncType: string }>;
    expect(snaps.map((s) => s.syncType)).toEqual(['two-way', 'slow']);
    const table = await rewind(['ds-snapshots', phone.devId]);
    expect(table.stdout).toContain(snaps[0]!.id);

    const diff = await rewind(['ds-diff', snaps[1]!.id, snaps[0]!.id, '--json']);
    expect(diff.code, diff.stderr).toBe(0);
    const d = JSON.parse(diff.stdout) as { changed: Array<{ summary: string }>; added: unknown[]; removed: unknown[] };
    expect(d.changed.map((c) => c.summary).every((s) => s.startsWith('Changed '))).toBe(true);
    expect([d.changed.length, d.added.length, d.removed.length]).toEqual([3, 0, 0]);
    const words = await rewind(['ds-diff', snaps[1]!.id, snaps[0]!.id]);
    expect(words.stdout).toMatch(/^contacts\s+0 added, 0 removed, 3 changed$/m);
    expect(words.stdout).toMatch(/^~ contacts\s+Changed /m);

    const refused = await rewind(['ds-restore', snaps[0]!.id, '--to', stranger.devId]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is not a handset of the same subscriber');

    const migrated = await rewind(['ds-restore', snaps[0]!.id, '--to', newPhone.devId, '--wait']);
    expect(migrated.code, migrated.stderr).toBe(0);
    expect(migrated.stdout).toContain(`restored from DS snapshot ${snaps[0]!.id}`);
    expect(Object.keys(newPhone.ds.stores.contacts.items)).toHaveLength(snaps[0]!.contacts);

    const unknown = await rewind(['ds-diff', snaps[0]!.id, 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no DS snapshot nope');
  }, 240_000);
});
