/** `rewind seed` and `rewind search reindex` as a user runs them: a real process over a DATA_DIR of its own. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql, type SQL } from 'drizzle-orm';
import { closeDb, sqliteClient, type Db } from '@/db/client';
import { exec, rows, value } from '@/db/sql';
import { searchSubscribers } from '@/db/queries/search';
import { luhnDigit } from '@/sim/generate';
import { seedFleet, seedImei, seedMsisdn } from '@/sim/seed';
import { databaseEnv, testDb } from '@/test/support/db';

const ROOT = path.resolve(__dirname, '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');

let dir: string;
let db: Db;

function rewind(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      ['cli/rewind.ts', ...args],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, DATA_DIR: dir, LOG_LEVEL: 'silent', ...databaseEnv(db) } },
      (err, stdout, stderr) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === 'number'
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const all = <T>(q: SQL) => rows<T>(db, q);
const count = async (t: string) => Number(await value(db, sql`select count(*) as n from ${sql.identifier(t)}`));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-seed-'));
  db = await testDb(dir);
});
afterAll(async () => {
  if (db) await closeDb(db);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the seeded fleet', () => {
  it('is the same for the same seed, with one to three handsets a subscriber', () => {
    const a = [...seedFleet({ devices: 500, seed: 3, now: 0 })];
    expect([...seedFleet({ devices: 500, seed: 3, now: 0 })]).toEqual(a);
    expect(a.reduce((n, s) => n + s.handsets.length, 0)).toBe(500);
    const sizes = new Set(a.map((s) => s.handsets.length));
    expect([...sizes].sort()).toEqual([1, 2, 3]);
    expect(new Set(a.map((s) => s.name)).size).toBeGreaterThan(100);
  });

  it('numbers handsets with valid, distinct IMEIs and UK mobile MSISDNs', () => {
    const imeis = new Set<string>();
    const msisdns = new Set<string>();
    for (let k = 0; k < 30_000; k += 7) {
      const { imei } = seedImei(k);
      expect(imei).toMatch(/^\d{15}$/);
      expect(luhnDigit(imei.slice(0, 14))).toBe(Number(imei[14]));
      imeis.add(imei);
      expect(seedMsisdn(k)).toMatch(/^447\d{9}$/);
      msisdns.add(seedMsisdn(k));
    }
    expect(imeis.size).toBe(Math.ceil(30_000 / 7));
    expect(msisdns.size).toBe(Math.ceil(30_000 / 7));
  });
});

describe('rewind seed', () => {
  it('seeds N handsets with their subscribers and search terms, and says how far it got', async () => {
    const r = await rewind(['seed', '--devices', '250', '--seed', '3']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^seeded 250 handsets for \d+ subscribers in [\d.]+ s$/m);
    expect(await count('devices')).toBe(250);
    expect(await count('msisdns')).toBe(250);
    const subs = await count('subscribers');
    expect(subs).toBeGreaterThanOrEqual(84);
    expect(subs).toBeLessThan(250);
    expect((await all<{ n: number }>(sql`select count(*) as n from devices where subscriber_id is null`))[0]!.n).toBe(
      0,
    );
    // PostgreSQL checks foreign keys on every write; SQLite is asked.
    const sqlite = sqliteClient(db);
    if (sqlite) expect(sqlite.pragma('foreign_key_check')).toEqual([]);
  });

  it('makes every subscriber findable by number in national form, by IMEI and by name', async () => {
    const found = await all<{ msisdn: string; sub: string; devId: string; name: string }>(
      sql`select m.msisdn, m.subscriber_id as sub, d.dev_id as "devId", s.name from msisdns m join subscribers s on s.id = m.subscriber_id join devices d on d.subscriber_id = s.id limit 40`,
    );
    for (const r of found) {
      const national = `0${r.msisdn.slice(2, 6)} ${r.msisdn.slice(6)}`;
      expect((await searchSubscribers(db, national, 5))[0]?.id, national).toBe(r.sub);
      expect((await searchSubscribers(db, r.devId.slice(5), 5))[0], r.devId).toMatchObject({
        id: r.sub,
        device: { devId: r.devId },
      });
      expect((await searchSubscribers(db, r.name, 50)).map((h) => h.id)).toContain(r.sub);
    }
  });

  it('continues after the handsets already stored on a second run', async () => {
    const r = await rewind(['seed', '--devices', '60']);
    expect(r.code).toBe(0);
    expect(await count('devices')).toBe(310);
    expect(await count('msisdns')).toBe(310);
  });

  it('refuses a count out of range', async () => {
    for (const n of ['0', 'lots', '2000000']) {
      const r = await rewind(['seed', '--devices', n]);
      expect(r.code, n).toBe(2);
      expect(r.stderr).toMatch(/--devices must be a whole number from 1 to 1000000/);
    }
  });
});

describe('rewind search reindex', () => {
  it('rebuilds the index from the stored rows', async () => {
    const before = await all<{ term: string }>(
      sql`select term, subscriber_id from search_terms order by term, subscriber_id`,
    );
    await exec(db, sql`delete from search_terms where term like 'm:%'`);
    const r = await rewind(['search', 'reindex']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^search index rebuilt for \d+ subscribers in [\d.]+ s$/m);
    expect(await all(sql`select term, subscriber_id from search_terms order by term, subscriber_id`)).toEqual(before);
  });
});
