import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { apiTokens } from '../schema';

export type TokenRow = typeof apiTokens.$inferSelect;

export function insertToken(db: Db, t: { name: string; tokenHash: string; role: TokenRow['role'] }): TokenRow {
  return db.insert(apiTokens).values(t).returning().get();
}

export function findActiveToken(db: Db, tokenHash: string): TokenRow | undefined {
  return db.select().from(apiTokens)
    .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt))).get();
}

export function touchToken(db: Db, id: string): void {
  db.update(apiTokens).set({ lastUsedAt: Date.now() }).where(eq(apiTokens.id, id)).run();
}

export function listTokens(db: Db): Array<Omit<TokenRow, 'tokenHash'>> {
  return db.select({
    id: apiTokens.id, name: apiTokens.name, role: apiTokens.role, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, revokedAt: apiTokens.revokedAt,
  }).from(apiTokens).orderBy(desc(apiTokens.createdAt)).all();
}

/** Revokes a token; the row when it was active, undefined when unknown or already revoked. */
export function revokeToken(db: Db, id: string, now = Date.now()): TokenRow | undefined {
  return db.update(apiTokens).set({ revokedAt: now }).where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt))).returning().get();
}
