/**
 * API bearer tokens. Only a SHA-256 of each token is stored; the token is shown once.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@/db/client';
import { findActiveToken, insertToken, listTokens, revokeToken, touchToken, type TokenRow } from '@/db/queries/tokens';
import { insertAudit } from '@/db/queries/audit';
import { AppError } from '../core/errors';

export type ApiRole = TokenRow['role'];
export type TokenScope = TokenRow['scope'];

/** A token's scope and lifetime; without them a token may do whatever its role may, for ever. */
export interface TokenOptions {
  scope?: TokenScope;
  /** How long it lives, in ms from its creation. */
  expiresInMs?: number;
}

const UNIT_MS = { h: 3_600_000, d: 86_400_000 } as const;

/** `30d` or `12h` (at most ten years) in ms; undefined when it is not one. */
export function parseLifetime(text: string): number | undefined {
  const m = /^(\d{1,6})([hd])$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as 'h' | 'd'];
  return ms > 0 && ms <= 3650 * UNIT_MS.d ? ms : undefined;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createApiToken(
  db: Db,
  role: ApiRole,
  name: string,
  opts: TokenOptions = {},
  now = Date.now(),
): Promise<{ token: string; id: string; expiresAt: number | null }> {
  const token = `rw_${randomBytes(32).toString('base64url')}`;
  const expiresAt = opts.expiresInMs === undefined ? null : now + opts.expiresInMs;
  const row = await insertToken(db, {
    name,
    role,
    tokenHash: hashToken(token),
    scope: opts.scope ?? 'full',
    expiresAt,
  });
  return { token, id: row.id, expiresAt };
}

/**
 * The token row for an `Authorization: Bearer …` header, or undefined; `expired` when the
 * token is real but past its expiry (refused all the same, but told apart for the answer).
 */
export async function authenticateBearer(
  db: Db,
  header: string | null | undefined,
  now = Date.now(),
): Promise<TokenRow | 'expired' | undefined> {
  const m = /^Bearer\s+(\S{8,256})$/i.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const row = await findActiveToken(db, hashToken(m[1]!));
  if (!row) return undefined;
  if (row.expiresAt !== null && row.expiresAt <= now) return 'expired';
  await touchToken(db, row.id);
  return row;
}

/** Whether a token's scope lets it make a request with this method: a read-only token only reads. */
export function scopeAllows(scope: TokenScope, method: string): boolean {
  return scope === 'full' || method === 'GET' || method === 'HEAD';
}

/** createApiToken for an admin or the CLI, audited under `actor` (the token itself never is). */
export async function createApiTokenAs(
  db: Db,
  role: ApiRole,
  name: string,
  actor: string,
  opts: TokenOptions = {},
): Promise<{ token: string; id: string; expiresAt: number | null }> {
  const r = await createApiToken(db, role, name, opts);
  await insertAudit(db, {
    actor,
    action: 'token.created',
    details: { id: r.id, name, role, scope: opts.scope ?? 'full', expiresAt: r.expiresAt },
  });
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
export async function tokenList(db: Db, now = Date.now()) {
  return (await listTokens(db)).map((t) => ({ ...t, expired: t.expiresAt !== null && t.expiresAt <= now }));
}
