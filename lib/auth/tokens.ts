/**
 * API bearer tokens. Only a SHA-256 of each token is stored; the token is shown once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@/db/client';
import { findActiveToken, insertToken, touchToken, type TokenRow } from '@/db/queries/tokens';

export type ApiRole = TokenRow['role'];

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createApiToken(db: Db, role: ApiRole, name: string): Promise<{ token: string; id: string }> {
  const token = `rw_${randomBytes(32).toString('base64url')}`;
  const row = await insertToken(db, { name, role, tokenHash: hashToken(token) });
  return { token, id: row.id };
}

/** The token row for an `Authorization: Bearer …` header, or undefined. */
export async function authenticateBearer(db: Db, header: string | null | undefined): Promise<TokenRow | undefined> {
  const m = /^Bearer\s+(\S{8,256})$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const row = await findActiveToken(db, hashToken(m[1]!));
  if (row) await touchToken(db, row.id);
  return row;
}
