/**
 * A protocol-only Rewind server for tests and benchmarks: the real node:http front with
 * /dm, on 127.0.0.1 and a free port, over a fresh database in a temporary directory
 * (a real file, WAL and all, as in production). Not for production use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDb, dbFile } from '@/db/client';
import { createBlobStore, createPush, setContext, type AppContext } from '../app-context';
import { env, type Env } from '../env';
import { startServer, type RunningServer } from '../../server';

export interface TestServer {
  ctx: AppContext;
  server: RunningServer;
  /** http://127.0.0.1:<port>/dm */
  dmUrl: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(opts: { dataDir?: string; port?: number; env?: Partial<Env> } = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-test-'));
  const base = env();
  const e = { ...base, ...opts.env, DATA_DIR: dataDir, dataDir };
  const db = openDb(dbFile(dataDir));
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
      ctx.db.$client.close();
      if (!opts.dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
