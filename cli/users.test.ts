/** `rewind user add` as a user runs it: a real process over a DATA_DIR of its own. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { subscribers } from '@/db/schema';
import { getUserByEmail } from '@/db/queries/users';
import { authenticate } from '@/lib/auth/users';
import { databaseEnv, testDb } from '@/test/support/db';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let db: Db;

function rewind(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
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
    );
    if (stdin !== undefined) child.stdin!.end(stdin);
    else child.stdin!.end();
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-cli-users-'));
  db = await testDb(dir);
});

afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('user add', () => {
  it('creates an admin with the password given on the command line', async () => {
    const r = await rewind([
      'user',
      'add',
      '--email',
      'Root@Rewind.Test',
      '--password',
      'a long password',
      '--role',
      'admin',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^user root@rewind\.test created \(admin, id [0-9a-f-]{36}\)\n$/);
    expect((await authenticate(db, 'root@rewind.test', 'a long password')).ok).toBe(true);
  });

  it('reads the password from the first line of standard input when --password is absent', async () => {
    const r = await rewind(
      ['user', 'add', '--email', 'agent@rewind.test', '--role', 'agent'],
      'piped password 1\nsecond line ignored\n',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('user agent@rewind.test created (agent');
    expect((await authenticate(db, 'agent@rewind.test', 'piped password 1')).ok).toBe(true);
  });

  it('links a subscriber user to its subscriber', async () => {
    const [sub] = await db.insert(subscribers).values({ name: 'Ada Lovelace' }).returning();
    const r = await rewind(
      ['user', 'add', '--email', 'ada@example.com', '--role', 'subscriber', '--subscriber', sub!.id],
      'ada password!\n',
    );
    expect(r.code).toBe(0);
    expect((await getUserByEmail(db, 'ada@example.com'))?.subscriberId).toBe(sub!.id);
  });

  it('exits 2 with a one-line reason for a bad role, a short password, a missing or unknown subscriber, a taken email', async () => {
    const cases: Array<[string[], string | undefined, RegExp]> = [
      [
        ['--email', 'x@rewind.test', '--password', 'a long password', '--role', 'root'],
        undefined,
        /--role must be admin, agent, subscriber/,
      ],
      [['--email', 'x@rewind.test', '--role', 'agent'], 'short\n', /at least 10 characters/],
      [
        ['--email', 'x@rewind.test', '--password', 'a long password', '--role', 'subscriber'],
        undefined,
        /needs the subscriber/,
      ],
      [
        ['--email', 'x@rewind.test', '--password', 'a long password', '--role', 'subscriber', '--subscriber', 'nope'],
        undefined,
        /no subscriber nope/,
      ],
      [
        ['--email', 'ROOT@rewind.test', '--password', 'a long password', '--role', 'agent'],
        undefined,
        /already exists/,
      ],
      [['--password', 'a long password', '--role', 'agent'], undefined, /--email is required/],
    ];
    for (const [args, stdin, message] of cases) {
      const r = await rewind(['user', 'add', ...args], stdin);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toContain('usage: rewind user add');
    }
    expect(await getUserByEmail(db, 'x@rewind.test')).toBeUndefined();
  });
});
