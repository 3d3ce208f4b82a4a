/** Data keys and blob keys of encryption at rest (lib/backup/keyring.ts). */
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows } from '../sql';
import { blobKeys, contentKeys } from '../schema';
import { chunks } from './chunks';

export async function getContentKey(db: Db, owner: string): Promise<string | undefined> {
  return (
    await db.select({ wrapped: contentKeys.wrapped }).from(contentKeys).where(eq(contentKeys.owner, owner)).limit(1)
  )[0]?.wrapped;
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
  const found = await rows<BlobKeyRow>(db, sql`select owner, wrapped from blob_keys where hash = ${hash}`);
  return owner && found.length > 1
    ? found.sort((a, b) => Number(b.owner === owner) - Number(a.owner === owner))
    : found;
}

export async function insertBlobKey(db: Db, hash: string, owner: string, wrapped: string): Promise<void> {
  await exec(
    db,
    sql`insert into blob_keys (hash, owner, wrapped) values (${hash}, ${owner}, ${wrapped}) on conflict do nothing`,
  );
}
