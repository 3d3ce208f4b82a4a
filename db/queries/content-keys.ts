/** Data keys and blob keys of encryption at rest (lib/backup/keyring.ts). */
import { and, eq, inArray } from 'drizzle-orm';
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

/** The wraps of one blob's key, `owner`'s first when it has one. */
export function blobKeysFor(db: Db, hash: string, owner?: string): BlobKeyRow[] {
  const rows = db.select({ owner: blobKeys.owner, wrapped: blobKeys.wrapped }).from(blobKeys).where(eq(blobKeys.hash, hash)).all();
  return owner ? rows.sort((a, b) => Number(b.owner === owner) - Number(a.owner === owner)) : rows;
}

export function insertBlobKey(db: Db, hash: string, owner: string, wrapped: string): void {
  db.insert(blobKeys).values({ hash, owner, wrapped }).onConflictDoNothing().run();
}

export function hasBlobKey(db: Db, hash: string, owner: string): boolean {
  return !!db.select({ h: blobKeys.hash }).from(blobKeys).where(and(eq(blobKeys.hash, hash), eq(blobKeys.owner, owner))).get();
}

export function deleteBlobKeys(db: Db, hashes: readonly string[]): void {
  for (const part of chunks(hashes)) db.delete(blobKeys).where(inArray(blobKeys.hash, part)).run();
}
