/**
 * Writing a seeded fleet (lib/fleet-seed.ts) fast: multi-row INSERTs prepared once, a
 * transaction per batch, and the search terms written with the rows they describe. A
 * million handsets take a minute or two instead of the hours one provisioning at a time would.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from '../client';
import { termsOf } from '../../lib/search';
import type { SeedSubscriber } from '../../lib/fleet-seed';

/** Rows per INSERT statement: few enough to stay far under SQLite's bound-parameter limit. */
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

/** Buffers rows of one table and writes them ROWS_PER_STATEMENT at a time. */
class BulkInsert {
  private readonly full: Database.Statement;
  private readonly one: Database.Statement;
  private buffer: unknown[] = [];

  constructor(private readonly c: Database.Database, table: string, private readonly columns: readonly string[], orIgnore = false) {
    const row = `(${columns.map(() => '?').join(',')})`;
    const head = `insert ${orIgnore ? 'or ignore ' : ''}into ${table} (${columns.join(',')}) values `;
    this.full = c.prepare(head + Array.from({ length: ROWS_PER_STATEMENT }, () => row).join(','));
    this.one = c.prepare(head + row);
  }

  add(...values: unknown[]): void {
    this.buffer.push(...values);
    if (this.buffer.length === ROWS_PER_STATEMENT * this.columns.length) {
      this.full.run(this.buffer);
      this.buffer = [];
    }
  }

  flush(): void {
    for (let i = 0; i < this.buffer.length; i += this.columns.length) this.one.run(this.buffer.slice(i, i + this.columns.length));
    this.buffer = [];
  }
}

export interface SeedWriter {
  /** Writes a batch of subscribers, their numbers, handsets and search terms in one transaction. */
  write(batch: readonly SeedSubscriber[]): void;
}

/**
 * A writer for seeded subscribers. Their handsets get DM accounts whose secrets are random
 * and thrown away: a seeded handset cannot authenticate. The rows are consistent by
 * construction, so the caller may switch foreign-key checks off while writing (withoutForeignKeys).
 */
export function seedWriter(db: Db): SeedWriter {
  const c = db.$client;
  const subs = new BulkInsert(c, 'subscribers', ['id', 'name', 'email', 'created_at']);
  const numbers = new BulkInsert(c, 'msisdns', ['msisdn', 'subscriber_id']);
  const devices = new BulkInsert(c, 'devices', [
    'id', 'dev_id', 'manufacturer', 'model', 'firmware', 'subscriber_id', 'server_id', 'client_auth', 'client_user', 'client_derived',
    'server_auth', 'server_derived', 'client_nonce', 'server_nonce', 'last_seen_at', 'created_at',
  ]);
  const terms = new BulkInsert(c, 'search_terms', ['term', 'subscriber_id'], true);
  const random = randomPool();
  const nextId = orderedIds(random);
  const write = c.transaction((batch: readonly SeedSubscriber[]) => {
    const now = Date.now();
    const batchTerms: Array<[string, string]> = [];
    for (const s of batch) {
      const id = nextId();
      subs.add(id, s.name, s.email, now);
      for (const h of s.handsets) {
        numbers.add(h.msisdn, id);
        const secret = random(32);
        devices.add(
          nextId(), h.devId, h.manufacturer, h.model, h.firmware, id, 'rewind', 'hmac', h.devId, secret.subarray(0, 16).toString('base64'),
          'hmac', secret.subarray(16).toString('base64'), '', '', h.lastSeenAt, now,
        );
      }
      for (const t of termsOf({ name: s.name, email: s.email, msisdns: s.handsets.map((h) => h.msisdn), devIds: s.handsets.map((h) => h.devId) })) batchTerms.push([t, id]);
    }
    // In the primary key's order: each index page is then visited once per batch, not once per term.
    batchTerms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
    for (const [t, id] of batchTerms) terms.add(t, id);
    subs.flush();
    numbers.flush();
    devices.flush();
    terms.flush();
  });
  return { write: (batch) => write(batch) };
}

export function countDevices(db: Db): number {
  return (db.$client.prepare('select count(*) as n from devices').get() as { n: number }).n;
}

/** Runs `fn` with foreign-key checks off (they cannot change inside a transaction), then back as they were. */
export function withoutForeignKeys<T>(db: Db, fn: () => T): T {
  const c = db.$client;
  const was = Number(c.pragma('foreign_keys', { simple: true }));
  c.pragma('foreign_keys = OFF');
  try {
    return fn();
  } finally {
    c.pragma(`foreign_keys = ${was}`);
  }
}
