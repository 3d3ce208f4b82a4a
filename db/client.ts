/**
 * Opens the database: embedded SQLite (a file under DATA_DIR) by default, or PostgreSQL when
 * DATABASE_URL names one. Both are driven through drizzle and answer the same queries
 * (db/queries), which only use what the two dialects share: awaited query builders, and raw
 * SQL through db/sql.ts.
 *
 * The queries are typed against one set of table objects (db/schema.ts). drizzle's builders
 * read only names and value encoders from them, and PostgreSQL stores every column the way
 * SQLite does (text, integers for times and flags: db/schema-pg.ts derives it), so the same
 * tables serve the pg dialect; db/schema-equivalence.test.ts holds the two to that.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import { is } from 'drizzle-orm';
import { drizzle as drizzleSqliteSync } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzleProxy } from 'drizzle-orm/sqlite-proxy';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { PgDatabase } from 'drizzle-orm/pg-core';
import type { BaseSQLiteDatabase } from 'drizzle-orm/sqlite-core';
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import pg from 'pg';
import * as schema from './schema';

/** A database or a transaction on one: every query function takes one of these first. */
export type Db = BaseSQLiteDatabase<'async', unknown, typeof schema>;

// Resolved from the working directory: Next bundles server code, so import.meta.url is not the source path.
const root = () => process.env.REWIND_ROOT ?? process.cwd();
const sqliteMigrations = () => path.resolve(root(), 'db/migrations');
const pgMigrations = () => path.resolve(root(), 'db/migrations-pg');

/** SQLite beneath drizzle, for db/sql.ts: rows as objects, and the change count. */
export interface SqliteRaw {
  all(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>;
  run(sql: string, params: unknown[]): Promise<number>;
}

const RAW = Symbol.for('rewind.db.raw');
type WithRaw = { [RAW]?: SqliteRaw; session?: { [RAW]?: SqliteRaw } };

/** The raw executor of a SQLite database or of a transaction on it (they share the session). */
export function sqliteRaw(db: Db): SqliteRaw {
  const d = db as unknown as WithRaw;
  const raw = d[RAW] ?? d.session?.[RAW];
  if (!raw) throw new Error('not a SQLite database opened by openDb');
  return raw;
}

/**
 * The session of a SQLite database opened by openDb, which its transactions share (one
 * connection); undefined for PostgreSQL or anything else. db/prepared.ts keeps its queries by it.
 */
export function sqliteSession(db: Db): object | undefined {
  const s = (db as unknown as WithRaw).session;
  return s?.[RAW] ? s : undefined;
}

export function isPg(db: Db): boolean {
  // The SQLite mark first: drizzle's is() walks the whole class chain of a database that is not one.
  return !sqliteSession(db) && is(db, PgDatabase);
}

/**
 * One SQLite connection serves the whole process, so a transaction must have it to itself:
 * while one is open, statements from any other async flow wait until it ends instead of
 * landing inside it (and being rolled back with it). The flow that owns the transaction is
 * known through AsyncLocalStorage.
 */
class SqliteGate {
  private owner: object | null = null;
  private released: Promise<void> = Promise.resolve();
  private release: () => void = () => {};
  private readonly flow = new AsyncLocalStorage<object>();

  /**
   * Whether the caller must wait: another flow's transaction is open. The caller re-checks
   * after every wait and runs its statement with no await in between, so no transaction can
   * begin between the check and the statement.
   */
  blocked(): boolean {
    return this.owner !== null && this.flow.getStore() !== this.owner;
  }

  /** Resolves when the transaction open now ends. */
  ended(): Promise<void> {
    return this.released;
  }

  inTransaction(): boolean {
    return this.owner !== null && this.flow.getStore() === this.owner;
  }

  async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.owner) await this.released;
    const owner = {};
    this.owner = owner;
    this.released = new Promise((r) => {
      this.release = r;
    });
    try {
      return await this.flow.run(owner, fn);
    } finally {
      this.owner = null;
      this.release();
    }
  }
}

const STATEMENT_CACHE = 512;
/** How long SQLite itself waits for another process's write lock, blocking the event loop meanwhile. */
const BUSY_BLOCKING_MS = 20;
/** How long, in all, a statement refused by another process's write lock is tried again (the busy timeout it replaces). */
const BUSY_WAIT_MS = 10_000;

/**
 * The text SQLite is given for a statement: a LIMIT that is a bound parameter (drizzle binds
 * every `.limit(n)`, and db/sql.ts's `limit ${n}` is one too) as `cast(? as integer)`. This
 * SQLite (built with STAT4) lets the planner read a LIMIT parameter's value, so binding one
 * expires the statement and every run compiled it again: 16 µs instead of 4 for a look-up by
 * key. Inside the cast the value is only an expression's, as an OFFSET's already is. The same
 * rows for any integer limit. Done once per statement, when it is prepared.
 */
export function sqliteText(text: string): string {
  return text.replace(/\blimit\s+\?/gi, 'limit cast(? as integer)');
}

/** drizzle's `rollback` (or `rollback to savepoint`): told apart without a regular expression on every statement. */
function isRollback(text: string): boolean {
  const c = text.charCodeAt(0);
  return (c === 114 || c === 82) && /^rollback\b/i.test(text);
}

/** Opens (creating if needed) a SQLite file, or ':memory:' for tests, with migrations applied. */
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
  migrateSqlite(drizzleSqliteSync(sqlite), { migrationsFolder: sqliteMigrations() });
  // From here SQLite itself waits only briefly for another process's write lock: its wait
  // blocks this process's event loop (every handset's message stalls behind it), so a longer
  // one is waited out by `whenFree` below, between other work. (The migration above may wait
  // the full busy timeout for another process's migration.)
  sqlite.pragma(`busy_timeout = ${BUSY_BLOCKING_MS}`);

  // Statements are prepared once and kept: the DM endpoint runs the same few per message.
  // drizzle reads rows as arrays and db/sql.ts as objects, so each has its own statements,
  // set to their mode once (a statement's mode is its own, and switching costs two calls).
  const cache = (rawRows: boolean) => {
    const statements = new Map<string, Database.Statement>();
    return (text: string) => {
      let s = statements.get(text);
      if (!s) {
        if (statements.size >= STATEMENT_CACHE) statements.clear();
        s = sqlite.prepare(sqliteText(text));
        if (rawRows && s.reader) s.raw(true);
        statements.set(text, s);
      }
      return s;
    };
  };
  const prepare = cache(false);
  const prepareRaw = cache(true);
  const gate = new SqliteGate();
  /**
   * Runs a statement once no other flow's transaction is open (no await unless one is: the
   * common path runs at once). Refused with SQLITE_BUSY outside a transaction (a BEGIN, or a
   * statement of its own), nothing of it happened: it is tried again a moment later, the
   * event loop free meanwhile, until another process's write ends or BUSY_WAIT_MS.
   */
  const whenFree = async <T>(run: () => T): Promise<T> => {
    for (let waited = 0, pause = 2; ;) {
      while (gate.blocked()) await gate.ended();
      try {
        return run();
      } catch (err) {
        const busy = (err as { code?: unknown }).code;
        if (typeof busy !== 'string' || !busy.startsWith('SQLITE_BUSY') || sqlite.inTransaction) throw err;
        if (waited >= BUSY_WAIT_MS) throw err;
        await sleep(pause);
        waited += pause + BUSY_BLOCKING_MS;
        pause = Math.min(pause * 2, 50);
      }
    }
  };
  const db = drizzleProxy(
    (text, params, method) =>
      whenFree(() => {
        // SQLite already rolled back a transaction a statement failed in (SQLITE_FULL, for one):
        // drizzle's own rollback would then fail and hide that error.
        if (isRollback(text) && !sqlite.inTransaction) return { rows: [] };
        const s = prepareRaw(text);
        if (method === 'run') {
          if (s.reader) s.all(...params);
          else s.run(...params);
          return { rows: [] };
        }
        if (!s.reader) {
          // A write without RETURNING asked for rows (drizzle's own begin/commit goes through 'run').
          s.run(...params);
          return { rows: [] };
        }
        return { rows: method === 'get' ? (s.get(...params) as unknown[]) : (s.all(...params) as unknown[]) };
      }),
    { schema },
  );
  const raw: SqliteRaw = {
    all: (text, params) =>
      whenFree(() => {
        const s = prepare(text);
        if (!s.reader) {
          s.run(...params);
          return [];
        }
        return s.all(...params) as Record<string, unknown>[];
      }),
    run: (text, params) =>
      whenFree(() => {
        const s = prepare(text);
        if (s.reader) return s.all(...params).length;
        return s.run(...params).changes;
      }),
  };
  Object.assign(db, { [RAW]: raw, $client: sqlite });
  Object.assign((db as unknown as { session: object }).session, { [RAW]: raw });

  // Every transaction takes the write lock when it begins (BEGIN IMMEDIATE). With several
  // server processes on one file, a deferred transaction that reads and then writes fails at
  // once with SQLITE_BUSY when another process wrote in between (its snapshot is stale, and
  // waiting cannot help); an immediate one waits its turn instead (whenFree).
  const begin = db.transaction.bind(db);
  db.transaction = (async (fn: Parameters<typeof begin>[0]) => {
    // A transaction inside a transaction must go through the one it is in (tx.transaction,
    // a savepoint): on PostgreSQL `db` would be another connection, waiting on this one.
    if (gate.inTransaction())
      throw new Error('a transaction was begun on the database inside another: use the transaction handle');
    return gate.exclusive(() => begin(fn, { behavior: 'immediate' }));
  }) as typeof db.transaction;
  return db as unknown as Db;
}

/** The SQLite connection under a database opened by openDb (maintenance: checkpoints, close). */
export function sqliteClient(db: Db): Database.Database | undefined {
  return (db as unknown as { $client?: unknown }).$client instanceof Database
    ? (db as unknown as { $client: Database.Database }).$client
    : undefined;
}

// int8 (bigint columns, counts) and numeric (a sum of int8) come back from node-postgres as
// strings; every figure Rewind stores fits a double, as it does in SQLite. Set on the driver's
// global parsers: drizzle passes those with every query, over any the pool was given.
let pgParsers = false;
function setPgParsers(): void {
  if (pgParsers) return;
  pgParsers = true;
  pg.types.setTypeParser(pg.types.builtins.INT8, Number);
  pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);
}

/**
 * Opens a PostgreSQL database (a pool of connections). Call migrateDb before the first
 * query: the schema is brought up to date under an advisory lock, so processes starting
 * together apply each migration once.
 */
export function openPgDb(url: string, opts: { max?: number } = {}): Db {
  setPgParsers();
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  // An idle connection's error (the server restarted) must not take the process down: the
  // pool drops it and the next query opens another.
  pool.on('error', () => {});
  const db = drizzlePg(pool, { schema: schema as unknown as Record<string, never> });
  return db as unknown as Db;
}

/** Brings a PostgreSQL database's schema up to date (a no-op on SQLite, done by openDb). */
export async function migrateDb(db: Db): Promise<void> {
  if (!isPg(db)) return;
  const pgDb = db as unknown as NodePgDatabase & { $client: pg.Pool };
  const client = await pgDb.$client.connect();
  try {
    await client.query('select pg_advisory_lock(7403211)');
    try {
      await migratePg(drizzlePg(client), { migrationsFolder: pgMigrations() });
    } finally {
      await client.query('select pg_advisory_unlock(7403211)');
    }
  } finally {
    client.release();
  }
}

/** The database the environment names: DATABASE_URL (PostgreSQL), else DATA_DIR/rewind.db. */
export function openDatabase(e: { DATABASE_URL?: string; DATABASE_POOL?: number; dataDir: string }): Db {
  return e.DATABASE_URL ? openPgDb(e.DATABASE_URL, { max: e.DATABASE_POOL }) : openDb(dbFile(e.dataDir));
}

/** Closes the SQLite connection or the PostgreSQL pool. */
export async function closeDb(db: Db): Promise<void> {
  const client = (db as unknown as { $client: { close?: () => void; end?: () => Promise<void> } }).$client;
  if (client instanceof Database) client.close();
  else await client.end?.();
}

export function dbFile(dataDir: string): string {
  return path.join(dataDir, 'rewind.db');
}

export { schema };
