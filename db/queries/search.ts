/**
 * The search index (table search_terms, see lib/search/search.ts for what a term is): kept in step
 * with subscribers, their MSISDNs and their handsets, and read as prefix ranges on its
 * primary key. Raw SQL through db/sql.ts: the search box asks on every keystroke, and
 * seeding writes millions of terms (db/client.ts keeps SQLite's statements prepared).
 */
import { sql, type SQL } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows, value } from '../sql';
import {
  describeTerm,
  imeiDigits,
  normaliseText,
  prefixUpperBound,
  queryPrefixes,
  termsOf,
  typoTerms,
  type SearchHit,
} from '../../lib/search/search';

type SubscriberText = { id: string; name: string; email: string | null };

/** Typo variants per lookup: an IN list of exact terms, each one probe of the primary key. */
const TYPO_TERMS_PER_STATEMENT = 400;

/** Rows per INSERT of terms: far under either database's bound-parameter limit. */
const TERMS_PER_STATEMENT = 200;

function list(values: readonly string[]): SQL {
  return sql.join(
    values.map((v) => sql`${v}`),
    sql`, `,
  );
}

/**
 * Rebuilds one subscriber's terms from what is stored now (none if the subscriber is gone).
 * Callers run it inside the transaction that changed the subscriber, an MSISDN or a handset
 * (passing that transaction as `db`), so the index never disagrees with the rows it describes.
 */
export async function indexSubscriber(db: Db, subscriberId: string): Promise<void> {
  await exec(db, sql`delete from search_terms where subscriber_id = ${subscriberId}`);
  const [sub] = await rows<SubscriberText>(db, sql`select id, name, email from subscribers where id = ${subscriberId}`);
  if (!sub) return;
  const msisdns = await rows<{ msisdn: string }>(
    db,
    sql`select msisdn from msisdns where subscriber_id = ${subscriberId}`,
  );
  const devIds = await rows<{ devId: string }>(
    db,
    sql`select dev_id as "devId" from devices where subscriber_id = ${subscriberId}`,
  );
  const terms = termsOf({
    name: sub.name,
    email: sub.email,
    msisdns: msisdns.map((r) => r.msisdn),
    devIds: devIds.map((r) => r.devId),
  });
  await insertTerms(db, subscriberId, terms);
}

/** Writes terms already computed (seeding, reindexing): the caller holds the transaction (and passes it as `db`). */
export async function insertTerms(db: Db, subscriberId: string, terms: readonly string[]): Promise<void> {
  const unique = [...new Set(terms)];
  for (let i = 0; i < unique.length; i += TERMS_PER_STATEMENT) {
    const part = unique.slice(i, i + TERMS_PER_STATEMENT);
    await exec(
      db,
      sql`insert into search_terms (term, subscriber_id) values ${sql.join(
        part.map((t) => sql`(${t}, ${subscriberId})`),
        sql`, `,
      )} on conflict do nothing`,
    );
  }
}

const REINDEX_BATCH = 5_000;

/** Rebuilds the whole index, in one transaction; `onProgress` hears the subscribers done so far. Returns how many were indexed. */
export async function reindexAll(db: Db, onProgress?: (done: number) => void): Promise<number> {
  return db.transaction(async (tx) => {
    await exec(tx, sql`delete from search_terms`);
    let after = '';
    let done = 0;
    for (;;) {
      const subs = await rows<SubscriberText>(
        tx,
        sql`select id, name, email from subscribers where id > ${after} order by id limit ${REINDEX_BATCH}`,
      );
      if (!subs.length) break;
      const first = subs[0]!.id;
      const last = subs[subs.length - 1]!.id;
      const numbers = group(
        await rows<{ subscriberId: string; msisdn: string }>(
          tx,
          sql`select subscriber_id as "subscriberId", msisdn from msisdns where subscriber_id >= ${first} and subscriber_id <= ${last}`,
        ),
        (r) => r.msisdn,
      );
      const devIds = group(
        await rows<{ subscriberId: string; devId: string }>(
          tx,
          sql`select subscriber_id as "subscriberId", dev_id as "devId" from devices where subscriber_id >= ${first} and subscriber_id <= ${last}`,
        ),
        (r) => r.devId,
      );
      for (const sub of subs) {
        await insertTerms(
          tx,
          sub.id,
          termsOf({
            name: sub.name,
            email: sub.email,
            msisdns: numbers.get(sub.id) ?? [],
            devIds: devIds.get(sub.id) ?? [],
          }),
        );
      }
      done += subs.length;
      after = last;
      onProgress?.(done);
    }
    return done;
  });
}

function group<T extends { subscriberId: string }>(rows: T[], value: (r: T) => string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const r of rows) (m.get(r.subscriberId) ?? m.set(r.subscriberId, []).get(r.subscriberId)!).push(value(r));
  return m;
}

/**
 * A database from before the index (or one whose rows were written around it) is indexed
 * when opened: no terms at all while there are subscribers. So is an index from before IMEIs
 * were kept reversed (IMEI terms but no reversed one). Cheap to ask every time: each question
 * is one probe of the primary key.
 */
export async function ensureSearchIndex(db: Db): Promise<void> {
  const any = (p: string) =>
    value(db, sql`select 1 as x from search_terms where term >= ${p} and term < ${prefixUpperBound(p)} limit 1`);
  if ((await value(db, sql`select 1 as x from search_terms limit 1`)) !== undefined) {
    if ((await any('i:')) === undefined || (await any('v:')) !== undefined) return;
  } else if ((await value(db, sql`select 1 as x from subscribers limit 1`)) === undefined) return;
  await reindexAll(db);
}

/**
 * Subscribers the search box's text finds (lib/search/search.ts queryPrefixes): each prefix is one
 * range on the primary key. A subscriber whose term equals the query comes first, then the
 * more specific kinds (numbers before names), then by name. Each says what matched, and the
 * handset when an IMEI or DevId did.
 */
export async function searchSubscribers(db: Db, query: string, limit = 20): Promise<SearchHit[]> {
  // A NUL cannot be in any term (PostgreSQL's text refuses it, so it cannot even be asked for).
  const prefixes = queryPrefixes(query).filter((p) => !p.includes('\u0000'));
  if (!prefixes.length || limit < 1) return [];
  const exact = normaliseText(query);
  // Best match per subscriber: [rank, term]. A lower rank is better.
  const best = new Map<string, { rank: number; term: string }>();
  for (const [i, p] of prefixes.entries()) {
    // A subscriber can hold several terms under one prefix ("john", "john smith"): read a few more.
    // ORDER BY term: the primary key's order, so the database walks the index and stops at the limit.
    const range = await rows<{ term: string; subscriberId: string }>(
      db,
      sql`
      select term, subscriber_id as "subscriberId" from search_terms where term >= ${p} and term < ${prefixUpperBound(p)} order by term limit ${limit * 3}`,
    );
    for (const row of range) {
      const rank = (row.term === p || row.term.slice(2) === exact ? 0 : 100) + i;
      const had = best.get(row.subscriberId);
      if (!had || rank < had.rank) best.set(row.subscriberId, { rank, term: row.term });
    }
  }
  // Nothing starts so: names one typo away ("lovelase" finds Lovelace). Only then, so a name
  // that is found is not followed by every name a letter away from it.
  if (!best.size) {
    const typos = typoTerms(query).filter((t) => !t.includes('\u0000'));
    for (let i = 0; i < typos.length; i += TYPO_TERMS_PER_STATEMENT) {
      const found = await rows<{ term: string; subscriberId: string }>(
        db,
        sql`select term, subscriber_id as "subscriberId" from search_terms where term in (${list(typos.slice(i, i + TYPO_TERMS_PER_STATEMENT))}) limit ${limit * 3}`,
      );
      for (const row of found) if (!best.has(row.subscriberId)) best.set(row.subscriberId, { rank: 0, term: row.term });
    }
  }
  if (!best.size) return [];
  const candidates = [...best.keys()];
  const ranked = (
    await rows<{ id: string; name: string; email: string | null; createdAt: number }>(
      db,
      sql`select id, name, email, created_at as "createdAt" from subscribers where id in (${list(candidates)})`,
    )
  )
    .map((sub) => ({ sub, ...best.get(sub.id)! }))
    .sort((a, b) => a.rank - b.rank || a.sub.name.localeCompare(b.sub.name) || (a.sub.id < b.sub.id ? -1 : 1))
    .slice(0, limit);
  if (!ranked.length) return [];
  const ids = ranked.map((r) => r.sub.id);
  const numbers = group(
    await rows<{ subscriberId: string; msisdn: string }>(
      db,
      sql`select subscriber_id as "subscriberId", msisdn from msisdns where subscriber_id in (${list(ids)}) order by msisdn`,
    ),
    (r) => r.msisdn,
  );
  const devices = new Map<string, NonNullable<SearchHit['device']>[]>();
  for (const { subscriberId, ...d } of await rows<NonNullable<SearchHit['device']> & { subscriberId: string }>(
    db,
    sql`select id, dev_id as "devId", manufacturer, model, subscriber_id as "subscriberId" from devices where subscriber_id in (${list(ids)}) order by dev_id`,
  )) {
    (devices.get(subscriberId) ?? devices.set(subscriberId, []).get(subscriberId)!).push(d);
  }
  return ranked.map(({ sub, term }) => {
    const match = describeTerm(term);
    const own = devices.get(sub.id) ?? [];
    const device =
      match.kind === 'imei'
        ? own.find((d) => imeiDigits(d.devId) === match.value)
        : match.kind === 'devId'
          ? own.find((d) => normaliseText(d.devId) === match.value)
          : undefined;
    return { ...sub, msisdns: numbers.get(sub.id) ?? [], devices: own.length, match, ...(device ? { device } : {}) };
  });
}
