/**
 * Opens the database and applies the committed migrations. Every connection gets the
 * pragmas better-sqlite3 needs for safe concurrent use (WAL, busy timeout, foreign keys).
 */
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import fs from 'node:fs';
import path from 'node:path';
import * as schema from './schema';
import { ensureSearchIndex } from './queries/search';

export type Db = BetterSQLite3Database<typeof schema> & { $client: Database.Database };

// Resolved from the working directory: Next bundles server code, so import.meta.url is not the source path.
const migrationsFolder = path.resolve(process.env.REWIND_ROOT ?? process.cwd(), 'db/migrations');

/** Opens (creating if needed) a database file, or ':memory:' for tests, with migrations applied. */
export function openDb(file: string): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  // Deleted rows are overwritten, not just unlinked: an erased subscriber's keys and rows
  // must not stay readable in free pages of the file.
  sqlite.pragma('secure_delete = ON');
  const db = drizzle(sqlite, { schema });
  // Every transaction takes the write lock when it begins. With several server processes on
  // one file, a deferred transaction that reads and then writes fails at once with
  // SQLITE_BUSY when another process wrote in between (its snapshot is stale, and waiting
  // cannot help); an immediate one waits its turn under busy_timeout instead.
  const deferred = db.transaction.bind(db);
  db.transaction = ((fn, config) => deferred(fn, { behavior: 'immediate', ...config })) as typeof db.transaction;
  migrate(db, { migrationsFolder });
  // A database from before the search index gets one the first time it is opened.
  ensureSearchIndex(db);
  return db;
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'rewind.db');
}

export { schema };
