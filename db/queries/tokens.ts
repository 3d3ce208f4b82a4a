import { and, eq, isNull } from 'drizzle-orm';
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
