/**
 * Raw SQL that runs on either database: a drizzle `sql` template (its values become
 * placeholders for the dialect in use), rows back as plain objects. The text itself must be
 * portable: `on conflict`, `coalesce`, quoted aliases (`as "devId"`: PostgreSQL folds
 * unquoted ones to lower case), no SQLite-only functions.
 */
import type { SQL } from 'drizzle-orm';
import { isPg, sqliteRaw, type Db } from './client';

type Compiler = { dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } } };
type PgExecutor = { execute(q: SQL): Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }> };

/** Every row the query returns. */
export async function rows<T = Record<string, unknown>>(db: Db, q: SQL): Promise<T[]> {
  if (isPg(db)) return (await (db as unknown as PgExecutor).execute(q)).rows as T[];
  const { sql: text, params } = (db as unknown as Compiler).dialect.sqlToQuery(q);
  return (await sqliteRaw(db).all(text, params)) as T[];
}

/** The first row, or undefined. */
export async function row<T = Record<string, unknown>>(db: Db, q: SQL): Promise<T | undefined> {
  return (await rows<T>(db, q))[0];
}

/** The first column of every row. */
export async function column<T = unknown>(db: Db, q: SQL): Promise<T[]> {
  return (await rows(db, q)).map((r) => Object.values(r)[0] as T);
}

/** The first column of the first row, or undefined. */
export async function value<T = unknown>(db: Db, q: SQL): Promise<T | undefined> {
  const r = await row(db, q);
  return r === undefined ? undefined : (Object.values(r)[0] as T);
}

/** Runs a statement; returns how many rows it changed. */
export async function exec(db: Db, q: SQL): Promise<number> {
  if (isPg(db)) return (await (db as unknown as PgExecutor).execute(q)).rowCount ?? 0;
  const { sql: text, params } = (db as unknown as Compiler).dialect.sqlToQuery(q);
  return sqliteRaw(db).run(text, params);
}

/** The driver's error code beneath drizzle's wrapping (SQLITE_FULL, 23505, …). */
export function dbErrorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

/** A unique or primary key constraint refused the write. */
export function isUniqueViolation(err: unknown): boolean {
  const code = dbErrorCode(err);
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** The database ran out of disk. */
export function isDiskFull(err: unknown): boolean {
  const code = dbErrorCode(err);
  return code === 'SQLITE_FULL' || code === '53100';
}
