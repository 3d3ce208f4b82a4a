/**
 * The soak at CI size: 20 handsets for 20 seconds against a real server process, a fifth of
 * their sessions cut at a random message. Nothing may be lost and no job may fail but by an
 * injected fault; the report carries every figure `npm run soak` prints.
 */
import { expect, it } from 'vitest';
import { formatReport, runSoak } from './soak';

it('20 handsets backing up and restoring under injected faults lose nothing', async () => {
  const lines: string[] = [];
  const r = await runSoak({
    devices: 20,
    minutes: 1 / 3,
    faultRate: 0.2,
    seed: 7,
    thinkS: 2,
    drainS: 25,
    progressS: 5,
    log: (l) => lines.push(l),
  });
  const text = formatReport(r);
  expect(r.serverExit, text).toBeNull();
  expect(r.jobs.lost, text).toBe(0);
  expect(r.jobs.failed.notInjected, text).toBe(0);
  expect(r.ok, text).toBe(true);

  // Work of every kind was done, checked against the database and the blob store.
  expect(r.jobs.completed).toBeGreaterThan(20);
  expect(r.jobs.byKind.backup?.succeeded ?? 0).toBeGreaterThan(10);
  expect(r.operations.byKind['button-backup'] ?? 0).toBeGreaterThan(0);
  expect(r.operations.byKind['ordered-backup'] ?? 0).toBeGreaterThan(0);
  expect(r.snapshots.complete).toBeGreaterThan(0);
  expect(r.snapshots.verifyFailed).toBe(0);
  expect(r.sessions.pushes).toBeGreaterThan(0);
  // Faults were injected and the handsets came back from them.
  expect(r.sessions.faultsInjected).toBeGreaterThan(0);
  expect(r.sessions.failedInjected).toBeGreaterThan(0);
  expect(r.sessions.reconnects).toBeGreaterThan(0);

  // The figures.
  expect(r.latencyMs.roundTrips).toBeGreaterThan(100);
  expect(r.latencyMs.p50).toBeGreaterThan(0);
  expect(r.latencyMs.p99).toBeGreaterThanOrEqual(r.latencyMs.p50);
  expect(r.serverRss.startMB).toBeGreaterThan(10);
  expect(r.serverRss.maxMB).toBeGreaterThanOrEqual(r.serverRss.startMB);
  expect(r.serverRss.perMinute.length).toBeGreaterThan(0);
  expect(r.serverRss.sparkline).toMatch(/^[▁▂▃▄▅▆▇█]+$/);
  expect(r.throughput.jobsCompletedPerMin).toBeGreaterThan(0);
  expect(r.throughput.roundTripsPerS).toBeGreaterThan(0);
  expect(lines.some((l) => /ops \d+\/\d+ .* p99 \d+ ms .* server RSS \d+ MB/.test(l))).toBe(true);
  expect(text).toMatch(/jobs {8}\d+: \d+ completed, \d+ failed \(\d+ with an injected fault, 0 without\), 0 lost/);
}, 60_000);
