/**
 * Handsets that stay connected during a spec: `rewind sim --minutes` in the background,
 * each handset opening a session every 2 s and its user answering every prompt with the
 * default choice ("Now"), so jobs queued from the browser run while the page watches.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { TestInfo } from '@playwright/test';

/** Starts the handsets `simHandsets` registered with this seed; stop them in afterAll. */
export function keepConnected(testInfo: TestInfo, opts: { seed: number; devices: number }): { stop: () => void } {
  const base = testInfo.project.use.baseURL!;
  const child: ChildProcess = spawn(
    path.resolve('node_modules/.bin/tsx'),
    [
      'cli/rewind.ts',
      'sim',
      '--server',
      `${base}/dm`,
      '--devices',
      String(opts.devices),
      '--seed',
      String(opts.seed),
      '--minutes',
      '5',
      '--every',
      '2',
      '--media-scale',
      '0.02',
      '--state-dir',
      path.join(process.env.E2E_DATA_DIR!, `handsets-${opts.seed}`),
    ],
    { env: { ...process.env, DATA_DIR: process.env.E2E_DATA_DIR!, LOG_LEVEL: 'silent' }, stdio: 'ignore' },
  );
  return {
    stop: () => {
      if (child.exitCode === null) child.kill('SIGINT');
    },
  };
}
