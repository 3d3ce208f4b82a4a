/**
 * The PostgreSQL schema, derived from db/schema.ts so the two cannot drift: same tables,
 * columns, keys, indexes and foreign keys. Columns are stored as SQLite stores them, so one
 * set of queries (and value encoders) serves both: integers as bigint (millisecond times,
 * sizes), flags as integer 0/1, text with the "C" collation (byte order, as SQLite compares:
 * the search index's prefix ranges and every ORDER BY agree on both). drizzle-kit generates
 * db/migrations-pg from this file (drizzle.config.pg.ts).
 */
import { getTableColumns, type Table } from 'drizzle-orm';
import {
  bigint,
  customType,
  foreignKey,
  index,
  integer,
  pgTable,
  primaryKey,
  uniqueIndex,
  type AnyPgColumn,
  type PgColumnBuilderBase,
} from 'drizzle-orm/pg-core';
import { getTableConfig, SQLiteTable, type SQLiteColumn } from 'drizzle-orm/sqlite-core';
import * as sqlite from './schema';

const textC = customType<{ data: string }>({ dataType: () => 'text COLLATE "C"' });

function column(c: SQLiteColumn): PgColumnBuilderBase {
  let b;
  switch (c.columnType) {
    case 'SQLiteText':
      b = textC(c.name);
      break;
    case 'SQLiteBoolean':
      b = integer(c.name);
      break;
    case 'SQLiteInteger':
      b = bigint(c.name, { mode: 'number' });
      break;
    default:
      throw new Error(`schema-pg: no PostgreSQL type for ${c.columnType} (${c.name})`);
  }
  if (c.notNull) b = b.notNull();
  if (c.primary) b = b.primaryKey();
  if (c.default !== undefined) b = b.default((typeof c.default === 'boolean' ? Number(c.default) : c.default) as never);
  return b;
}

const tables = new Map<string, Table>();

function derive(t: SQLiteTable): Table {
  const config = getTableConfig(t);
  const cols = Object.fromEntries(
    Object.entries(getTableColumns(t)).map(([key, c]) => [key, column(c as SQLiteColumn)]),
  );
  const byName = (pgt: Record<string, AnyPgColumn>, name: string) => {
    const entry = Object.values(pgt).find((c) => c.name === name);
    if (!entry) throw new Error(`schema-pg: ${config.name}.${name} missing`);
    return entry;
  };
  const pgt = pgTable(config.name, cols, (p) => {
    const cs = p as unknown as Record<string, AnyPgColumn>;
    const on = (names: string[]) => names.map((n) => byName(cs, n)) as [AnyPgColumn, ...AnyPgColumn[]];
    return [
      ...config.primaryKeys.map((pk) => primaryKey({ columns: on(pk.columns.map((c) => c.name)) })),
      ...config.indexes.map((ix) => {
        const names = ix.config.columns.map((c) => (c as SQLiteColumn).name);
        return (ix.config.unique ? uniqueIndex(ix.config.name) : index(ix.config.name)).on(...on(names));
      }),
      ...config.foreignKeys.map((fk) => {
        const ref = fk.reference();
        const target = tables.get(getTableConfig(ref.foreignTable as SQLiteTable).name) as unknown as Record<
          string,
          AnyPgColumn
        >;
        const built = foreignKey({
          name: fk.getName(),
          columns: on(ref.columns.map((c) => c.name)),
          foreignColumns: ref.foreignColumns.map((c) => byName(target, c.name)) as [AnyPgColumn, ...AnyPgColumn[]],
        });
        return fk.onDelete ? built.onDelete(fk.onDelete) : built;
      }),
    ];
  });
  tables.set(config.name, pgt);
  return pgt;
}

const derived = Object.fromEntries(
  Object.entries(sqlite)
    .filter(([, v]) => v instanceof SQLiteTable)
    .map(([k, v]) => [k, derive(v as SQLiteTable)]),
);

export const {
  subscribers,
  msisdns,
  devices,
  searchTerms,
  dmSessions,
  deviceAttempts,
  firmwareRuns,
  dmSessionValues,
  jobs,
  deviceModels,
  backupProfiles,
  policies,
  snapshots,
  snapshotStaging,
  blobs,
  localBackups,
  apiTokens,
  auditEvents,
  policyAssignments,
  firmwarePackages,
  appPackages,
  restorePlans,
  restoreItems,
  consents,
  deviceLinks,
  users,
  webSessions,
  dsAccounts,
  dsStores,
  dsItems,
  dsSessions,
  dsSnapshots,
  contentKeys,
  blobKeys,
  packs,
  packValues,
  leases,
  deployment,
  alertRules,
  alerts,
  webhooks,
  webhookDeliveries,
  deviceGroups,
  deviceGroupMembers,
  bulkOperations,
  savedViews,
  settings,
  wakeMinutes,
} = derived;
