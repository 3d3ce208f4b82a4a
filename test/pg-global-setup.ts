/**
 * vitest global set-up of the PostgreSQL pass: starts the throwaway cluster on 127.0.0.1
 * (scripts/test-postgres.sh), makes the migrated template every test database is copied
 * from, and drops the test databases afterwards.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { migrateDb, openPgDb, closeDb } from '../db/client';

const TEMPLATE = 'rewind_template';

export default async function setup(): Promise<() => Promise<void>> {
  let url = process.env.REWIND_TEST_PG_URL;
  if (!url) {
    url = execFileSync('bash', ['scripts/test-postgres.sh'], { encoding: 'utf8' }).trim();
    process.env.REWIND_TEST_PG_URL = url;
  }
  const admin = new pg.Client(url);
  await admin.connect();
  await dropTestDatabases(admin);
  await admin.query(`drop database if exists "${TEMPLATE}" with (force)`);
  await admin.query(`create database "${TEMPLATE}"`);
  const u = new URL(url);
  u.pathname = `/${TEMPLATE}`;
  const db = openPgDb(u.toString(), { max: 1 });
  await migrateDb(db);
  await closeDb(db);
  return async () => {
    await dropTestDatabases(admin);
    await admin.end();
  };
}

async function dropTestDatabases(admin: pg.Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>("select datname from pg_database where datname like 'rewind_t_%'");
  for (const r of rows) await admin.query(`drop database if exists "${r.datname}" with (force)`);
}
