/**
 * The database a test runs on: embedded SQLite by default, or a fresh PostgreSQL database
 * when the run is the PostgreSQL pass (REWIND_TEST_DB=pg, vitest.pg.config.mts): a copy of a
 * migrated template, so each test starts from an empty schema in a few milliseconds.
 */
import pg from 'pg';
import { dbFile, openDb, openPgDb, type Db } from '@/db/client';

/** The PostgreSQL pass is running (or a test asked for PostgreSQL and one is available). */
export function testingPg(): boolean {
  return process.env.REWIND_TEST_DB === 'pg';
}

/** The test cluster's admin URL (scripts/test-postgres.sh), or undefined when none runs. */
export function pgAdminUrl(): string | undefined {
  return process.env.REWIND_TEST_PG_URL || undefined;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

let made = 0;

/** A new, empty, migrated PostgreSQL database; its URL. */
export async function freshPgUrl(): Promise<string> {
  const admin = pgAdminUrl();
  if (!admin) throw new Error('no PostgreSQL for tests: run scripts/test-postgres.sh and set REWIND_TEST_PG_URL');
  const run = process.env.REWIND_TEST_RUN;
  if (!run) throw new Error('REWIND_TEST_RUN is not set: run the PostgreSQL pass through vitest.pg.config.mts');
  const name = `rewind_t_${run}_${process.pid}_${made++}`;
  const c = new pg.Client(admin);
  await c.connect();
  try {
    await c.query(`create database "${name}" template "rewind_tpl_${run}"`);
  } finally {
    await c.end();
  }
  return withDatabase(admin, name);
}

/**
 * A database for one test. SQLite: in memory, or DATA_DIR/rewind.db when `dataDir` is given
 * (a real file, WAL and all, as in production). PostgreSQL pass: a fresh database.
 */
export async function testDb(dataDir?: string): Promise<Db> {
  if (testingPg()) return openPgDb(await freshPgUrl(), { max: 4 });
  return openDb(dataDir ? dbFile(dataDir) : ':memory:');
}

/** Where a child process should find the same database: DATABASE_URL for PostgreSQL. */
export function databaseEnv(db: Db): Record<string, string> {
  const url = (db as unknown as { $client: { options?: { connectionString?: string } } }).$client.options
    ?.connectionString;
  return url ? { DATABASE_URL: url } : {};
}
