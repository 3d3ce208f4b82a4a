import 'server-only';
import { getContext, type AppContext } from '@/lib/app-context';
import { authenticateBearer, type ApiRole } from '@/lib/tokens';
import { ValidationError } from '@/lib/devices';
import { SnapshotError } from '@/lib/backup/read';
import { log } from '@/lib/log';
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
    const token = authenticateBearer(app.db, req.headers.get('authorization'));
    if (!token) return apiError(401, 'unauthorized', 'A valid bearer token is required.');
    if (!roles.includes(token.role)) return apiError(403, 'forbidden', `This needs one of the roles: ${roles.join(', ')}.`);
    try {
      return await fn(req, { ...app, role: token.role, tokenId: token.id }, await route.params);
    } catch (err) {
      if (err instanceof ValidationError) return apiError(400, 'invalid', err.message, err.fieldErrors);
      if (err instanceof SnapshotError) return snapshotError(err);
      log.error({ err }, 'api handler failed');
      return apiError(500, 'internal', 'Something went wrong on our side.');
    }
  };
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
  const declared = Number(req.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new ValidationError(`body larger than ${maxBytes} bytes`);
  const text = await req.text();
  if (text.length > maxBytes) throw new ValidationError(`body larger than ${maxBytes} bytes`);
  return text;
}

/** Reads a JSON body with a size cap; a malformed body is a 400, not a crash. */
export async function readJson(req: Request, maxBytes = 1_000_000): Promise<unknown> {
  const text = await req.text();
  if (text.length > maxBytes) throw new ValidationError('body too large');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError('body is not valid JSON');
  }
}
