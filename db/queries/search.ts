/**
 * The search index (table search_terms, see lib/search.ts for what a term is): kept in step
 * with subscribers, their MSISDNs and their handsets, and read as prefix ranges on its
 * primary key. Statements are prepared once per connection: the search box asks on every
 * keystroke, and seeding writes millions of terms.
 */
import type Database from 'better-sqlite3';
import type { Db } from '../client';
import { describeTerm, imeiDigits, normaliseText, prefixUpperBound, queryPrefixes, termsOf, type SearchHit } from '../../lib/search';

type Statements = ReturnType<typeof build>;

function build(c: Database.Database) {
  return {
    subscriber: c.prepare<[string], { id: string; name: string; email: string | null }>('select id, name, email from subscribers where id = ?'),
    msisdnsOf: c.prepare<[string], { msisdn: string }>('select msisdn from msisdns where subscriber_id = ?'),
    devIdsOf: c.prepare<[string], { devId: string }>('select dev_id as devId from devices where subscriber_id = ?'),
    clear: c.prepare<[string]>('delete from search_terms where subscriber_id = ?'),
    insert: c.prepare<[string, string]>('insert or ignore into search_terms (term, subscriber_id) values (?, ?)'),
    // ORDER BY term: the primary key's order, so SQLite walks the index and stops at the limit.
    range: c.prepare<[string, string, number], { term: string; subscriberId: string }>(
      'select term, subscriber_id as subscriberId from search_terms where term >= ? and term < ? order by term limit ?',
    ),
    hasTerms: c.prepare<[], { x: number }>('select 1 as x from search_terms limit 1'),
    hasSubscribers: c.prepare<[], { x: number }>('select 1 as x from subscribers limit 1'),
    subscribersAfter: c.prepare<[string, number], { id: string; name: string; email: string | null }>(
      'select id, name, email from subscribers where id > ? order by id limit ?',
    ),
    msisdnsBetween: c.prepare<[string, string], { subscriberId: string; msisdn: string }>(
      'select subscriber_id as subscriberId, msisdn from msisdns where subscriber_id >= ? and subscriber_id <= ?',
    ),
    devIdsBetween: c.prepare<[string, string], { subscriberId: string; devId: string }>(
      'select subscriber_id as subscriberId, dev_id as devId from devices where subscriber_id >= ? and subscriber_id <= ?',
    ),
  };
}

const cache = new WeakMap<Database.Database, Statements>();

function stmts(db: Db): Statements {
  let s = cache.get(db.$client);
  if (!s) cache.set(db.$client, (s = build(db.$client)));
  return s;
}

/**
 * Rebuilds one subscriber's terms from what is stored now (none if the subscriber is gone).
 * Callers run it inside the transaction that changed the subscriber, an MSISDN or a handset,
 * on the same connection, so the index never disagrees with the rows it describes.
 */
export function indexSubscriber(db: Db, subscriberId: string): void {
  const s = stmts(db);
  db.$client.transaction(() => {
    s.clear.run(subscriberId);
    const sub = s.subscriber.get(subscriberId);
    if (!sub) return;
    const terms = termsOf({
      name: sub.name,
      email: sub.email,
      msisdns: s.msisdnsOf.all(subscriberId).map((r) => r.msisdn),
      devIds: s.devIdsOf.all(subscriberId).map((r) => r.devId),
    });
    for (const t of terms) s.insert.run(t, subscriberId);
  })();
}

/** Writes terms already computed (seeding, reindexing): the caller holds the transaction. */
export function insertTerms(db: Db, subscriberId: string, terms: readonly string[]): void {
  const { insert } = stmts(db);
  for (const t of terms) insert.run(t, subscriberId);
}

const REINDEX_BATCH = 5_000;

/** Rebuilds the whole index, in one transaction; `onProgress` hears the subscribers done so far. Returns how many were indexed. */
export function reindexAll(db: Db, onProgress?: (done: number) => void): number {
  const s = stmts(db);
  return db.$client.transaction(() => {
    db.$client.prepare('delete from search_terms').run();
    let after = '';
    let done = 0;
    for (;;) {
      const subs = s.subscribersAfter.all(after, REINDEX_BATCH);
      if (!subs.length) break;
      const first = subs[0]!.id;
      const last = subs[subs.length - 1]!.id;
      const numbers = group(s.msisdnsBetween.all(first, last), (r) => r.msisdn);
      const devIds = group(s.devIdsBetween.all(first, last), (r) => r.devId);
      for (const sub of subs) {
        insertTerms(db, sub.id, termsOf({ name: sub.name, email: sub.email, msisdns: numbers.get(sub.id) ?? [], devIds: devIds.get(sub.id) ?? [] }));
      }
      done += subs.length;
      after = last;
      onProgress?.(done);
    }
    return done;
  }).immediate();
}

function group<T extends { subscriberId: string }>(rows: T[], value: (r: T) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) (m.get(r.subscriberId) ?? m.set(r.subscriberId, []).get(r.subscriberId)!).push(value(r));
  return m;
}

/**
 * A database from before the index (or one whose rows were written around it) is indexed
 * when opened: no terms at all while there are subscribers. Cheap to ask every time.
 */
export function ensureSearchIndex(db: Db): void {
  const s = stmts(db);
  if (s.hasTerms.get() || !s.hasSubscribers.get()) return;
  reindexAll(db);
}

/**
 * Subscribers the search box's text finds (lib/search.ts queryPrefixes): each prefix is one
 * range on the primary key. A subscriber whose term equals the query comes first, then the
 * more specific kinds (numbers before names), then by name. Each says what matched, and the
 * handset when an IMEI or DevId did.
 */
export function searchSubscribers(db: Db, query: string, limit = 20): SearchHit[] {
  const s = stmts(db);
  const prefixes = queryPrefixes(query);
  if (!prefixes.length || limit < 1) return [];
  const exact = normaliseText(query);
  // Best match per subscriber: [rank, term]. A lower rank is better.
  const best = new Map<string, { rank: number; term: string }>();
  prefixes.forEach((p, i) => {
    // A subscriber can hold several terms under one prefix ("john", "john smith"): read a few more.
    for (const row of s.range.all(p, prefixUpperBound(p), limit * 3)) {
      const rank = (row.term === p || row.term.slice(2) === exact ? 0 : 100) + i;
      const had = best.get(row.subscriberId);
      if (!had || rank < had.rank) best.set(row.subscriberId, { rank, term: row.term });
    }
  });
  if (!best.size) return [];
  const c = db.$client;
  const marks = (n: number) => Array.from({ length: n }, () => '?').join(',');
  const candidates = [...best.keys()];
  const ranked = c.prepare<string[], { id: string; name: string; email: string | null; createdAt: number }>(`select id, name, email, created_at as createdAt from subscribers where id in (${marks(candidates.length)})`)
    .all(...candidates)
    .map((sub) => ({ sub, ...best.get(sub.id)! }))
    .sort((a, b) => a.rank - b.rank || a.sub.name.localeCompare(b.sub.name) || (a.sub.id < b.sub.id ? -1 : 1))
    .slice(0, limit);
  if (!ranked.length) return [];
  const ids = ranked.map((r) => r.sub.id);
  const numbers = group(c.prepare<string[], { subscriberId: string; msisdn: string }>(`select subscriber_id as subscriberId, msisdn from msisdns where subscriber_id in (${marks(ids.length)}) order by msisdn`).all(...ids), (r) => r.msisdn);
  const devices = new Map<string, NonNullable<SearchHit['device']>[]>();
  for (const { subscriberId, ...d } of c.prepare<string[], NonNullable<SearchHit['device']> & { subscriberId: string }>(
    `select id, dev_id as devId, manufacturer, model, subscriber_id as subscriberId from devices where subscriber_id in (${marks(ids.length)}) order by dev_id`,
  ).all(...ids)) {
    (devices.get(subscriberId) ?? devices.set(subscriberId, []).get(subscriberId)!).push(d);
  }
  return ranked.map(({ sub, term }) => {
    const match = describeTerm(term);
    const own = devices.get(sub.id) ?? [];
    const device = match.kind === 'imei' ? own.find((d) => imeiDigits(d.devId) === match.value)
      : match.kind === 'devId' ? own.find((d) => normaliseText(d.devId) === match.value) : undefined;
    return { ...sub, msisdns: numbers.get(sub.id) ?? [], devices: own.length, match, ...(device ? { device } : {}) };
  });
}
