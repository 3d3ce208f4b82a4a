import { and, desc, eq, isNull } from 'drizzle-orm';
import type { Db } from '../client';
import { apiTokens } from '../schema';

export type TokenRow = typeof apiTokens.$inferSelect;

export async function insertToken(
  db: Db,
  t: { name: string; tokenHash: string; role: TokenRow['role']; scope: TokenRow['scope']; expiresAt: number | null },
): Promise<TokenRow> {
  return (await db.insert(apiTokens).values(t).returning())[0]!;
}

export async function findActiveToken(db: Db, tokenHash: string): Promise<TokenRow | undefined> {
  return (
    await db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, tokenHash), isNull(apiTokens.revokedAt)))
      .limit(1)
  )[0];
}

export async function touchToken(db: Db, id: string): Promise<void> {
  await db.update(apiTokens).set({ lastUsedAt: Date.now() }).where(eq(apiTokens.id, id));
}

export async function listTokens(db: Db): Promise<Array<Omit<TokenRow, 'tokenHash'>>> {
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      role: apiTokens.role,
      scope: apiTokens.scope,
      expiresAt: apiTokens.expiresAt,
      createdAt: apiTokens.createdAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .orderBy(desc(apiTokens.createdAt));
}

/** Revokes a token; the row when it was active, undefined when unknown or already revoked. */
export async function revokeToken(db: Db, id: string, now = Date.now()): Promise<TokenRow | undefined> {
  return (
    await db
      .update(apiTokens)
      .set({ revokedAt: now })
      .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
      .returning()
  )[0];
}
