/**
 * DM endpoint benchmark: messages per second through the real /dm server during full
 * virtual-handset sessions, beside a bare node:http server answering the same bytes.
 *
 * Ours: startTestServer() (the real node:http front and /dm, temporary SQLite database) in
 * this process; a fleet of virtual handsets (mixed XML/WBXML, MD5 both ways) runs one
 * session each from a child process (dm-client.ts), so the handsets' own work does not
 * share the server's event loop. A warm-up fleet runs first, then `runs` fleets of
 * `devices` handsets, each with fresh DevIds. The rate is the fleet's message count
 * (requests plus answers, as the fleet summary counts them) over the time from the first
 * request to the last answer; creating and provisioning the handsets is left out.
 *
 * Baseline: every DM request the handsets sent, with the answer it got, is recorded; a bare
 * node:http server (read the body, write the recorded answer with the same headers) then
 * gets the same request bytes from the same child through the same transport (fetch) with
 * the same concurrency, and the rate counts the same way (2 messages per round trip).
 *
 * The server's event-loop utilisation is measured over each run too: with two cores, the
 * handsets can be what limits the rate, and busy-milliseconds per message is then the
 * fairer comparison of the two servers.
 *
 * Workloads: `backup` (the default, what the goal is about) gives every handset an on-demand
 * backup of all categories, queued before its session, with the virtual models' profiles
 * described, so a session is the inventory, the structure Gets and the leaf Gets until the
 * snapshot is complete. `inventory` is the bare session: the inventory read and the end.
 *
 *   npx tsx scripts/bench/dm.ts [--workload backup|inventory] [--devices N] [--runs N]
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { FleetSummary } from '../../sim/fleet';
import type { ChildMessage, ParentMessage, RecordedAnswer } from './dm-client';
import { formatRows, type Row } from './codec';

export interface DmBenchOptions {
  /** Handsets per measured run (default 200). */
  devices?: number;
  /** Measured runs, each with new handsets (default 5). */
  runs?: number;
  /** Sessions (ours) and requests (baseline) in flight at once (default 16). */
  concurrency?: number;
  /** Handsets in the warm-up run (default 40). */
  warmupDevices?: number;
  /** What each session does (default backup: a full backup of every category). */
  workload?: 'backup' | 'inventory';
}

interface FleetRun {
  summary: FleetSummary;
  windowMs: number;
  requests: number;
  requestBytes: number;
  answerBytes: number;
  /** Server event-loop busy time during the run, ms. */
  busyMs: number;
  /** Server process CPU time (user + system, all threads) during the run, ms. */
  cpuMs: number;
}

interface ReplayRun {
  ms: number;
  requests: number;
  busyMs: number;
  cpuMs: number;
}

/** CPU time since `from`, ms: unlike event-loop busy time, not inflated when other processes hold the cores. */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** A node:http server that answers request `?r=i` with recorded answer i, after reading the body. */
async function startBareServer(answers: readonly RecordedAnswer[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      Buffer.concat(chunks);
      const q = (req.url ?? '').indexOf('?r=');
      const a = q < 0 ? undefined : answers[Number((req.url ?? '').slice(q + 3))];
      if (!a) {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
        return;
      }
      // The headers our endpoint sends (http-body.ts send()).
      res.writeHead(a.status, {
        'content-type': a.contentType,
        'content-length': String(a.body.length),
        'cache-control': 'no-store',
      });
      res.end(a.body);
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/dm`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The child process with the handsets, and a way to wait for its next message of a kind. */
export function startClient(
  onRegister: (ids: Extract<ChildMessage, { type: 'register' }>['ids']) => void | Promise<void>,
) {
  const child: ChildProcess = fork(join(dirname(fileURLToPath(import.meta.url)), 'dm-client.ts'), [], {
    execArgv: process.execArgv, // tsx's loader
    serialization: 'advanced', // Uint8Array bodies
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let waiting:
    { type: ChildMessage['type']; resolve: (m: ChildMessage) => void; reject: (e: Error) => void } | undefined;
  let failed: Error | undefined;
  const fail = (e: Error) => {
    failed ??= e;
    waiting?.reject(e);
    waiting = undefined;
  };
  child.on('message', (m: ChildMessage) => {
    // Registering writes to the database: a failure there fails the bench like the client's own.
    if (m.type === 'register')
      return void Promise.resolve()
        .then(() => onRegister(m.ids))
        .catch((e: unknown) => fail(e instanceof Error ? e : new Error(String(e))));
    if (m.type === 'error') return fail(new Error(`bench client: ${m.message}`));
    if (waiting && m.type === waiting.type) {
      const w = waiting;
      waiting = undefined;
      w.resolve(m);
    }
  });
  child.on('exit', (code) => fail(new Error(`bench client exited (code ${code})`)));
  child.on('error', fail);
  return {
    send: (m: ParentMessage) => child.send(m),
    next<T extends ChildMessage['type']>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
      if (failed) return Promise.reject(failed);
      return new Promise((resolve, reject) => {
        waiting = { type, resolve: resolve as (m: ChildMessage) => void, reject };
      });
    },
    async stop(): Promise<void> {
      if (child.exitCode !== null || !child.connected) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ cmd: 'exit' } satisfies ParentMessage);
      await exited;
    },
  };
}

export async function benchDm(opts: DmBenchOptions = {}): Promise<Row[]> {
  const devices = opts.devices ?? 200;
  const runs = opts.runs ?? 5;
  const concurrency = opts.concurrency ?? 16;
  const warmupDevices = opts.warmupDevices ?? 40;
  const workload = opts.workload ?? 'backup';

  // lib/core/log.ts reads LOG_LEVEL when first imported, hence the dynamic imports below. A
  // PUBLIC_URL would send the handsets elsewhere (RespURI), so loopback only.
  process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'silent';
  delete process.env.PUBLIC_URL;
  const { startTestServer } = await import('../../test/support/test-server.js');
  const { describeVirtualModels, provisionFleet } = await import('../../sim/provision.js');
  const { createBackupJob } = await import('../../lib/backup/jobs.js');
  const { getDeviceByDevId } = await import('../../db/queries/devices.js');
  const { value } = await import('../../db/sql.js');
  const { sql } = await import('drizzle-orm');

  const ts = await startTestServer();
  if (workload === 'backup') await describeVirtualModels(ts.ctx.db);
  let busyFrom = performance.eventLoopUtilization();
  let cpuFrom = process.cpuUsage();
  const client = startClient(async (ids) => {
    await provisionFleet(ts.ctx.db, ids);
    if (workload === 'backup') {
      // No wake: the handset's own session (which the fleet starts now) takes the job.
      for (const h of ids)
        await createBackupJob(ts.ctx.db, (await getDeviceByDevId(ts.ctx.db, h.devId))!, {
          trigger: 'on-demand',
          actor: 'bench',
          wake: false,
        });
    }
    // The sessions start now: measure the server's event loop from here.
    busyFrom = performance.eventLoopUtilization();
    cpuFrom = process.cpuUsage();
    client.send({ cmd: 'registered' });
  });
  const answers: RecordedAnswer[] = [];
  const fleetRuns: FleetRun[] = [];
  const replays: ReplayRun[] = [];
  let completed = 0;
  try {
    await client.next('ready');
    const fleet = async (n: number, seed: number): Promise<FleetRun> => {
      const done = client.next('fleet-done');
      client.send({ cmd: 'fleet', server: ts.dmUrl, devices: n, seed, concurrency, encoding: 'mixed' });
      const r = await done;
      const busyMs = performance.eventLoopUtilization(busyFrom).active;
      const cpuMs = cpuMsSince(cpuFrom);
      if (r.summary.failed > 0 || r.summary.sessions !== n) {
        throw new Error(
          `DM bench: ${r.summary.failed} of ${r.summary.sessions} sessions failed (${JSON.stringify(r.summary.errorsByKind)})`,
        );
      }
      if (workload === 'backup') {
        // A run counts only if every handset's backup completed: a cheaper endpoint that
        // skipped work would otherwise look faster.
        const done = Number(await value(ts.ctx.db, sql`select count(*) from snapshots where status = 'complete'`));
        if (done !== completed + n) throw new Error(`DM bench: ${done - completed} of ${n} backups completed`);
        completed = done;
      }
      answers.push(...r.answers);
      const answerBytes = r.answers.reduce((a, x) => a + x.body.length, 0);
      return {
        summary: r.summary,
        windowMs: r.windowMs,
        requests: r.requests,
        requestBytes: r.requestBytes,
        answerBytes,
        busyMs,
        cpuMs,
      };
    };
    await fleet(warmupDevices, 1000);
    for (let i = 0; i < runs; i++) fleetRuns.push(await fleet(devices, i + 1));
  } catch (e) {
    await client.stop().catch(() => undefined);
    await ts.close();
    throw e;
  }
  await ts.close();

  const bare = await startBareServer(answers);
  try {
    const replay = async (): Promise<ReplayRun> => {
      const done = client.next('replayed');
      const from = performance.eventLoopUtilization();
      const cpuFrom = process.cpuUsage();
      client.send({ cmd: 'replay', url: bare.url, concurrency });
      const r = await done;
      const busyMs = performance.eventLoopUtilization(from).active;
      const cpuMs = cpuMsSince(cpuFrom);
      if (r.mismatches > 0) throw new Error(`DM bench: ${r.mismatches} replayed answers differ from the recorded ones`);
      return { ms: r.ms, requests: r.requests, busyMs, cpuMs };
    };
    await replay(); // warm-up
    for (let i = 0; i < runs; i++) replays.push(await replay());
  } finally {
    await bare.close();
    await client.stop().catch(() => undefined);
  }

  // Rates: messages (requests + answers) per second.
  const oursRates = fleetRuns.map((r) => r.summary.messages / (r.windowMs / 1000));
  const bareRates = replays.map((r) => (2 * r.requests) / (r.ms / 1000));
  const ours = median(oursRates);
  const bareRate = median(bareRates);
  const oursBusy = median(fleetRuns.map((r) => r.busyMs / r.windowMs));
  const bareBusy = median(replays.map((r) => r.busyMs / r.ms));
  const oursMsPerMsg = median(fleetRuns.map((r) => r.busyMs / r.summary.messages));
  const bareMsPerMsg = median(replays.map((r) => r.busyMs / (2 * r.requests)));
  const oursCpuPerMsg = median(fleetRuns.map((r) => r.cpuMs / r.summary.messages));
  const bareCpuPerMsg = median(replays.map((r) => r.cpuMs / (2 * r.requests)));
  const run0 = fleetRuns[0]!;
  const perRun = run0.summary.messages;
  const avgReq = Math.round(
    fleetRuns.reduce((a, r) => a + r.requestBytes, 0) / fleetRuns.reduce((a, r) => a + r.requests, 0),
  );
  const avgAns = Math.round(
    fleetRuns.reduce((a, r) => a + r.answerBytes, 0) / fleetRuns.reduce((a, r) => a + r.requests, 0),
  );
  const list = (xs: number[]) => xs.map((x) => Math.round(x)).join(' / ');

  return [
    {
      name: 'dm: workload per run',
      value: perRun,
      unit: 'msgs',
      baseline: `${workload} sessions, ${devices} handsets, ${round(run0.requests / devices)} round trips per session, XML/WBXML half each, MD5, concurrency ${concurrency}; requests ${avgReq} B, answers ${avgAns} B on average; ${runs} runs after a ${warmupDevices}-handset warm-up`,
    },
    {
      name: 'dm: ours, /dm with full sessions',
      value: Math.round(ours),
      unit: 'msg/s',
      baseline: `median of runs ${list(oursRates)}; bare node:http ${Math.round(bareRate)} msg/s`,
    },
    {
      name: 'dm: bare node:http, same bytes replayed',
      value: Math.round(bareRate),
      unit: 'msg/s',
      baseline: `median of runs ${list(bareRates)}; ${replays[0]?.requests ?? 0} requests per replay`,
    },
    { name: 'dm: ours / bare', value: round(ours / bareRate, 3), unit: 'x', baseline: 'goal 0.15 or better' },
    {
      name: 'dm: server event loop busy, ours',
      value: Math.round(oursBusy * 100),
      unit: '%',
      baseline: `bare ${Math.round(bareBusy * 100)} %; below 100 % the handsets, not the server, set the pace`,
    },
    {
      name: 'dm: server busy time per message, ours',
      value: round(oursMsPerMsg, 3),
      unit: 'ms',
      baseline: `bare ${round(bareMsPerMsg, 3)} ms; bare/ours ${round(bareMsPerMsg / oursMsPerMsg, 3)}`,
    },
    {
      name: 'dm: server CPU time per message, ours',
      value: round(oursCpuPerMsg, 3),
      unit: 'ms',
      baseline: `goal 1.5 ms; bare ${round(bareCpuPerMsg, 3)} ms; bare/ours ${round(bareCpuPerMsg / oursCpuPerMsg, 3)}; all of the process's threads, so the blob store's and SQLite's I/O too`,
    },
    {
      name: 'dm: session duration p50, ours',
      value: median(fleetRuns.map((r) => r.summary.p50Ms)),
      unit: 'ms',
      baseline: `p99 ${median(fleetRuns.map((r) => r.summary.p99Ms))} ms`,
    },
  ];
}

function cliOptions(argv: readonly string[]): DmBenchOptions {
  const opts: DmBenchOptions = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1] ?? ''];
    const n = Number(value);
    if (flag === '--workload' && (value === 'backup' || value === 'inventory')) opts.workload = value;
    else if (flag === '--devices' && Number.isInteger(n) && n > 0) opts.devices = n;
    else if (flag === '--runs' && Number.isInteger(n) && n > 0) opts.runs = n;
    else throw new Error(`usage: dm.ts [--workload backup|inventory] [--devices N] [--runs N] (bad: ${flag} ${value})`);
  }
  return opts;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchDm(cliOptions(process.argv.slice(2))).then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
