/**
 * API bearer tokens. Only a SHA-256 of each token is stored; the token is shown once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@/db/client';
import { findActiveToken, insertToken, listTokens, revokeToken, touchToken, type TokenRow } from '@/db/queries/tokens';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';

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

/** createApiToken for an admin or the CLI, audited under `actor` (the token itself never is). */
export async function createApiTokenAs(
  db: Db,
  role: ApiRole,
  name: string,
  actor: string,
): Promise<{ token: string; id: string }> {
  const r = await createApiToken(db, role, name);
  await insertAudit(db, { actor, action: 'token.created', details: { id: r.id, name, role } });
  return r;
}

/** Revokes an active token, audited under `actor`; refused when it is unknown or revoked already. */
export async function revokeApiToken(db: Db, id: string, actor: string): Promise<TokenRow> {
  const t = await revokeToken(db, id);
  if (!t) throw AppError.invalid('That token is unknown or already revoked.');
  await insertAudit(db, { actor, action: 'token.revoked', details: { id: t.id, name: t.name, role: t.role } });
  return t;
}

/** Every token, newest first, without its hash (the tokens page). */
export async function tokenList(db: Db) {
  return listTokens(db);
}
