/**
 * vitest global set-up of the PostgreSQL pass: starts the throwaway cluster on 127.0.0.1
 * (scripts/test-postgres.sh), makes the migrated template every test database of this run is
 * copied from, and drops this run's databases afterwards.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { migrateDb, openPgDb, closeDb } from '../../db/client';

// Names carry the run's start time (base 36), so runs side by side keep to their own
// databases, and a run's set-up clears what runs older than two hours left behind.
const RUN = Date.now().toString(36);
const STALE_MS = 2 * 3600_000;

export default async function setup(): Promise<() => Promise<void>> {
  let url = process.env.REWIND_TEST_PG_URL;
  if (!url) {
    url = execFileSync('bash', ['scripts/test-postgres.sh'], { encoding: 'utf8' }).trim();
    process.env.REWIND_TEST_PG_URL = url;
  }
  process.env.REWIND_TEST_RUN = RUN;
  const TEMPLATE = `rewind_tpl_${RUN}`;
  const admin = new pg.Client(url);
  await admin.connect();
  await dropDatabases(admin, (run) => Date.now() - parseInt(run, 36) > STALE_MS);
  await admin.query(`create database "${TEMPLATE}"`);
  const u = new URL(url);
  u.pathname = `/${TEMPLATE}`;
  const db = openPgDb(u.toString(), { max: 1 });
  await migrateDb(db);
  await closeDb(db);
  return async () => {
    await dropDatabases(admin, (run) => run === RUN);
    await admin.end();
  };
}

/** Drops the test databases and templates of the runs `which` picks. */
async function dropDatabases(admin: pg.Client, which: (run: string) => boolean): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(
    "select datname from pg_database where datname ~ '^rewind_(t|tpl)_'",
  );
  // Templates last: a copy cannot be made of a template being dropped, nor the reverse.
  rows.sort((a, b) => Number(a.datname.startsWith('rewind_tpl_')) - Number(b.datname.startsWith('rewind_tpl_')));
  for (const { datname } of rows) {
    const run = /^rewind_(?:t|tpl)_([0-9a-z]+)/.exec(datname)?.[1];
    if (run && which(run)) await admin.query(`drop database if exists "${datname}" with (force)`);
  }
}
