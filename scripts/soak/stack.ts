/**
 * What a soak runs against: a Rewind server as a child process (scripts/server-process.ts,
 * so its memory is measured alone) with a data directory of its own, the operator's push
 * gateway it sends Package #0 to (here, in this process), and this process's own view of
 * the same database and blob store, opened as the CLI opens them.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AppContext } from '../../lib/core/context';
import { sampleRss, startServerProcess } from '../server-process';

export interface SoakStack {
  /** The run's directory: the server's data, and the handsets' state under `stateDir`. */
  root: string;
  stateDir: string;
  server: Awaited<ReturnType<typeof startServerProcess>>;
  rss: ReturnType<typeof sampleRss>;
  ctx: AppContext;
  /** Why the server exited during the run, if it did. */
  serverExit(): string | null;
  /** Stops the server (an exit from now on is expected). */
  stopServer(): Promise<void>;
  /** Stops everything and removes the run's directory unless `keep`. */
  close(keep: boolean | undefined, say: (line: string) => void): Promise<void>;
}

/** Where a Package #0 for a DevId goes: a function that hands it to the handset, or undefined for none. */
export type PushRoute = (devId: string) => ((pkg: Uint8Array) => void) | undefined;

export async function startStack(route: PushRoute): Promise<SoakStack> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-soak-'));
  const dataDir = path.join(root, 'data');
  const stateDir = path.join(root, 'handsets');
  // This process reads and writes the server's database as the CLI does; its own log stays quiet.
  process.env.LOG_LEVEL = 'silent';
  process.env.DATA_DIR = dataDir;
  const { resetEnvCache, env } = await import('../../lib/core/env');
  const { createBlobStore, createPush, setContext } = await import('../../lib/core/context');
  const { closeDb, openDatabase } = await import('../../db/client');

  // The operator's push gateway, as the server sees it: Package #0 for a DevId goes to that handset.
  const gateway = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const deliver = route(new URL(req.url ?? '/', 'http://gateway').searchParams.get('devId') ?? '');
      if (req.method !== 'POST' || !deliver) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(202).end();
      deliver(new Uint8Array(Buffer.concat(chunks)));
    });
  });
  await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', () => resolve()));
  const gatewayUrl = `http://127.0.0.1:${(gateway.address() as { port: number }).port}/push`;
  const closeGateway = () =>
    new Promise<void>((resolve) => {
      gateway.closeAllConnections();
      gateway.close(() => resolve());
    });

  let server: SoakStack['server'];
  try {
    // The front trusts the X-Forwarded-For the handsets send (./faults.ts): an address each.
    server = await startServerProcess({ dataDir, pushWebhookUrl: gatewayUrl, env: { TRUST_PROXY: '1' } });
  } catch (e) {
    await closeGateway();
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const rss = sampleRss(server.pid, 1000);
  let serverExit: string | null = null;
  let stopping = false;
  server.child.once('exit', (code, signal) => {
    if (!stopping)
      serverExit ??= `the server exited during the run (${signal ?? `code ${code}`}): ${server.stderrTail().slice(-600)}`;
  });
  // The server applied the migrations before it printed its address. This process then opens
  // the same database (DATABASE_URL, else the data directory's) and data directory as the CLI
  // does (blob store and its keys).
  resetEnvCache();
  setContext(undefined);
  let ctx: AppContext;
  try {
    const e = env();
    const opened = openDatabase(e);
    ctx = { db: opened, env: e, push: createPush(e), blobs: createBlobStore(e, opened) };
    setContext(ctx);
  } catch (e) {
    await server.stop();
    await closeGateway();
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  return {
    root,
    stateDir,
    server,
    rss,
    ctx,
    serverExit: () => serverExit,
    async stopServer() {
      rss.stop();
      stopping = true;
      await server.stop();
    },
    async close(keep, say) {
      stopping = true;
      rss.stop();
      await server.stop();
      await closeGateway();
      await closeDb(ctx.db);
      setContext(undefined);
      if (keep) say(`data kept in ${root}`);
      else fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
