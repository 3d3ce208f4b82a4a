/**
 * Server actions and server components under test, as a chosen viewer. Each test file mocks
 * the session module with this holder (vi.mock is hoisted per file, so it cannot live here):
 *
 *   import type * as Session from '@/lib/server/session';
 *   vi.mock('@/lib/server/session', async (orig) => ({
 *     ...(await orig<typeof Session>()),
 *     getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
 *   }));
 *
 * then sets `signedIn.viewer` before calling an action. `await tempContext()` gives the test its
 * own database (test/support/db.ts: SQLite under its data dir, or PostgreSQL in that pass) and blob
 * store as the process context.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDb } from '@/db/client';
import { createBlobStore, createPush, setContext, type AppContext } from '@/lib/core/context';
import { env } from '@/lib/core/env';
import type { Viewer } from '@/lib/server/session';
import { testDb } from './db';

export const signedIn: { viewer: Viewer | null } = { viewer: null };

export function staff(role: 'admin' | 'agent', email = `${role}@rewind.test`): Viewer {
  return { userId: `user-${role}`, email, role, subscriberId: null };
}

export function subscriberViewer(subscriberId: string, email = `sub-${subscriberId.slice(0, 6)}@rewind.test`): Viewer {
  return { userId: `user-${subscriberId}`, email, role: 'subscriber', subscriberId };
}

export interface TempContext {
  ctx: AppContext;
  dir: string;
  close: () => Promise<void>;
}

export async function tempContext(prefix = 'rewind-app-'): Promise<TempContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const e = { ...env(), dataDir: dir };
  const db = await testDb(dir);
  const ctx: AppContext = { db, env: e, push: createPush(e), blobs: createBlobStore(e, db) };
  setContext(ctx);
  return {
    ctx,
    dir,
    close: async () => {
      await closeDb(ctx.db);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
