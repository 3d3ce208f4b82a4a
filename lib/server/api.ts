import 'server-only';
import { getContext, type AppContext } from '@/lib/app-context';
import { authenticateBearer, type ApiRole } from '@/lib/tokens';
import { ValidationError } from '@/lib/devices';
import { log } from '@/lib/log';

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
      log.error({ err }, 'api handler failed');
      return apiError(500, 'internal', 'Something went wrong on our side.');
    }
  };
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
