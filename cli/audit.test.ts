/**
 * Every CLI command that changes data leaves an audit entry, as a real process over a
 * DATA_DIR of its own: the domain's entry when there is one, else the command's own
 * record; reading commands and dry runs leave none; a DS password reset has one name.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { column, rows } from '@/db/sql';
import { sql } from 'drizzle-orm';
import { provisionDevice } from '@/lib/devices/devices';
import { databaseEnv, testDb } from '@/test/support/db';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const DEV = 'IMEI:356938035643809';

let dir: string;
let db: Db;

function rewind(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['cli/rewind.ts', ...args],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
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
    ).stdin!.end();
  });
}

/** The audit entries a command wrote: action, device and details. */
async function auditOf(
  args: string[],
  code = 0,
): Promise<Array<{ actor: string; action: string; deviceId: string | null; details: string | null }>> {
  const before = new Set(await column<string>(db, sql`select id from audit_events`));
  const r = await rewind(args);
  expect(r.code, r.stderr).toBe(code);
  const all = await rows<{
    id: string;
    actor: string;
    action: string;
    deviceId: string | null;
    details: string | null;
  }>(db, sql`select id, actor, action, device_id as "deviceId", details from audit_events order by at, id`);
  return all.filter((e) => !before.has(e.id)).map(({ id: _id, ...e }) => e);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-audit-'));
  db = await testDb(dir);
  await provisionDevice(db, {
    devId: DEV,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  });
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the CLI audit', () => {
  it('records a DS account created, then its password reset under the name the console and the API use', async () => {
    const created = await auditOf([
      'ds-account',
      'add',
      '--dev-id',
      DEV,
      '--user',
      'ada-phone',
      '--pass',
      'first s3cret',
    ]);
    expect(created.map((e) => [e.actor, e.action])).toEqual([['cli', 'ds-account.created']]);
    const reset = await auditOf([
      'ds-account',
      'add',
      '--dev-id',
      DEV,
      '--user',
      'ada-phone',
      '--pass',
      'second s3cret',
    ]);
    expect(reset.map((e) => e.action)).toEqual(['ds-account.password-reset']);
    expect(JSON.stringify([created, reset])).not.toMatch(/s3cret/);
  }, 60_000);

  it('records commands that changed data without an entry of their own, and nothing for dry runs or failures', async () => {
    expect((await auditOf(['search', 'reindex'])).map((e) => [e.actor, e.action])).toEqual([
      ['cli', 'cli.search-reindex'],
    ]);
    expect((await auditOf(['gc'])).map((e) => e.action)).toEqual(['cli.gc']);
    expect(await auditOf(['gc', '--dry-run'])).toEqual([]);
    expect(await auditOf(['hold', 'no-such-snapshot'], 1)).toEqual([]);
  }, 60_000);
});
