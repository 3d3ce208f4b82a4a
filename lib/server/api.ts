import 'server-only';
import { createHash } from 'node:crypto';
import { getContext, type AppContext } from '@/lib/core/context';
import { authenticateBearer, scopeAllows, type ApiRole } from '@/lib/auth/tokens';
import { AppError, type FieldErrors } from '@/lib/core/errors';
import { log } from '@/lib/core/log';
import { auditMark, countAuditSince, insertAudit } from '@/db/queries/audit';
import { authGate, type AuthGate, type Refusal } from '@/lib/auth/limits';
import { clientAddressFromHeaders } from '@/lib/core/client-address';
import type { z } from 'zod';

export interface ApiContext extends AppContext {
  role: ApiRole;
  tokenId: string;
}

export function apiError(
  status: number,
  code: string,
  message: string,
  fieldErrors?: FieldErrors,
  details?: Record<string, unknown>,
): Response {
  return Response.json({ error: { code, message, ...(fieldErrors ? { fieldErrors } : {}), ...details } }, { status });
}

/**
 * Every REST handler goes through this: bearer token, role, and the one place where an
 * AppError becomes its answer (status, code, the message for people, field errors) and
 * anything else a logged 500 without internals.
 */
export function apiHandler<P = unknown>(
  roles: readonly ApiRole[],
  fn: (req: Request, ctx: ApiContext, params: P) => Promise<Response> | Response,
) {
  return async (req: Request, route: { params: Promise<P> }): Promise<Response> => {
    const app = getContext();
    // Bad or unknown tokens count per address and token, and for the address; a good token
    // is never refused for what other tokens from its address did (lib/auth/limits.ts). A
    // token that already failed from here cannot have become valid, so the counts refuse it
    // before it is looked up; any other token is looked up (one indexed read) first.
    const client = clientAddressFromHeaders(req.headers);
    const gate = authGate('api');
    const authorization = req.headers.get('authorization');
    // No token at all is not a failure: it meets no limit and is answered 401 below.
    const identity = authorization ? tokenIdentity(authorization) : undefined;
    const early = identity === undefined ? undefined : gate.refusal(client, identity);
    if (early) return tooMany(gate, early, client);
    const found = await authenticateBearer(app.db, authorization);
    // An expired token is a real one: no failure to count, but no access either.
    if (found === 'expired') return apiError(401, 'token-expired', 'This token has expired: create a new one.');
    const token = found;
    if (!token) {
      if (identity === undefined) return apiError(401, 'unauthorized', 'A valid bearer token is required.');
      const over = gate.addressRefusal(client);
      gate.failed(client, identity);
      return over ? tooMany(gate, over, client) : apiError(401, 'unauthorized', 'A valid bearer token is required.');
    }
    if (!roles.includes(token.role))
      return apiError(403, 'forbidden', `This needs one of the roles: ${roles.join(', ')}.`);
    if (!scopeAllows(token.scope, req.method))
      return apiError(403, 'read-only-token', 'This token is read-only: it may only read (GET).');
    const mutation = req.method !== 'GET' && req.method !== 'HEAD';
    const mark = mutation ? await auditMark(app.db) : 0;
    try {
      const res = await fn(req, { ...app, role: token.role, tokenId: token.id }, await route.params);
      if (mutation && res.status < 400) await ensureAudited(app, `token:${token.id}`, mark, req);
      return res;
    } catch (err) {
      if (err instanceof AppError) {
        // Ours but still answered for people (the store lost a snapshot's content): logged for the operator.
        if (err.kind === 'internal') log.error({ err }, 'api handler failed');
        return apiError(err.status, err.code, err.userMessage, err.fieldErrors, err.details);
      }
      log.error({ err }, 'api handler failed');
      return apiError(500, 'internal', 'Something went wrong on our side.');
    }
  };
}

/** What the counts know a token by: a digest, so no token is kept in memory. */
function tokenIdentity(authorization: string): string {
  return createHash('sha256').update(authorization).digest('base64url').slice(0, 22);
}

function tooMany(gate: AuthGate, r: Refusal, client: string): Response {
  gate.refused(r, client);
  const what = r.reason === 'identity' ? 'this bad token' : 'bad tokens';
  const res = apiError(
    429,
    'rate-limited',
    `Too many requests with ${what} from this address. Try again in ${r.retryAfterSeconds} seconds.`,
  );
  res.headers.set('retry-after', String(r.retryAfterSeconds));
  return res;
}

/**
 * Every successful API request that changes something leaves an audit entry: the route or
 * the domain code writes it with the details; when neither did, the request itself is
 * recorded (method and path), so a forgotten entry loses the details, never the record.
 */
async function ensureAudited(app: AppContext, actor: string, mark: number, req: Request): Promise<void> {
  if ((await countAuditSince(app.db, actor, mark)) > 0) return;
  await insertAudit(app.db, {
    actor,
    action: 'api.request',
    details: { method: req.method, path: new URL(req.url).pathname },
  });
}

/** Validates input (a body or query) against a schema; a mismatch is a 400 naming each field ('paths.2'). */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw AppError.fromZod(r.error);
}

/** Reads a text body (CSV, say) with a size cap. */
export async function readText(req: Request, maxBytes: number): Promise<string> {
  const bytes = await readBytes(req, maxBytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw AppError.invalid('body is not valid UTF-8');
  }
}

/**
 * Reads a binary body (a package upload) with a size cap, refusing it as soon as the
 * declared length or the bytes read pass the cap rather than after holding it all.
 */
export async function readBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw AppError.invalid(`body larger than ${maxBytes} bytes`);
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
      throw AppError.invalid(`body larger than ${maxBytes} bytes`);
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
    throw AppError.invalid('body is not valid JSON');
  }
}
