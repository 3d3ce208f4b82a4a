/**
 * Making a database ready for a server or a command. Apart from db/client.ts because it
 * reaches into the queries (the search index), which themselves import the client.
 */
import { migrateDb, type Db } from './client';
import { ensureSearchIndex } from './queries/search';
import { backfillFirmwareKeys } from './queries/devices';

/**
 * PostgreSQL's schema brought up to date (SQLite's is, by openDb), a database from before
 * the search index indexed, and from before the device list's firmware key keyed.
 */
export async function prepareDb(db: Db): Promise<Db> {
  await migrateDb(db);
  await ensureSearchIndex(db);
  await backfillFirmwareKeys(db);
  return db;
}
