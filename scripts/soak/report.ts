/**
 * The soak's report: every figure, from the audit of the database and blob store, the
 * counts the run kept, and the server's memory; and the text `npm run soak` prints.
 */
import type { RssSample } from '../server-process';
import type { SoakAudit } from './audit';
import type { Timeline } from './load';
import { MB, percentile, type SoakMetrics } from './metrics';
import type { SoakSettings } from './options';

export interface SoakReport {
  options: SoakSettings;
  wallS: number;
  /** Time spent on new work (the rest was the drain). */
  activeS: number;
  drainS: number;
  jobs: {
    total: number;
    completed: number;
    failed: { total: number; injected: number; notInjected: number };
    lost: number;
    byKind: Record<string, Record<string, number>>;
    /** The first non-injected failures and losses, with reasons. */
    notInjectedFailures: string[];
    lostDetails: string[];
  };
  operations: { started: number; finished: number; byKind: Record<string, number>; restoresNotPlanned: number };
  sessions: {
    total: number;
    ok: number;
    failedInjected: number;
    failedNotInjected: number;
    errorsNotInjected: Record<string, number>;
    errorSamples: string[];
    faultsInjected: number;
    reconnects: number;
    stalls: number;
    pushes: number;
  };
  snapshots: { complete: number; verified: number; verifyFailed: number; prunedByRetention: number };
  /** Per DM round trip at the handsets; `handsetLoopDelayP99` is how late the handsets' own event loop ran, which that includes. */
  latencyMs: { roundTrips: number; p50: number; p99: number; max: number; handsetLoopDelayP99: number };
  /** First messages of sessions the server answered busy (503 with Retry-After), the handsets back after it. */
  turnedAway: number;
  /** Complete snapshots whose backup job did not succeed, and jobs with more than one (the first 20). */
  anomalies: string[];
  anomalyCount: number;
  serverRss: {
    startMB: number;
    maxMB: number;
    endMB: number;
    perMinute: Array<{ minute: number; maxMB: number; endMB: number }>;
    sparkline: string;
  };
  throughput: { jobsCompletedPerMin: number; roundTripsPerS: number };
  serverExit: string | null;
  /** The server's own error log entries (the first 20). */
  serverErrors: string[];
  /** Writes from this process (job and plan rows, as the CLI makes them) retried because the server held the database. */
  busyRetries: number;
  ok: boolean;
}

const SPARK = '▁▂▃▄▅▆▇█';

export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return '';
  const per = Math.max(1, Math.ceil(values.length / width));
  const cols: number[] = [];
  for (let i = 0; i < values.length; i += per) cols.push(Math.max(...values.slice(i, i + per)));
  const lo = Math.min(...cols);
  const hi = Math.max(...cols);
  return cols.map((v) => SPARK[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (SPARK.length - 1))]).join('');
}

function rssReport(samples: readonly RssSample[]): SoakReport['serverRss'] {
  const mb = (b: number) => Math.round((b / MB) * 10) / 10;
  const perMinute: SoakReport['serverRss']['perMinute'] = [];
  for (const s of samples) {
    const minute = Math.floor(s.atMs / 60_000);
    const row = perMinute[minute] ?? (perMinute[minute] = { minute, maxMB: 0, endMB: 0 });
    row.maxMB = Math.max(row.maxMB, mb(s.rss));
    row.endMB = mb(s.rss);
  }
  return {
    startMB: mb(samples[0]?.rss ?? 0),
    maxMB: mb(samples.reduce((a, s) => Math.max(a, s.rss), 0)),
    endMB: mb(samples[samples.length - 1]?.rss ?? 0),
    perMinute: perMinute.filter(Boolean),
    sparkline: sparkline(samples.map((s) => s.rss)),
  };
}

export interface ReportInput {
  options: SoakSettings;
  timeline: Timeline;
  metrics: SoakMetrics;
  /** How late the handsets' event loop ran, p99, ns. */
  loopDelayP99: number;
  audit: SoakAudit;
  rssSamples: readonly RssSample[];
  serverExit: string | null;
  serverErrors: string[];
}

export function buildReport({
  options,
  timeline,
  metrics,
  loopDelayP99,
  audit,
  rssSamples,
  serverExit,
  serverErrors,
}: ReportInput): SoakReport {
  const { started, stopAt, drainEnd } = timeline;
  const lostCount = audit.lostDetails.length;
  const wallS = (Date.now() - started) / 1000;
  const activeS = (Math.min(stopAt, drainEnd) - started) / 1000;
  const sorted = metrics.latencies.sorted();
  const report: SoakReport = {
    options,
    wallS: Math.round(wallS),
    activeS: Math.round(activeS),
    drainS: Math.round((drainEnd - Math.min(stopAt, drainEnd)) / 1000),
    jobs: {
      total: audit.total,
      completed: audit.completed,
      failed: {
        total: audit.failedInjected + audit.failedNotInjected,
        injected: audit.failedInjected,
        notInjected: audit.failedNotInjected,
      },
      lost: lostCount,
      byKind: audit.byKind,
      notInjectedFailures: audit.notInjectedFailures.slice(0, 20),
      lostDetails: audit.lostDetails.slice(0, 20),
    },
    operations: metrics.ops,
    sessions: { ...metrics.sessions, pushes: metrics.pushes },
    snapshots: {
      complete: audit.snapshots.complete,
      verified: audit.snapshots.complete - audit.snapshots.verifyFailed,
      verifyFailed: audit.snapshots.verifyFailed,
      prunedByRetention: audit.snapshots.prunedByRetention,
    },
    latencyMs: {
      roundTrips: sorted.length,
      p50: Math.round(percentile(sorted, 0.5) * 10) / 10,
      p99: Math.round(percentile(sorted, 0.99) * 10) / 10,
      max: Math.round(sorted[sorted.length - 1] ?? 0),
      handsetLoopDelayP99: Math.round(loopDelayP99 / 1e6),
    },
    turnedAway: metrics.turnedAway,
    anomalies: audit.anomalies.slice(0, 20),
    anomalyCount: audit.anomalies.length,
    serverRss: rssReport(rssSamples),
    throughput: {
      jobsCompletedPerMin: Math.round((audit.completed / (wallS / 60)) * 10) / 10,
      roundTripsPerS: Math.round(metrics.roundTrips / ((drainEnd - started) / 1000)),
    },
    serverExit,
    serverErrors: serverErrors.slice(0, 20),
    busyRetries: metrics.busyRetries,
    ok: false,
  };
  // The goal is about work: nothing lost, no job failed but by an injected fault. A session
  // that failed otherwise (an HTTP 500, a timeout) is reported beside it, with the server's
  // errors; its handset came back and its job went on.
  report.ok = !serverExit && lostCount === 0 && audit.failedNotInjected === 0;
  return report;
}

export function formatReport(r: SoakReport): string {
  const j = r.jobs;
  const kinds = Object.entries(j.byKind)
    .map(
      ([k, v]) =>
        `${k} ${Object.entries(v)
          .map(([s, n]) => `${n} ${s}`)
          .join(', ')}`,
    )
    .join('; ');
  const lines = [
    `soak: ${r.options.devices} handsets, ${r.options.minutes} min (+${r.drainS} s drain), fault rate ${r.options.faultRate}, ${r.wallS} s in all`,
    `jobs        ${j.total}: ${j.completed} completed, ${j.failed.total} failed (${j.failed.injected} with an injected fault, ${j.failed.notInjected} without), ${j.lost} lost`,
    `            ${kinds}`,
    `operations  ${r.operations.finished} of ${r.operations.started} finished (${Object.entries(r.operations.byKind)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}); ${r.operations.restoresNotPlanned} restores became backups (no snapshot yet)`,
    `sessions    ${r.sessions.total}: ${r.sessions.ok} ok, ${r.sessions.failedInjected} failed by ${r.sessions.faultsInjected} injected faults, ${r.sessions.failedNotInjected} failed otherwise${Object.keys(r.sessions.errorsNotInjected).length ? ` (${JSON.stringify(r.sessions.errorsNotInjected)})` : ''}; ${r.sessions.pushes} Package #0, ${r.sessions.reconnects} reconnects after a failure, ${r.sessions.stalls} check-ins after ${r.options.stallS} s of waiting`,
    `snapshots   ${r.snapshots.complete} complete, ${r.snapshots.verified} verified, ${r.snapshots.verifyFailed} damaged; ${r.snapshots.prunedByRetention} succeeded backups' snapshots removed by retention`,
    `latency     DM round trip p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms over ${r.latencyMs.roundTrips} round trips (the handsets' event loop ran up to ${r.latencyMs.handsetLoopDelayP99} ms late, p99)`,
    `admission   ${r.turnedAway} new sessions turned away at once (503, Retry-After), not counted in the latency`,
    `throughput  ${r.throughput.jobsCompletedPerMin} jobs completed/min, ${r.throughput.roundTripsPerS} round trips/s`,
    `server RSS  start ${r.serverRss.startMB} MB, max ${r.serverRss.maxMB} MB, end ${r.serverRss.endMB} MB  ${r.serverRss.sparkline}`,
    ...r.serverRss.perMinute.map(
      (m) => `            minute ${String(m.minute + 1).padStart(2)}: max ${m.maxMB} MB, end ${m.endMB} MB`,
    ),
  ];
  for (const e of r.sessions.errorSamples) lines.push(`SESSION     failed without an injected fault: ${e}`);
  if (r.busyRetries)
    lines.push(
      `busy        ${r.busyRetries} job or plan writes from outside the server retried after "database is locked"`,
    );
  if (r.serverExit) lines.push(`SERVER      ${r.serverExit}`);
  for (const e of r.serverErrors) lines.push(`SERVER LOG  ${e}`);
  for (const f of j.notInjectedFailures) lines.push(`FAILED      ${f}`);
  for (const l of j.lostDetails) lines.push(`LOST        ${l}`);
  if (r.anomalyCount) lines.push(`anomalies   ${r.anomalyCount} (the first ${r.anomalies.length} below)`);
  for (const a of r.anomalies) lines.push(`ANOMALY     ${a}`);
  const warn = r.sessions.failedNotInjected
    ? ` (but ${r.sessions.failedNotInjected} session(s) failed without an injected fault; their handsets came back and their jobs went on)`
    : '';
  lines.push(
    r.ok
      ? `result      ok: nothing lost, no job failed without an injected fault${warn}`
      : 'result      NOT OK: lost work, or jobs that failed without an injected fault',
  );
  return lines.join('\n');
}
