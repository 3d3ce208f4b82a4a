/**
 * The Rewind server as a child process of a soak run or a benchmark: `scripts/start.ts
 * --protocol-only` (/dm, /ds, /packages, the wake dispatcher and the scheduler, no console)
 * on a free loopback port with its own data directory, and its memory sampled from
 * /proc/<pid>/status, so what is measured is the server's alone.
 *
 * Node runs start.ts itself with tsx's loader (`node --import tsx`), rather than through
 * npx or the tsx binary, which would each put another process between us and the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ServerProcess {
  pid: number;
  /** e.g. http://127.0.0.1:40123/dm */
  dmUrl: string;
  child: ChildProcess;
  /** The server's last lines on standard error, for failure messages. */
  stderrTail(): string;
  /** Its log entries at level error or above (pino JSON on standard output), the first 50. */
  errors(): string[];
  /** SIGTERM (the server's own orderly shutdown), SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface ServerProcessOptions {
  dataDir: string;
  /** Where the server sends Package #0 (the operator's gateway; here, the handsets' side). */
  pushWebhookUrl?: string;
  logLevel?: string;
  /** How long to wait for "DM endpoint:" (default 60 s: migrations on a loaded machine). */
  startTimeoutMs?: number;
  /** More of the server's environment (e.g. TRUST_PROXY). */
  env?: Record<string, string>;
}

export async function startServerProcess(opts: ServerProcessOptions): Promise<ServerProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: opts.dataDir,
    LOG_LEVEL: opts.logLevel ?? 'warn',
    NODE_ENV: 'production',
  };
  // Handsets must be sent back to this server (RespURI, package URLs), not to a configured public one.
  delete env.PUBLIC_URL;
  delete env.PUSH_WEBHOOK_URL;
  if (opts.pushWebhookUrl) env.PUSH_WEBHOOK_URL = opts.pushWebhookUrl;
  Object.assign(env, opts.env);
  // Vitest's and tsx's own loader flags are not the server's business.
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/start.ts'), '--protocol-only'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A soak or benchmark that is itself stopped takes its server along.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    stderr = (stderr + s).slice(-4000);
  });
  child.stdout!.setEncoding('utf8');
  const dmUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => fail(new Error(`the server did not start in ${opts.startTimeoutMs ?? 60_000} ms`)),
      opts.startTimeoutMs ?? 60_000,
    );
    const fail = (e: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${e.message}\n${stderr.trim()}`));
    };
    const onData = (s: string) => {
      out = (out + s).slice(-4000);
      const m = /DM endpoint:\s+(\S+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      resolve(m[1]!);
    };
    const onExit = (code: number | null) => fail(new Error(`the server exited (code ${code}) before listening`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
  // Keep reading its standard output (so the pipe never fills and blocks the server), keeping its errors.
  const errors: string[] = [];
  let partial = '';
  child.stdout!.on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (errors.length >= 50 || !line.startsWith('{')) continue;
      try {
        if ((JSON.parse(line) as { level?: number }).level! >= 50) errors.push(line.slice(0, 2000));
      } catch {
        /* not a log entry */
      }
    }
  });
  return {
    pid: child.pid!,
    dmUrl,
    child,
    stderrTail: () => stderr.trim(),
    errors: () => [...errors],
    stop: (graceMs = 10_000) =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode);
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        child.once('exit', (code) => {
          clearTimeout(t);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Resident set size of a process in bytes (VmRSS), or undefined once it is gone. */
export function rssOf(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface RssSample {
  atMs: number;
  rss: number;
}

/** Samples a process's RSS every `everyMs` until stopped; the samples are kept in order. */
export function sampleRss(
  pid: number,
  everyMs = 1000,
): { samples: RssSample[]; max(): number; latest(): number; stop(): void } {
  const started = Date.now();
  const samples: RssSample[] = [];
  const take = () => {
    const rss = rssOf(pid);
    if (rss !== undefined) samples.push({ atMs: Date.now() - started, rss });
  };
  take();
  const timer = setInterval(take, everyMs);
  timer.unref();
  return {
    samples,
    max: () => samples.reduce((a, s) => Math.max(a, s.rss), 0),
    latest: () => samples[samples.length - 1]?.rss ?? 0,
    stop: () => {
      take();
      clearInterval(timer);
    },
  };
}
