/**
 * Queries built once per SQLite database instead of on every call.
 *
 * Awaiting a drizzle builder builds its SQL text again each time (the field list, every
 * condition, the parameters): on the DM path that was about a fifth of the server's CPU, for
 * statements whose text never changes. A query defined here is built once per SQLite database,
 * with drizzle placeholders (`sql.placeholder`) where its values go, kept as drizzle's own
 * prepared query, and executed with each call's values: the same text, the same row mapping
 * (drizzle's), the same `all`/`run` as awaiting the builder (its `execute`).
 *
 * One per database serves its transactions too. On SQLite every transaction runs on the root
 * database's one connection: drizzle's sqlite-proxy transaction (`tx`) shares the root's
 * session, a prepared query only holds that session's callback (db/client.ts), and there the
 * gate decides by the calling async flow, not by the handle a query was built on, whether a
 * statement runs now (in the flow's own transaction) or waits for another flow's to end. So
 * a query prepared once, kept per session, runs on `tx` exactly as one built on `tx` would.
 *
 * On PostgreSQL a transaction is another connection of the pool: each call builds the query
 * on the handle it was given, with the values themselves in place of the placeholders, as an
 * awaited builder always did (and so does anything that is not a database opened by openDb).
 *
 * So one definition, `build(db, v)`, serves both: on SQLite `v.name` is a placeholder and
 * build runs once; on PostgreSQL `v.name` is the value and build runs per call. Hence:
 * - build must give the same statement whatever the values: no `v.x ? a : b`, no list whose
 *   length varies (pick between two definitions in TypeScript instead), nothing computed
 *   inside it that differs per call (`Date.now()`: pass it in `v`);
 * - a placeholder in a condition (`eq(col, v.x)`) reaches the driver without the column's
 *   encoder: only for columns the driver takes as given (text, numbers), not boolean- or
 *   json-mode ones. In `set()` and `values()` drizzle applies the column's encoder (to a
 *   null too: fine for text and number columns; every boolean one is not null);
 * - inserts into tables with `$defaultFn` columns (ids, created_at) are not for `prepared`:
 *   the default would be computed once, at build time.
 */
import { fillPlaceholders, is, Param, Placeholder, sql, type SQL } from 'drizzle-orm';
import { sqliteRaw, sqliteSession, type Db } from './client';
import { exec, rows } from './sql';

type Values = Record<string, unknown>;
interface Executable<R> {
  execute(values: Values): Promise<R>;
}
/** An unawaited drizzle query builder (select, update, delete, with or without returning). */
type Builder<R> = PromiseLike<R> & { prepare(): unknown };

/** Every property a placeholder of its name: what `build` gets on SQLite. */
const PLACEHOLDERS = new Proxy({} as Values, {
  get: (_t, k) => (typeof k === 'string' ? sql.placeholder(k) : undefined),
});

/**
 * A query of a fixed statement (see the top of this file); `v` holds every value it takes.
 * Call the result as `q(db, values)`, with a database or a transaction.
 */
export function prepared<V extends Values, R>(build: (db: Db, v: V) => Builder<R>): (db: Db, values: V) => Promise<R> {
  const bySession = new WeakMap<object, Executable<R>>();
  return (db, values) => {
    const session = sqliteSession(db);
    if (!session) return Promise.resolve(build(db, values));
    let q = bySession.get(session);
    if (!q) {
      q = build(db, PLACEHOLDERS as V).prepare() as Executable<R>;
      bySession.set(session, q);
    }
    return q.execute(values);
  };
}

/** Different sets of keys a query built by shape keeps prepared; past that, it is built per call. */
const MAX_SHAPES = 32;

/**
 * A query whose statement depends on which values are given (an update of the columns a
 * patch names): one prepared query per set of keys whose values are not undefined. `build`
 * sees only those keys (each a placeholder on SQLite), so `set({ ...v })` writes exactly them.
 */
export function preparedByShape<V extends Values, R>(
  build: (db: Db, v: V) => Builder<R>,
): (db: Db, values: V) => Promise<R> {
  const bySession = new WeakMap<object, Map<string, Executable<R>>>();
  return (db, values) => {
    const session = sqliteSession(db);
    if (!session) return Promise.resolve(build(db, values));
    let shapes = bySession.get(session);
    if (!shapes) bySession.set(session, (shapes = new Map()));
    let shape = '';
    for (const k in values) if (values[k] !== undefined) shape += k + ',';
    let q = shapes.get(shape);
    if (!q) {
      if (shapes.size >= MAX_SHAPES) return Promise.resolve(build(db, values));
      const v: Values = {};
      for (const k in values) if (values[k] !== undefined) v[k] = sql.placeholder(k);
      q = build(db, v as V).prepare() as Executable<R>;
      shapes.set(shape, q);
    }
    return q.execute(values);
  };
}

type Compiled = { sql: string; params: unknown[] };
type Compiler = { dialect: { sqlToQuery(q: SQL): Compiled } };
/** SQLite's text of a statement: every database openDb opens has the same dialect. */
const compile = (db: Db, q: SQL): Compiled => (db as unknown as Compiler).dialect.sqlToQuery(q);

/**
 * Raw SQL of a fixed statement (db/sql.ts's rules for the text), `v` as for `prepared`:
 * compiled once on SQLite, built per call on PostgreSQL.
 */
export function preparedSql<V extends Values>(
  build: (v: V) => SQL,
): {
  rows<T = Record<string, unknown>>(db: Db, values: V): Promise<T[]>;
  exec(db: Db, values: V): Promise<number>;
} {
  let compiled: Compiled | undefined;
  const text = (db: Db) => (compiled ??= compile(db, build(PLACEHOLDERS as V)));
  return {
    rows<T>(db: Db, values: V): Promise<T[]> {
      if (!sqliteSession(db)) return rows<T>(db, build(values));
      const c = text(db);
      return sqliteRaw(db).all(c.sql, fillPlaceholders(c.params, values)) as Promise<T[]>;
    },
    exec(db: Db, values: V): Promise<number> {
      if (!sqliteSession(db)) return exec(db, build(values));
      const c = text(db);
      return sqliteRaw(db).run(c.sql, fillPlaceholders(c.params, values));
    },
  };
}

/** Statement texts (by row count) a multi-row statement keeps; past that, they are dropped and made again. */
const MAX_TEXTS = 64;

/**
 * A multi-row statement: `head`, then `row(v)` for each item (joined by commas), then `tail`
 * (values only in the rows).
 * On SQLite the three are compiled once and the text for n rows is kept; the parameters are
 * laid out item by item, an undefined value as null. On PostgreSQL it is built per call.
 */
export function preparedRows<V extends Values>(
  head: SQL,
  row: (v: V) => SQL,
  tail: SQL,
): {
  rows<T = Record<string, unknown>>(db: Db, items: readonly V[]): Promise<T[]>;
  exec(db: Db, items: readonly V[]): Promise<number>;
} {
  const whole = (items: readonly V[]) =>
    sql`${head} ${sql.join(
      items.map((i) => row(i)),
      sql`, `,
    )} ${tail}`;
  let parts: { head: string; row: string; tail: string; take: Array<(v: Values) => unknown> } | undefined;
  const texts = new Map<number, string>();
  const statement = (db: Db, items: readonly V[]): Compiled => {
    if (!parts) {
      const r = compile(db, row(PLACEHOLDERS as V));
      const [h, t] = [compile(db, head), compile(db, tail)];
      if (h.params.length || t.params.length) throw new Error('a multi-row statement takes values in its rows only');
      parts = {
        head: h.sql,
        row: r.sql,
        tail: t.sql,
        take: r.params.map((p) => {
          if (is(p, Placeholder)) return (v: Values) => v[p.name] ?? null;
          if (is(p, Param) && is(p.value, Placeholder)) {
            const { encoder, value } = p as unknown as { encoder: Param['encoder']; value: Placeholder };
            return (v: Values) => (v[value.name] == null ? null : encoder.mapToDriverValue(v[value.name]));
          }
          return () => p;
        }),
      };
    }
    const p = parts;
    let text = texts.get(items.length);
    if (text === undefined) {
      if (texts.size >= MAX_TEXTS) texts.clear();
      text = `${p.head} ${Array.from({ length: items.length }, () => p.row).join(', ')} ${p.tail}`;
      texts.set(items.length, text);
    }
    const params: unknown[] = [];
    for (const item of items) for (const take of p.take) params.push(take(item));
    return { sql: text, params };
  };
  return {
    rows<T>(db: Db, items: readonly V[]): Promise<T[]> {
      if (!sqliteSession(db)) return rows<T>(db, whole(items));
      const s = statement(db, items);
      return sqliteRaw(db).all(s.sql, s.params) as Promise<T[]>;
    },
    exec(db: Db, items: readonly V[]): Promise<number> {
      if (!sqliteSession(db)) return exec(db, whole(items));
      const s = statement(db, items);
      return sqliteRaw(db).run(s.sql, s.params);
    },
  };
}
