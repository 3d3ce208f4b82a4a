/**
 * `npm start` and `npm run demo`. Builds the console once if there is no build yet, opens
 * the database (applying migrations), and serves the console, the REST API and /dm.
 * With --demo it also provisions and connects a fleet of virtual handsets.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startServer } from '../server';
import { env } from '../lib/core/env';
import { openAppContext, setContext } from '../lib/core/context';
import { log } from '../lib/core/log';
import { startWakeDispatcher } from '../lib/jobs/wake-dispatcher';
import { startScheduler } from '../lib/backup/scheduler';
import { startAlerting } from '../lib/alerts/worker';
import { startBulkWorker } from '../lib/bulk/worker';
import { startHeartbeat } from '../lib/gateway/heartbeat';
import { countUsers } from '../db/queries/users';

const args = new Set(process.argv.slice(2));
const demo = args.has('--demo');
const dev = args.has('--dev');
// Handsets only (/dm, /ds, /packages): for soak and fault tests that run the server as a child process.
const protocolOnly = args.has('--protocol-only');

async function main(): Promise<void> {
  const e = env();
  process.env.NEXT_TELEMETRY_DISABLED = '1';
  if (
    !dev &&
    !protocolOnly &&
    !args.has('--no-build') &&
    !fs.existsSync(path.join(process.env.NEXT_DIST_DIR || '.next', 'BUILD_ID'))
  ) {
    console.log('Building the console (first start only)…');
    execFileSync(process.execPath, [nextBin(), 'build'], {
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    });
  }
  // The database the environment names (PostgreSQL when DATABASE_URL is set, else
  // DATA_DIR/rewind.db), migrated and indexed before the first request, and this process's
  // blob store and master key checked against the deployment's before anything is written:
  // a process configured otherwise exits 1 with the reason, having made nothing.
  const ctx = await openAppContext(e);
  setContext(ctx);
  // This process's heartbeat, before it serves anything (its sessions carry its id), and the
  // check that ends the sessions of processes whose heartbeat stopped.
  const heartbeat = await startHeartbeat(ctx, e.PROCESS_HEARTBEAT_TIMEOUT * 1000);
  const server = await startServer({ port: e.PORT, host: e.HOST, next: protocolOnly ? false : { dev } });
  // Package #0 for queued jobs (whoever queued them), and the policies' periodic backups.
  const stopWakes = startWakeDispatcher(ctx);
  const stopScheduler = startScheduler(ctx);
  // Alert rules and webhook deliveries (lib/alerts/worker.ts).
  const stopAlerting = startAlerting(ctx);
  // Bulk operations, a page of handsets at a time (lib/bulk/worker.ts).
  const stopBulk = startBulkWorker(ctx);
  if (!protocolOnly) console.log(`Rewind console: ${server.url}`);
  console.log(`DM endpoint:    ${server.url}/dm`);
  console.log(`Data directory: ${e.dataDir}`);

  let stopDemo: (() => Promise<void>) | undefined;
  if (demo) {
    const { startDemo } = await import('../sim/demo');
    stopDemo = (await startDemo({ serverUrl: `http://127.0.0.1:${server.port}` })).stop;
  } else if ((await countUsers(ctx.db)) === 0) {
    console.log(
      'No users yet: create the first admin with  npm run rewind -- user add --email you@example.com --role admin  (the password is read from standard input)',
    );
  }

  const shutdown = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    // Whatever a step throws (a busy database while the leases are given back, say), the
    // process ends: a server that ignores SIGTERM is worse than one that skips a step.
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    try {
      await stopDemo?.();
      // Awaited: stopping the scheduler gives its lease back to the database.
      stopWakes();
      await stopScheduler();
      await stopAlerting();
      await stopBulk();
      await server.close();
      await heartbeat.stop();
    } catch (err) {
      log.error({ err }, 'shutdown step failed');
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

function nextBin(): string {
  return path.resolve('node_modules', 'next', 'dist', 'bin', 'next');
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
