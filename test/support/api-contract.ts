/**
 * The API tests' check against the OpenAPI document (lib/api/openapi.ts): every answer a
 * test receives from a route handler is one the document lists for that operation, its
 * JSON body parses with the documented response schema, and a request that succeeded sent
 * a body the documented request schema takes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'vitest';
import { z } from 'zod';
import { answerSchema, apiOperation } from '@/lib/api/openapi';
import { FileBlobStore } from '@/lib/backup/blob-store';
import { createApiToken } from '@/lib/auth/tokens';
import { createPush, setContext, type AppContext } from '@/lib/core/context';
import { env } from '@/lib/core/env';
import { testDb } from './db';

/** Builds the check for a test file's handlers, each named as the document names it ('GET /jobs/{id}'). */
export function documentChecker(operations: ReadonlyArray<readonly [unknown, string]>) {
  const operationOf = new Map<unknown, string>(operations);
  return function conformsToDocument(
    handler: unknown,
    status: number,
    body: unknown,
    json: boolean,
    sent: unknown,
  ): void {
    const name = operationOf.get(handler);
    expect(name, 'a handler the document check knows').toBeDefined();
    const [method, template] = name!.split(' ') as [string, string];
    const op = apiOperation(method, template);
    expect(op, `${name} in the document`).toBeDefined();
    const schema = answerSchema(op!, status);
    expect(schema, `${name} answered ${status}, which the document does not list`).not.toBeUndefined();
    if (schema && json) {
      const r = schema.safeParse(body);
      expect(r.success, `${name} ${status}: ${r.error ? JSON.stringify(r.error.issues.slice(0, 3)) : ''}`).toBe(true);
    }
    if (status < 300 && sent !== undefined && op!.body instanceof z.ZodType) {
      const r = op!.body.safeParse(sent);
      expect(
        r.success,
        `${name}: the request body the document takes: ${r.error ? JSON.stringify(r.error.issues.slice(0, 3)) : ''}`,
      ).toBe(true);
    }
  };
}

type Handler = (req: Request, route: { params: Promise<never> }) => Promise<Response>;

export interface ApiCallOptions {
  /** A bearer token; the caller's default without it. */
  token?: string;
  /** Sent as JSON. */
  body?: unknown;
  query?: Record<string, string>;
  /** The route's dynamic segments. */
  params?: Record<string, string>;
}

/**
 * Calls route handlers as Next does (a Request, the route's params), with a bearer token and
 * a JSON body, and checks every answer with `conformsToDocument`.
 */
export function apiCaller<B>(conformsToDocument: ReturnType<typeof documentChecker>, defaultToken: () => string) {
  return async function call(
    handler: unknown,
    method: string,
    opts: ApiCallOptions = {},
  ): Promise<{ status: number; body: B }> {
    const url = new URL('http://localhost/api/v1/x');
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { authorization: `Bearer ${opts.token ?? defaultToken()}` };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await (handler as Handler)(
      new Request(url, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) }),
      { params: Promise.resolve(opts.params ?? {}) as Promise<never> },
    );
    const body = (await res.json()) as B;
    conformsToDocument(handler, res.status, body, true, opts.body);
    return { status: res.status, body };
  };
}

/**
 * What an API test starts from: a data directory and database of its own, set as the process
 * context the route handlers read, and a token for each kind of caller.
 */
export async function apiTestContext(
  name: string,
): Promise<{ dir: string; ctx: AppContext; admin: string; agent: string; reader: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rewind-${name}-`));
  const e = { ...env(), DATA_DIR: dir, dataDir: dir };
  const ctx: AppContext = {
    db: await testDb(dir),
    env: e,
    push: createPush(e),
    blobs: new FileBlobStore(path.join(dir, 'blobs')),
  };
  setContext(ctx);
  return {
    dir,
    ctx,
    admin: (await createApiToken(ctx.db, 'admin', 'admin')).token,
    agent: (await createApiToken(ctx.db, 'agent', 'agent')).token,
    reader: (await createApiToken(ctx.db, 'admin', 'reader', { scope: 'read' })).token,
  };
}
