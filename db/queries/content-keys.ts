/** Data keys and blob keys of encryption at rest (lib/backup/keyring.ts). */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows } from '../sql';
import { blobKeys, contentKeys } from '../schema';
import { prepared } from '../prepared';
import { chunks } from './chunks';

const contentKey = prepared((db, v: { owner: string }) =>
  db.select({ wrapped: contentKeys.wrapped }).from(contentKeys).where(eq(contentKeys.owner, v.owner)).limit(1),
);

export async function getContentKey(db: Db, owner: string): Promise<string | undefined> {
  return (await contentKey(db, { owner }))[0]?.wrapped;
}

/** Inserts a data key unless the owner has one; returns the one that is stored. */
export async function insertContentKey(db: Db, owner: string, wrapped: string): Promise<string> {
  await db.insert(contentKeys).values({ owner, wrapped }).onConflictDoNothing();
  return (await getContentKey(db, owner))!;
}

export async function deleteContentKeys(db: Db, owners: readonly string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(owners)) {
    await db.delete(blobKeys).where(inArray(blobKeys.owner, part));
    n += (await db.delete(contentKeys).where(inArray(contentKeys.owner, part)).returning({ owner: contentKeys.owner }))
      .length;
  }
  return n;
}

export interface BlobKeyRow {
  owner: string;
  wrapped: string;
}

// On every value a backup stores: raw SQL (building a query anew cost more than running it;
// db/client.ts keeps SQLite's statements prepared by their text).

/** The wraps of one blob's key, `owner`'s first when it has one. */
export async function blobKeysFor(db: Db, hash: string, owner?: string): Promise<BlobKeyRow[]> {
  return ownerFirst(await rows<BlobKeyRow>(db, sql`select owner, wrapped from blob_keys where hash = ${hash}`), owner);
}

function ownerFirst(found: BlobKeyRow[], owner: string | undefined): BlobKeyRow[] {
  return owner && found.length > 1
    ? found.sort((a, b) => Number(b.owner === owner) - Number(a.owner === owner))
    : found;
}

/** Rows per multi-row statement: far below either database's limit on parameters. */
const BATCH = 500;

/**
 * The wraps of many blobs' keys (blobKeysFor for each, in one statement per BATCH: on
 * PostgreSQL each statement is a round trip, and a message brings hundreds of values).
 */
export async function blobKeysForMany(
  db: Db,
  hashes: readonly string[],
  owner?: string,
): Promise<Map<string, BlobKeyRow[]>> {
  const out = new Map<string, BlobKeyRow[]>();
  for (let i = 0; i < hashes.length; i += BATCH) {
    const list = sql.join(
      hashes.slice(i, i + BATCH).map((h) => sql`${h}`),
      sql`, `,
    );
    for (const r of await rows<BlobKeyRow & { hash: string }>(
      db,
      sql`select hash, owner, wrapped from blob_keys where hash in (${list})`,
    ))
      (out.get(r.hash) ?? out.set(r.hash, []).get(r.hash)!).push({ owner: r.owner, wrapped: r.wrapped });
  }
  for (const [h, found] of out) out.set(h, ownerFirst(found, owner));
  return out;
}

/**
 * PostgreSQL: takes the transaction's advisory locks on these hashes in the order given, in
 * one statement (callers sort them, so two transactions cannot deadlock).
 */
export async function lockHashes(db: Db, hashes: readonly string[]): Promise<void> {
  if (!hashes.length) return;
  await exec(
    db,
    sql`select pg_advisory_xact_lock(hashtext(h)) from (
      select h from json_array_elements_text(${JSON.stringify(hashes)}::json) with ordinality as t(h, i) order by i) s`,
  );
}

/** Wraps of blobs' keys, many at once (one statement per BATCH); a wrap already there stays. */
export async function insertBlobKeys(
  db: Db,
  wraps: ReadonlyArray<{ hash: string; owner: string; wrapped: string }>,
): Promise<void> {
  for (let i = 0; i < wraps.length; i += BATCH) {
    const values = sql.join(
      wraps.slice(i, i + BATCH).map((w) => sql`(${w.hash}, ${w.owner}, ${w.wrapped})`),
      sql`, `,
    );
    await exec(db, sql`insert into blob_keys (hash, owner, wrapped) values ${values} on conflict do nothing`);
  }
}
