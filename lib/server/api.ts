import 'server-only';
import { getContext, type AppContext } from '@/lib/core/context';
import { authenticateBearer, type ApiRole } from '@/lib/auth/tokens';
import { ValidationError } from '@/lib/devices/devices';
import { SnapshotError } from '@/lib/backup/read';
import { PlanError } from '@/lib/restore/plan';
import { RestoreError } from '@/lib/restore/engine';
import { CatalogError } from '@/lib/catalog/catalog';
import { log } from '@/lib/core/log';
import { auditMark, countAuditSince, insertAudit } from '@/db/queries/audit';
import { authGate } from '@/lib/auth/limits';
import { clientAddressFromHeaders } from '@/lib/core/client-address';
import type { z } from 'zod';

export interface ApiContext extends AppContext {
  role: ApiRole;
  tokenId: string;
}

export function apiError(status: number, code: string, message: string, fieldErrors?: Record<string, string[]>): Response {
  return Response.json({ error: { code, message, ...(fieldErrors ? { fieldErrors } : {}) } }, { status });
}

/**
 * Every REST handler goes through this: bearer token, role, and one place where known
 * errors become 4xx answers and anything else a logged 500 without internals.
 */
export function apiHandler<P = unknown>(
  roles: readonly ApiRole[],
  fn: (req: Request, ctx: ApiContext, params: P) => Promise<Response> | Response,
) {
  return async (req: Request, route: { params: Promise<P> }): Promise<Response> => {
    const app = getContext();
    // Bad or unknown tokens count per client address; over the limit the address is refused
    // before the token is looked up (no database work for a guesser).
    const client = clientAddressFromHeaders(req.headers);
    const gate = authGate('api');
    const wait = gate.refusedAddress(client);
    if (wait !== undefined) {
      const res = apiError(429, 'rate-limited', `Too many requests with a bad token from this address. Try again in ${wait} seconds.`);
      res.headers.set('retry-after', String(wait));
      return res;
    }
    const authorization = req.headers.get('authorization');
    const token = await authenticateBearer(app.db, authorization);
    if (!token) {
      if (authorization) gate.failed(client);
      return apiError(401, 'unauthorized', 'A valid bearer token is required.');
    }
    if (!roles.includes(token.role)) return apiError(403, 'forbidden', `This needs one of the roles: ${roles.join(', ')}.`);
    const mutation = req.method !== 'GET' && req.method !== 'HEAD';
    const mark = mutation ? await auditMark(app.db) : 0;
    try {
      const res = await fn(req, { ...app, role: token.role, tokenId: token.id }, await route.params);
      if (mutation && res.status < 400) await ensureAudited(app, `token:${token.id}`, mark, req);
      return res;
    } catch (err) {
      if (err instanceof ValidationError) return apiError(400, 'invalid', err.message, err.fieldErrors);
      if (err instanceof SnapshotError) return snapshotError(err);
      if (err instanceof PlanError) return apiError(PLAN_STATUS[err.code], err.code, err.message);
      if (err instanceof RestoreError) return apiError(RESTORE_STATUS[err.code], err.code, err.message);
      if (err instanceof CatalogError) return apiError(400, 'invalid', err.message);
      log.error({ err }, 'api handler failed');
      return apiError(500, 'internal', 'Something went wrong on our side.');
    }
  };
}

/**
 * Every successful API request that changes something leaves an audit entry: the route or
 * the domain code writes it with the details; when neither did, the request itself is
 * recorded (method and path), so a forgotten entry loses the details, never the record.
 */
async function ensureAudited(app: AppContext, actor: string, mark: number, req: Request): Promise<void> {
  if ((await countAuditSince(app.db, actor, mark)) > 0) return;
  await insertAudit(app.db, { actor, action: 'api.request', details: { method: req.method, path: new URL(req.url).pathname } });
}

/** SnapshotError codes as answers; a blob gone from the store is our fault, and said plainly. */
function snapshotError(err: SnapshotError): Response {
  switch (err.code) {
    case 'not-found': case 'no-such-node': return apiError(404, err.code, err.message);
    case 'not-complete': return apiError(409, err.code, err.message);
    case 'content-missing':
      log.error({ err }, 'snapshot content missing from the blob store');
      return apiError(500, err.code, `The backup store has lost data this snapshot needs (${err.message}); an operator should run a store verification.`);
  }
}

/** PlanError codes: a snapshot or device not found, a snapshot not complete, another subscriber's handset, nothing to restore. */
const PLAN_STATUS: Record<PlanError['code'], number> = { 'not-found': 404, 'not-complete': 409, forbidden: 403, invalid: 400, empty: 400 };
/** RestoreError codes: `invalid` is a job whose state does not allow it (still running, nothing failed). */
const RESTORE_STATUS: Record<RestoreError['code'], number> = { 'not-found': 404, 'already-run': 409, invalid: 409 };

/** Validates input (a body or query) against a schema; a mismatch is a 400 naming each field ('paths.2'). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of r.error.issues) (fieldErrors[issue.path.join('.') || '_'] ??= []).push(issue.message);
  const first = r.error.issues[0]!;
  throw new ValidationError(`${first.path.join('.') || 'input'}: ${first.message}`, fieldErrors);
}

/** Reads a text body (CSV, say) with a size cap. */
export async function readText(req: Request, maxBytes: number): Promise<string> {
  const bytes = await readBytes(req, maxBytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new ValidationError('body is not valid UTF-8');
  }
}

/**
 * Reads a binary body (a package upload) with a size cap, refusing it as soon as the
 * declared length or the bytes read pass the cap rather than after holding it all.
 */
export async function readBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new ValidationError(`body larger than ${maxBytes} bytes`);
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new ValidationError(`body larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Reads a JSON body with a size cap; a malformed body is a 400, not a crash. */
export async function readJson(req: Request, maxBytes = 1_000_000): Promise<unknown> {
  const text = await readText(req, maxBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
}
