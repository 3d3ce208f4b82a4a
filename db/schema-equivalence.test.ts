/**
 * The two databases hold the same schema: SQLite migrated by db/migrations, PostgreSQL by
 * db/migrations-pg, each read back from the database itself (not from drizzle), and both
 * compared with db/schema.ts, the table objects every query is built from. A column,
 * index, key or foreign key added to one and not the other (or to the schema without a
 * migration) fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getTableColumns } from 'drizzle-orm';
import { getTableConfig, SQLiteTable, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { closeDb, openDb, openPgDb, migrateDb, sqliteClient, type Db } from './client';
import { rows } from './sql';
import { sql } from 'drizzle-orm';
import * as schema from './schema';
import { freshPgUrl } from '../test/support/db';

interface Shape {
  columns: Record<string, { type: 'text' | 'integer'; notNull: boolean; default: string | null }>;
  primaryKey: string[];
  indexes: Record<string, { unique: boolean; columns: string[] }>;
  foreignKeys: string[];
}
type Model = Record<string, Shape>;

const normDefault = (d: string | null | undefined): string | null => {
  if (d === null || d === undefined) return null;
  const v = d.replace(/::[a-z ]+$/i, '').replace(/^'(.*)'$/s, '$1');
  return v === 'false' ? '0' : v === 'true' ? '1' : v;
};

const onDelete = (a: string | undefined | null) => (a ?? 'no action').toLowerCase();

/** What db/schema.ts declares. */
function declared(): Model {
  const model: Model = {};
  for (const t of Object.values(schema)) {
    if (!(t instanceof SQLiteTable)) continue;
    const c = getTableConfig(t);
    const cols = Object.values(getTableColumns(t)) as SQLiteColumn[];
    model[c.name] = {
      columns: Object.fromEntries(
        cols.map((col) => [
          col.name,
          {
            type: col.columnType === 'SQLiteText' ? 'text' : 'integer',
            notNull: col.notNull,
            default: col.default === undefined ? null : normDefault(String(col.default)),
          },
        ]),
      ),
      primaryKey: [
        ...cols.filter((col) => col.primary).map((col) => col.name),
        ...c.primaryKeys.flatMap((pk) => pk.columns.map((col) => col.name)),
      ],
      indexes: Object.fromEntries(
        c.indexes.map((ix) => [
          ix.config.name,
          { unique: ix.config.unique, columns: ix.config.columns.map((col) => (col as SQLiteColumn).name) },
        ]),
      ),
      foreignKeys: c.foreignKeys
        .map((fk) => {
          const r = fk.reference();
          return `${r.columns.map((col) => col.name).join(',')} -> ${getTableConfig(r.foreignTable as SQLiteTable).name}(${r.foreignColumns.map((col) => col.name).join(',')}) on delete ${onDelete(fk.onDelete)}`;
        })
        .sort(),
    };
  }
  return model;
}

/** What the SQLite migrations built, read from SQLite's catalogue. */
function sqliteModel(db: Db): Model {
  const c = sqliteClient(db)!;
  const model: Model = {};
  const tables = c
    .prepare(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%' order by name",
    )
    .pluck()
    .all() as string[];
  for (const t of tables) {
    const info = c.prepare(`pragma table_info("${t}")`).all() as {
      name: string;
      type: string;
      notnull: number;
      dflt_value: string | null;
      pk: number;
    }[];
    const indexes = (
      c.prepare(`pragma index_list("${t}")`).all() as { name: string; unique: number; origin: string }[]
    ).filter((i) => i.origin !== 'pk');
    model[t] = {
      columns: Object.fromEntries(
        info.map((col) => [
          col.name,
          {
            type: col.type.toLowerCase() === 'text' ? 'text' : 'integer',
            notNull: col.notnull === 1 || (col.pk > 0 && info.filter((x) => x.pk > 0).length === 1),
            default: normDefault(col.dflt_value),
          },
        ]),
      ),
      primaryKey: info
        .filter((col) => col.pk > 0)
        .sort((a, b) => a.pk - b.pk)
        .map((col) => col.name),
      indexes: Object.fromEntries(
        indexes.map((i) => [
          i.name,
          {
            unique: i.unique === 1,
            columns: (c.prepare(`pragma index_info("${i.name}")`).all() as { name: string }[]).map((x) => x.name),
          },
        ]),
      ),
      foreignKeys: (
        c.prepare(`pragma foreign_key_list("${t}")`).all() as {
          id: number;
          table: string;
          from: string;
          to: string;
          on_delete: string;
        }[]
      )
        .reduce<{ id: number; table: string; from: string[]; to: string[]; onDelete: string }[]>((acc, fk) => {
          const had = acc.find((a) => a.id === fk.id);
          if (had) {
            had.from.push(fk.from);
            had.to.push(fk.to);
          } else acc.push({ id: fk.id, table: fk.table, from: [fk.from], to: [fk.to], onDelete: fk.on_delete });
          return acc;
        }, [])
        .map((fk) => `${fk.from.join(',')} -> ${fk.table}(${fk.to.join(',')}) on delete ${onDelete(fk.onDelete)}`)
        .sort(),
    };
  }
  return model;
}

/** What the PostgreSQL migrations built, read from pg_catalog. */
async function pgModel(db: Db): Promise<Model> {
  const model: Model = {};
  const cols = await rows<{
    t: string;
    c: string;
    type: string;
    notnull: boolean;
    def: string | null;
    collation: string | null;
  }>(
    db,
    sql`
    select c.relname as t, a.attname as c, format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as notnull,
           pg_get_expr(d.adbin, d.adrelid) as def, co.collname as collation
    from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    left join pg_collation co on co.oid = a.attcollation
    where n.nspname = 'public' and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
    order by c.relname, a.attnum`,
  );
  for (const r of cols) {
    const shape = (model[r.t] ??= { columns: {}, primaryKey: [], indexes: {}, foreignKeys: [] });
    // Text compares byte-wise, as in SQLite: the search index's prefix ranges depend on it.
    if (r.type === 'text' && r.collation !== 'C') throw new Error(`${r.t}.${r.c}: text without COLLATE "C"`);
    shape.columns[r.c] = {
      type: r.type === 'text' ? 'text' : 'integer',
      notNull: r.notnull,
      default: normDefault(r.def),
    };
  }
  const idx = await rows<{ t: string; name: string; primary: boolean; unique: boolean; columns: string }>(
    db,
    sql`
    select t.relname as t, i.relname as name, x.indisprimary as "primary", x.indisunique as "unique",
           (select string_agg(a.attname, ',' order by k.ord) from unnest(x.indkey) with ordinality k(attnum, ord)
              join pg_attribute a on a.attrelid = t.oid and a.attnum = k.attnum) as columns
    from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
    join pg_namespace n on n.oid = t.relnamespace where n.nspname = 'public' order by i.relname`,
  );
  for (const r of idx) {
    if (!model[r.t]) continue;
    if (r.primary) model[r.t]!.primaryKey = r.columns.split(',');
    else model[r.t]!.indexes[r.name] = { unique: r.unique, columns: r.columns.split(',') };
  }
  const fks = await rows<{ t: string; def: string }>(
    db,
    sql`
    select c.relname as t, pg_get_constraintdef(k.oid) as def from pg_constraint k join pg_class c on c.oid = k.conrelid
    join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and k.contype = 'f'`,
  );
  for (const r of fks) {
    const m =
      /^FOREIGN KEY \((.+)\) REFERENCES (\S+)\((.+)\)(?: ON DELETE (CASCADE|SET NULL|RESTRICT|SET DEFAULT|NO ACTION))?/.exec(
        r.def,
      );
    if (!m) throw new Error(`unparsed foreign key ${r.def}`);
    const names = (s: string) =>
      s
        .split(',')
        .map((x) => x.trim().replace(/"/g, ''))
        .join(',');
    model[r.t]!.foreignKeys.push(
      `${names(m[1]!)} -> ${m[2]!.replace(/"/g, '')}(${names(m[3]!)}) on delete ${onDelete(m[4])}`,
    );
  }
  for (const s of Object.values(model)) s.foreignKeys.sort();
  delete model.__drizzle_migrations;
  return model;
}

describe('schema equivalence', () => {
  let pgDb: Db;
  let liteDb: Db;

  beforeAll(async () => {
    liteDb = openDb(':memory:');
    pgDb = openPgDb(await freshPgUrl(), { max: 1 });
    await migrateDb(pgDb);
  });
  afterAll(async () => {
    await closeDb(pgDb);
    await closeDb(liteDb);
  });

  it('SQLite, as its migrations built it, is the schema the queries use', () => {
    expect(sqliteModel(liteDb)).toEqual(declared());
  });

  it('PostgreSQL, as its migrations built it, is the same schema', async () => {
    expect(await pgModel(pgDb)).toEqual(declared());
  });

  it('reads what it compares: a column missing from one side is seen', async () => {
    const u = await freshPgUrl();
    const other = openPgDb(u, { max: 1 });
    try {
      await migrateDb(other);
      await rows(other, sql`alter table leases drop column expires_at`);
      expect(await pgModel(other)).not.toEqual(declared());
    } finally {
      await closeDb(other);
    }
  });
});
