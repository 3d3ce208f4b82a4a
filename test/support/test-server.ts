/**
 * A protocol-only Rewind server for tests and benchmarks: the real node:http front with
 * /dm, on 127.0.0.1 and a free port, over a fresh database: a SQLite file in a temporary
 * directory (WAL and all, as in production), or in the PostgreSQL pass of the tests
 * (REWIND_TEST_DB=pg) a fresh PostgreSQL database. Not for production use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDb, type Db } from '@/db/client';
import { testDb } from '@/test/support/db';
import { createBlobStore, createPush, setContext, type AppContext } from '../../lib/core/context';
import { env, type Env } from '../../lib/core/env';
import { startServer, type RunningServer } from '../../server';

export interface TestServer {
  ctx: AppContext;
  server: RunningServer;
  /** http://127.0.0.1:<port>/dm */
  dmUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(
  opts: {
    dataDir?: string;
    port?: number;
    env?: Partial<Env>;
    /** The database to serve (the caller's to close); by default DATA_DIR/rewind.db, or a fresh PostgreSQL database in the PostgreSQL pass. */
    db?: Db;
  } = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-test-'));
  const base = env();
  const e = { ...base, ...opts.env, DATA_DIR: dataDir, dataDir };
  const db = opts.db ?? (await testDb(dataDir));
  const ctx: AppContext = { db, env: e, push: createPush(e), blobs: createBlobStore(e, db) };
  setContext(ctx);
  const server = await startServer({ port: opts.port ?? 0, host: '127.0.0.1', next: false });
  return {
    ctx,
    server,
    dmUrl: `http://127.0.0.1:${server.port}/dm`,
    dataDir,
    async close() {
      await server.close();
      setContext(undefined);
      if (!opts.db) await closeDb(db);
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
