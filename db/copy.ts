/**
 * Moving a deployment's database to another (embedded SQLite to PostgreSQL): every table
 * copied in foreign-key order, each in one transaction on the target, then both sides read
 * back and compared: row counts, and a SHA-256 of every row in primary-key order. The rows
 * go through the same table objects on both sides, so what is compared is what the queries
 * see. The target must be empty (freshly migrated): a copy is never merged into live data.
 */
import { createHash } from 'node:crypto';
import { asc, count, getTableColumns, type Table } from 'drizzle-orm';
import { getTableConfig, SQLiteTable, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import * as schema from './schema';
import type { Db } from './client';

const BATCH = 500;

export interface TableCopy {
  table: string;
  rows: number;
  /** SHA-256 over the table's rows in primary-key order, the same on both sides. */
  digest: string;
}

export interface DatabaseCopy {
  tables: TableCopy[];
  rows: number;
  /** Tables whose count or digest differ after the copy (empty when it verified). */
  mismatched: { table: string; source: { rows: number; digest: string }; target: { rows: number; digest: string } }[];
}

export class TargetNotEmptyError extends Error {
  constructor(readonly tables: string[]) {
    super(`the target database already holds data (${tables.join(', ')}): copy into a new, empty database`);
    this.name = 'TargetNotEmptyError';
  }
}

/** Tables a copy leaves behind: the deployment's identity (see copyDatabase). */
const NOT_COPIED = new Set(['deployment']);

/** Every table of the schema, each after the tables its foreign keys point to. */
export function tablesInOrder(): SQLiteTable[] {
  const all = (Object.values(schema) as unknown[]).filter((t): t is SQLiteTable => t instanceof SQLiteTable);
  const byName = new Map(all.map((t) => [getTableConfig(t).name, t]));
  const done = new Set<string>();
  const out: SQLiteTable[] = [];
  const visit = (t: SQLiteTable, path: string[]) => {
    const name = getTableConfig(t).name;
    if (done.has(name)) return;
    if (path.includes(name)) throw new Error(`foreign keys form a cycle: ${[...path, name].join(' -> ')}`);
    for (const fk of getTableConfig(t).foreignKeys) {
      const target = getTableConfig(fk.reference().foreignTable as SQLiteTable).name;
      if (target !== name) visit(byName.get(target)!, [...path, name]);
    }
    done.add(name);
    out.push(t);
  };
  for (const t of all) visit(t, []);
  return out;
}

/** The columns rows are ordered by: the primary key, else every column. */
function orderOf(t: SQLiteTable): SQLiteColumn[] {
  const c = getTableConfig(t);
  const cols = Object.values(getTableColumns(t)) as SQLiteColumn[];
  const pk = [...cols.filter((x) => x.primary), ...c.primaryKeys.flatMap((p) => p.columns as SQLiteColumn[])];
  if (pk.length) return pk;
  const unique = c.indexes.find((i) => i.config.unique);
  return unique ? (unique.config.columns as SQLiteColumn[]) : cols;
}

async function* pages(db: Db, t: SQLiteTable): AsyncGenerator<Record<string, unknown>[]> {
  const order = orderOf(t).map((c) => asc(c));
  for (let offset = 0; ; offset += BATCH) {
    const page = (await db
      .select()
      .from(t)
      .orderBy(...order)
      .limit(BATCH)
      .offset(offset)) as Record<string, unknown>[];
    if (!page.length) return;
    yield page;
    if (page.length < BATCH) return;
  }
}

async function countOf(db: Db, t: Table): Promise<number> {
  const [r] = await db.select({ n: count() }).from(t as SQLiteTable);
  return Number(r?.n ?? 0);
}

/** Rows and digest of one table as `db` reads it. */
export async function describeTable(db: Db, t: SQLiteTable): Promise<{ rows: number; digest: string }> {
  const h = createHash('sha256');
  const keys = Object.keys(getTableColumns(t));
  let rows = 0;
  for await (const page of pages(db, t)) {
    for (const r of page) h.update(JSON.stringify(keys.map((k) => r[k] ?? null))).update('\n');
    rows += page.length;
  }
  return { rows, digest: h.digest('hex') };
}

/**
 * Copies every table from `from` to `to` and verifies the copy. `onProgress` hears each
 * table as it goes (rows copied so far of the table's count).
 */
export async function copyDatabase(
  from: Db,
  to: Db,
  opts: { onProgress?: (table: string, done: number, total: number) => void } = {},
): Promise<DatabaseCopy> {
  // The target's identity is recorded by the first process started on it, from its own
  // configuration (a deployment moving to PostgreSQL usually moves its content too), once
  // that configuration has shown it opens these keys and finds these backups.
  const order = tablesInOrder().filter((t) => !NOT_COPIED.has(getTableConfig(t).name));
  const occupied: string[] = [];
  for (const t of order) if ((await countOf(to, t)) > 0) occupied.push(getTableConfig(t).name);
  if (occupied.length) throw new TargetNotEmptyError(occupied);

  const out: DatabaseCopy = { tables: [], rows: 0, mismatched: [] };
  for (const t of order) {
    const name = getTableConfig(t).name;
    const total = await countOf(from, t);
    let done = 0;
    opts.onProgress?.(name, 0, total);
    await to.transaction(async (tx) => {
      for await (const page of pages(from, t)) {
        await tx.insert(t).values(page as never);
        done += page.length;
        opts.onProgress?.(name, done, total);
      }
    });
    const source = await describeTable(from, t);
    const target = await describeTable(to, t);
    out.tables.push({ table: name, rows: source.rows, digest: source.digest });
    out.rows += source.rows;
    if (source.rows !== target.rows || source.digest !== target.digest)
      out.mismatched.push({ table: name, source, target });
  }
  return out;
}
