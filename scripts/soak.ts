/**
 * `npm run soak -- --devices 1000 --minutes 10 [--fault-rate 0.1] [--json out.json]`: a fleet
 * of virtual handsets backing up and restoring concurrently against one Rewind server, run
 * as a child process (scripts/server-process.ts) so its memory is measured alone.
 *
 * The handsets live in this process. They are provisioned the way `rewind device add` and
 * `rewind sim` do it, in the server's database; Package #0 reaches them through the
 * operator-gateway path (PUSH_WEBHOOK_URL points at a small gateway here). For `--minutes`
 * each handset repeats, after a pause: a backup ordered server-side (a job, then Package #0,
 * as `rewind backup` does), the user's backup button (a device-initiated backup), or now and
 * then a restore of its settings from one of its snapshots (plan, safety backup, consent,
 * writes read back, as `rewind restore` does). A share of sessions (`--fault-rate`) loses its
 * connection at a random message; a handset whose session failed comes back by itself a
 * moment later, as a phone whose radio returns does. Then the run drains: no new work, and
 * every job is given time to reach its end.
 *
 * Every figure comes from the database and blob store once the server has stopped
 * (completed, failed with or without an injected fault, lost: soak/audit.ts).
 * Sessions that failed without an injected fault (an HTTP 500, a timeout) are reported apart,
 * with the server's own error log; their handsets come back and the jobs go on. The exit
 * code is 1 when anything was lost, a job failed without an injected fault, or the server died.
 *
 * Latency is per DM round trip, measured at the handsets' transport (request written to
 * reply read). Server RSS comes from /proc/<pid>/status every second.
 *
 * The parts, each in soak/: options (and the command line), stack (the server process,
 * the push gateway, this process's view of the database), fleet and faults (the handsets,
 * provisioned, and the faults injected into their sessions), load (the work and the drain),
 * metrics (what is counted on the way), audit (the accounting at the end) and report.
 */
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { SoakHandset } from './soak/fleet';
import { SoakMetrics } from './soak/metrics';
import { parseCommandLine, soakSettings, USAGE, type SoakOptions } from './soak/options';
import { buildReport, formatReport, type SoakReport } from './soak/report';
import { startStack } from './soak/stack';

export type { SoakOptions } from './soak/options';
export { formatReport, sparkline, type SoakReport } from './soak/report';

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const o = soakSettings(opts);
  const say = opts.log ?? ((l: string) => console.log(l));
  const metrics = new SoakMetrics();
  const handsets = new Map<string, SoakHandset>();
  const stack = await startStack((devId) => {
    const s = handsets.get(devId);
    if (!s) return undefined;
    return (pkg) => {
      metrics.pushes++;
      s.lastActivity = Date.now();
      void s.h.onNotification(pkg).catch(() => undefined);
    };
  });
  const { ctx, server } = stack;
  try {
    // The parts that use lib and db are loaded once the environment names the run's data directory.
    const { setUpFleet } = await import('./soak/fleet');
    const { LoadDriver } = await import('./soak/load');
    const { auditRun } = await import('./soak/audit');
    await setUpFleet(handsets, ctx.db, o, stack.stateDir, server.dmUrl, metrics);
    // The handsets' own process: a busy event loop here shows up as latency there.
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const serverExited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    const timeline = await new LoadDriver(handsets, o, ctx, metrics).run(
      serverExited,
      say,
      () => stack.rss.latest(),
      `soak: ${o.devices} handsets for ${o.minutes} min against ${server.dmUrl} (server pid ${server.pid}), fault rate ${o.faultRate}`,
    );
    await stack.stopServer();
    const audit = await auditRun(ctx, handsets.values(), metrics.unfinished);
    return buildReport({
      options: o,
      timeline,
      metrics,
      loopDelayP99: loopDelay.percentile(99),
      audit,
      rssSamples: stack.rss.samples,
      serverExit: stack.serverExit(),
      serverErrors: server.errors(),
    });
  } finally {
    await stack.close(opts.keep, say);
  }
}

async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCommandLine();
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  const report = await runSoak(cli.opts);
  console.log(`\n${formatReport(report)}`);
  if (cli.json) fs.writeFileSync(cli.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Ctrl-C: exit through 'exit', which stops the server process too.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
