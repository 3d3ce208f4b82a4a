/**
 * Writing a seeded fleet (sim/seed.ts) fast: multi-row INSERTs (SQLite's prepared once
 * by db/client.ts), a transaction per batch, and the search terms written with the rows they describe. A
 * million handsets take a minute or two instead of the hours one provisioning at a time would.
 */
import { randomBytes } from 'node:crypto';
import { sql, type SQL } from 'drizzle-orm';
import { sqliteClient, type Db } from '../client';
import { exec, value } from '../sql';
import { termsOf } from '../../lib/search/search';
import { firmwareKey } from '../../lib/devices/filter';

/** One handset of a seeded subscriber, as sim/seed.ts draws it. */
export interface SeedHandset {
  devId: string;
  msisdn: string;
  manufacturer: string;
  model: string;
  firmware: string;
  /** When it last reached us, within the last 30 days; null for one in ten, never connected. */
  lastSeenAt: number | null;
  /** Its newest complete backup (the device list's coverage); null for one never backed up. */
  lastGoodBackupAt?: number | null;
}

export interface SeedSubscriber {
  name: string;
  email: string | null;
  handsets: SeedHandset[];
}

/** Rows per INSERT statement: few enough to stay far under either database's bound-parameter limit. */
const ROWS_PER_STATEMENT = 100;

/**
 * Ids in time order (the UUIDv7 layout: milliseconds, then a counter, then random bits): rows
 * keyed by them land at the end of each index instead of all over it, which is what keeps a
 * million-row seed fast. They are as unique and unguessable as the usual random ones.
 */
export function orderedIds(random: (n: number) => Buffer = randomBytes): () => string {
  let last = 0;
  let seq = 0;
  return () => {
    const now = Date.now();
    seq = now === last ? seq + 1 : 0;
    last = now;
    const b = Buffer.from(random(16));
    b.writeUIntBE(now, 0, 6);
    b.writeUInt16BE(0x7000 | (seq & 0x0fff), 6);
    b[8] = 0x80 | (b[8]! & 0x3f);
    if (seq > 0x0fff) b.writeUInt16BE(0x8000 | ((seq >>> 12) & 0x3fff), 8);
    const h = b.toString('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };
}

/** Random bytes drawn from a large buffer refilled when used up: one system call per 64 KiB, not per id. */
function randomPool(): (n: number) => Buffer {
  let pool = randomBytes(65_536);
  let at = 0;
  return (n) => {
    if (at + n > pool.length) {
      pool = randomBytes(65_536);
      at = 0;
    }
    at += n;
    return pool.subarray(at - n, at);
  };
}

/** Rows of one table, written ROWS_PER_STATEMENT to a multi-row INSERT. */
class BulkInsert {
  private readonly head: SQL;
  private readonly tail: SQL;
  private rows: SQL[] = [];

  constructor(
    private readonly table: string,
    columns: readonly string[],
    ignoreDuplicates = false,
  ) {
    this.head = sql.raw(`insert into ${table} (${columns.join(', ')}) values `);
    this.tail = sql.raw(ignoreDuplicates ? ' on conflict do nothing' : '');
  }

  add(...values: unknown[]): void {
    this.rows.push(
      sql`(${sql.join(
        values.map((v) => sql`${v}`),
        sql`, `,
      )})`,
    );
  }

  /** Writes what was added; in the order of the foreign keys: a table's rows after those they refer to. */
  async flush(db: Db): Promise<void> {
    for (let i = 0; i < this.rows.length; i += ROWS_PER_STATEMENT) {
      await exec(db, sql`${this.head}${sql.join(this.rows.slice(i, i + ROWS_PER_STATEMENT), sql`, `)}${this.tail}`);
    }
    this.rows = [];
  }
}

export interface SeedWriter {
  /** Writes a batch of subscribers, their numbers, handsets and search terms in one transaction. */
  write(batch: readonly SeedSubscriber[]): Promise<void>;
}

/**
 * A writer for seeded subscribers. Their handsets get DM accounts whose secrets are random
 * and thrown away: a seeded handset cannot authenticate. The rows are consistent by
 * construction (and written subscribers first, so every foreign key holds when checked), so
 * the caller may switch SQLite's foreign-key checks off while writing (withoutForeignKeys).
 */
export async function seedWriter(db: Db): Promise<SeedWriter> {
  const subs = new BulkInsert('subscribers', ['id', 'name', 'email', 'created_at']);
  const numbers = new BulkInsert('msisdns', ['msisdn', 'subscriber_id']);
  const devices = new BulkInsert('devices', [
    'id',
    'dev_id',
    'manufacturer',
    'model',
    'firmware',
    'firmware_key',
    'subscriber_id',
    'server_id',
    'client_auth',
    'client_user',
    'client_derived',
    'server_auth',
    'server_derived',
    'client_nonce',
    'server_nonce',
    'last_seen_at',
    'last_good_backup_at',
    'created_at',
  ]);
  const terms = new BulkInsert('search_terms', ['term', 'subscriber_id'], true);
  const random = randomPool();
  const nextId = orderedIds(random);
  const write = async (batch: readonly SeedSubscriber[]) => {
    const now = Date.now();
    const batchTerms: Array<[string, string]> = [];
    for (const s of batch) {
      const id = nextId();
      subs.add(id, s.name, s.email, now);
      for (const h of s.handsets) {
        numbers.add(h.msisdn, id);
        const secret = random(32);
        devices.add(
          nextId(),
          h.devId,
          h.manufacturer,
          h.model,
          h.firmware,
          firmwareKey(h.firmware),
          id,
          'rewind',
          'hmac',
          h.devId,
          secret.subarray(0, 16).toString('base64'),
          'hmac',
          secret.subarray(16).toString('base64'),
          '',
          '',
          h.lastSeenAt,
          h.lastGoodBackupAt ?? null,
          now,
        );
      }
      for (const t of termsOf({
        name: s.name,
        email: s.email,
        msisdns: s.handsets.map((h) => h.msisdn),
        devIds: s.handsets.map((h) => h.devId),
      }))
        batchTerms.push([t, id]);
    }
    // In the primary key's order: each index page is then visited once per batch, not once per term.
    batchTerms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
    for (const [t, id] of batchTerms) terms.add(t, id);
    await db.transaction(async (tx) => {
      await subs.flush(tx);
      await numbers.flush(tx);
      await devices.flush(tx);
      await terms.flush(tx);
    });
  };
  return { write };
}

export async function countDevices(db: Db): Promise<number> {
  return (await value<number>(db, sql`select count(*) as n from devices`)) ?? 0;
}

/**
 * Runs `fn` with SQLite's foreign-key checks off (they cannot change inside a transaction),
 * then back as they were. PostgreSQL keeps checking them (turning them off takes a superuser):
 * the seed writes every row after the rows it refers to, so they hold.
 */
export async function withoutForeignKeys<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  const c = sqliteClient(db);
  if (!c) return fn();
  const was = Number(c.pragma('foreign_keys', { simple: true }));
  c.pragma('foreign_keys = OFF');
  try {
    return await fn();
  } finally {
    c.pragma(`foreign_keys = ${was}`);
  }
}
