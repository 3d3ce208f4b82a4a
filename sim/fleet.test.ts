import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { nonceBytes } from '../lib/omadm/auth';
import { buildNotification } from '../lib/omadm/notification';
import { InProcessPush } from '../lib/omadm/push';
import { fleetSeed, formatSummary, openFleet, runFleet, summarize, type FleetHandsetInfo } from './fleet';
import type { SessionSummary } from './handset';
import { StubDmServer } from '../test/support/stub-dm-server';

const stub = new StubDmServer();
let dir: string;
beforeAll(() => stub.start());
afterAll(() => stub.stop());
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rewind-fleet-'));
  stub.reset();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const register = async (ids: FleetHandsetInfo[]) => {
  for (const h of ids) stub.enroll(h, h.nonces);
};

describe('runFleet', () => {
  it('creates handsets deterministically, registers them, runs one session each and summarises', async () => {
    const progress: number[] = [];
    let registered: FleetHandsetInfo[] = [];
    const s = await runFleet({
      server: `${stub.url}/dm`,
      devices: 6,
      stateDir: dir,
      encoding: 'mixed',
      concurrency: 3,
      seed: 9,
      mediaScale: 0.01,
      register: async (ids) => {
        registered = ids;
        await register(ids);
      },
      onProgress: (done) => progress.push(done),
    });
    expect(s).toMatchObject({ handsets: 6, sessions: 6, ok: 6, failed: 0, errorsByKind: {} });
    // Package #1 and the server's Final statuses: one message each way.
    expect(s.messages).toBe(6 * 2);
    expect(s.bytesOut).toBeGreaterThan(0);
    expect(s.p99Ms).toBeGreaterThanOrEqual(s.p50Ms);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(stub.credFailures).toBe(0);
    expect(new Set(registered.map((r) => r.devId)).size).toBe(6);
    expect(registered.map((r) => r.encoding)).toEqual(['xml', 'wbxml', 'xml', 'wbxml', 'xml', 'wbxml']);
    expect(readdirSync(dir)).toHaveLength(6);
    // Same seed, same devIds; a second run loads them (nonces carried on) and still authenticates.
    const again = openFleet({ server: `${stub.url}/dm`, devices: 6, stateDir: dir, seed: 9, mediaScale: 0.01 });
    expect(again.map((h) => h.devId)).toEqual(registered.map((r) => r.devId));
    expect(again[0]!.state.nonces).not.toEqual(registered[0]!.nonces);
    const s2 = await runFleet({
      server: `${stub.url}/dm`,
      devices: 6,
      stateDir: dir,
      seed: 9,
      mediaScale: 0.01,
      encoding: 'mixed',
    });
    expect(s2.ok).toBe(6);
    expect(stub.credFailures).toBe(0);
  });

  it('counts failures by kind when the server is unreachable', async () => {
    const s = await runFleet({ server: 'http://127.0.0.1:1/dm', devices: 3, stateDir: dir, seed: 1, mediaScale: 0.01 });
    expect(s).toMatchObject({ sessions: 3, ok: 0, failed: 3, errorsByKind: { network: 3 } });
    expect(formatSummary(s)).toContain('errors    network 3');
  });

  it('with once=false keeps handsets listening for Package #0 until stopped', async () => {
    const push = new InProcessPush();
    const ac = new AbortController();
    const ids: FleetHandsetInfo[] = [];
    const done = runFleet({
      server: `${stub.url}/dm`,
      devices: 2,
      stateDir: dir,
      seed: 3,
      mediaScale: 0.01,
      once: false,
      everyMs: 3_600_000,
      push,
      signal: ac.signal,
      register: async (list) => {
        ids.push(...list);
        await register(list);
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    const h = ids[1]!;
    const pkg = buildNotification(
      { uiMode: 1, initiator: 'server', sessionId: 0xbeef, serverId: h.serverId },
      { user: h.serverId, password: h.serverPassword },
      nonceBytes(h.nonces.serverNonce),
    );
    await push.push({ devId: h.devId, address: `inproc:${h.devId}` }, pkg);
    for (let i = 0; i < 100 && stub.sessionIds(h.devId).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    const s = await done;
    expect(stub.sessionIds(h.devId)).toEqual(['BEEF']);
    expect(s).toMatchObject({ handsets: 2, sessions: 1, ok: 1 });
    expect(push.has(`inproc:${h.devId}`)).toBe(false);
  });
});

describe('summaries', () => {
  it('computes percentiles over real sessions and formats them', () => {
    const base: SessionSummary = {
      devId: 'd',
      ok: true,
      sessionId: '1',
      initiator: 'client',
      url: '',
      startedAt: '',
      durationMs: 0,
      messagesOut: 2,
      messagesIn: 2,
      bytesOut: 1000,
      bytesIn: 3000,
      commands: 0,
      statusesSent: {},
      statusesReceived: {},
      alertsDelivered: 0,
      uiAlerts: 0,
      end: 'complete',
    };
    const sessions = Array.from({ length: 100 }, (_, i) => ({ ...base, durationMs: i + 1 }));
    sessions.push({ ...base, durationMs: 5000, ok: false, end: 'error', error: { kind: 'timeout', message: '' } });
    sessions.push({ ...base, end: 'skipped', durationMs: 99999 });
    const s = summarize(101, sessions, 12_345);
    expect(s).toMatchObject({
      sessions: 101,
      ok: 100,
      failed: 1,
      p50Ms: 51,
      p99Ms: 100,
      maxMs: 5000,
      messages: 404,
      errorsByKind: { timeout: 1 },
    });
    expect(formatSummary(s)).toBe(
      [
        'handsets  101',
        'sessions  101 (100 ok, 1 failed)',
        'messages  404',
        'traffic   98.6 KiB up, 295.9 KiB down',
        'a session 2.0 round trips, 3.9 KiB both ways (mean)',
        'duration  p50 51 ms, p99 100 ms, max 5000 ms',
        'wall      12.3 s',
        'errors    timeout 1',
      ].join('\n'),
    );
    expect(fleetSeed(1, 0)).not.toBe(fleetSeed(1, 1));
    expect(fleetSeed(1, 0)).toBe(fleetSeed(1, 0));
  });
});
