/** Data keys and blob keys of encryption at rest (lib/backup/keyring.ts). */
import { eq, inArray } from 'drizzle-orm';
import type { Db } from '../client';
import { blobKeys, contentKeys } from '../schema';
import { chunks } from './chunks';

export function getContentKey(db: Db, owner: string): string | undefined {
  return db.select({ wrapped: contentKeys.wrapped }).from(contentKeys).where(eq(contentKeys.owner, owner)).get()?.wrapped;
}

/** Inserts a data key unless the owner has one; returns the one that is stored. */
export function insertContentKey(db: Db, owner: string, wrapped: string): string {
  db.insert(contentKeys).values({ owner, wrapped }).onConflictDoNothing().run();
  return getContentKey(db, owner)!;
}

export function deleteContentKeys(db: Db, owners: readonly string[]): number {
  let n = 0;
  for (const part of chunks(owners)) {
    db.delete(blobKeys).where(inArray(blobKeys.owner, part)).run();
    n += db.delete(contentKeys).where(inArray(contentKeys.owner, part)).run().changes;
  }
  return n;
}

export interface BlobKeyRow {
  owner: string;
  wrapped: string;
}

// On every value a backup stores: prepared once per connection (building the SQL anew cost
// more than running it).
const statements = new WeakMap<object, ReturnType<typeof prepare>>();

function prepare(db: Db) {
  return {
    wraps: db.$client.prepare('select owner, wrapped from blob_keys where hash = ?'),
    insert: db.$client.prepare('insert into blob_keys (hash, owner, wrapped) values (?, ?, ?) on conflict do nothing'),
  };
}

function stmts(db: Db) {
  let s = statements.get(db.$client);
  if (!s) statements.set(db.$client, (s = prepare(db)));
  return s;
}

/** The wraps of one blob's key, `owner`'s first when it has one. */
export function blobKeysFor(db: Db, hash: string, owner?: string): BlobKeyRow[] {
  const rows = stmts(db).wraps.all(hash) as BlobKeyRow[];
  return owner && rows.length > 1 ? rows.sort((a, b) => Number(b.owner === owner) - Number(a.owner === owner)) : rows;
}

export function insertBlobKey(db: Db, hash: string, owner: string, wrapped: string): void {
  stmts(db).insert.run(hash, owner, wrapped);
}
