/**
 * A protocol-only Rewind server (`scripts/start.ts --protocol-only`: /dm, /ds, /packages,
 * the wake dispatcher and the scheduler) in a child process of its own, for tests that
 * must kill it the hard way (SIGKILL: no shutdown handler, writes cut wherever they are)
 * and start it again on the same data directory. Not for production use.
 *
 * The child is plain `node --import tsx`, one process, so a signal reaches the server
 * itself and not a wrapper that would leave it running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ChildServer {
  proc: ChildProcess;
  port: number;
  /** http://127.0.0.1:<port>/dm */
  dmUrl: string;
  dataDir: string;
  /** The child's last few KB of stdout and stderr, for failure messages. */
  output(): string;
  /** SIGKILL, then wait for the process to be gone (its port is free again). */
  kill(): Promise<void>;
  /** SIGTERM: the server's own shutdown. */
  stop(): Promise<void>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const READY = /DM endpoint:\s+(http:\/\/\S+?)\/dm/;
const KEEP = 8192;

export async function spawnChildServer(opts: {
  dataDir: string;
  /** 0 (default): a free port; pass the previous one to come back where handsets expect it. */
  port?: number;
  /** More settings for the child: DATABASE_URL (test/support/db.ts's databaseEnv) puts it on that PostgreSQL database instead of DATA_DIR/rewind.db. */
  env?: Record<string, string>;
  timeoutMs?: number;
}): Promise<ChildServer> {
  // The database is the one the caller names: a DATABASE_URL of this process's own is not passed on.
  const { DATABASE_URL: _inherited, ...parentEnv } = process.env;
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts'), '--protocol-only'], {
    cwd: ROOT,
    env: {
      ...parentEnv,
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      ...opts.env,
      PORT: String(opts.port ?? 0),
      HOST: '127.0.0.1',
      DATA_DIR: opts.dataDir,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString('utf8')).slice(-KEEP);
  };
  proc.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`the server did not start within ${opts.timeoutMs ?? 30_000} ms:\n${out}`));
    }, opts.timeoutMs ?? 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      keep(b);
      const m = READY.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${signal ?? code}) before listening:\n${out}`));
    });
  });
  const port = Number(new URL(url).port);
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    // A server that does not stop within 15 s of SIGTERM is killed: no test leaves one behind.
    const late = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(late);
  };
  return {
    proc,
    port,
    dmUrl: `http://127.0.0.1:${port}/dm`,
    dataDir: opts.dataDir,
    output: () => out,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}
