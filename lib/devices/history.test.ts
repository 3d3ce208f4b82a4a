/**
 * A handset's history as the device page reads it, made by a real virtual handset against the
 * real /dm endpoint: its sessions with what opened them, a wrong password told in words (and
 * bounded however often it comes), Package #0 without an answer, the filter, firmware runs and
 * the firmware search, and retention's pruning of old sessions.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFleet } from '../../sim/fleet';
import type { VirtualHandset } from '../../sim/handset';
import { provisionFleet } from '../../sim/provision';
import { getDeviceByDevId, type DeviceRow } from '@/db/queries/devices';
import { insertJob, updateJob } from '@/db/queries/jobs';
import { ATTEMPTS_KEPT, deviceAttemptsOf, recordDeviceAttempt } from '@/db/queries/device-attempts';
import { noteFirmware } from '@/db/queries/firmware-runs';
import { pruneSessionHistory } from '@/db/queries/session-history';
import { startTestServer, type TestServer } from '../../test/support/test-server';
import { deviceHistory, deviceHistoryData, firmwareHistory, historyFilterSchema, subscriberHistory } from './history';
import { searchFirmwareRuns } from './firmware-search';
import { HISTORY_MIN_MS, historyCutoff } from '../backup/retention';
import type { SnapshotRow } from '@/db/queries/snapshots';

let srv: TestServer;
let stateDir: string;
let handset: VirtualHandset;
let device: DeviceRow;
/** Provisioned, never connected: its firmware runs are the test's own. */
let other: DeviceRow;

beforeAll(async () => {
  srv = await startTestServer();
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-history-'));
  const fleet = openFleet({
    server: srv.dmUrl,
    devices: 2,
    stateDir,
    encoding: 'xml',
    auth: 'md5',
    mediaScale: 0.01,
    seed: 47,
  });
  handset = fleet[0]!;
  await provisionFleet(
    srv.ctx.db,
    fleet.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
  );
  device = (await getDeviceByDevId(srv.ctx.db, handset.devId))!;
  other = (await getDeviceByDevId(srv.ctx.db, fleet[1]!.devId))!;
}, 60_000);

afterAll(async () => {
  await srv?.close();
  if (stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("a handset's history", () => {
  it('lists a session the handset opened by itself, with its messages and bytes, and the firmware it reported', async () => {
    expect((await handset.connect()).ok).toBe(true);
    const [s] = await deviceHistory(srv.ctx.db, device.id);
    expect(s).toMatchObject({ kind: 'dm', outcome: 'ok', startedBy: 'the handset by itself', reason: null });
    expect(s!.messages).toBeGreaterThanOrEqual(2);
    expect(s!.bytes).toBeGreaterThan(500);
    const fw = await firmwareHistory(srv.ctx.db, device.id);
    expect(fw).toHaveLength(1);
    expect(fw[0]).toMatchObject({ firmware: handset.identity.firmware, current: true });
  });

  it('says in words when the last attempt failed for wrong credentials, counting repeats on one row', async () => {
    handset.setClientPassword('not the password of its account');
    expect((await handset.connect()).ok).toBe(false);
    let h = await deviceHistoryData(srv.ctx.db, device.id, {});
    expect(h.last).toMatchObject({ kind: 'attempt', outcome: 'failed' });
    expect(h.last!.reason).toMatch(/^wrong credentials/);
    expect(Date.now() - h.last!.at).toBeLessThan(60_000);
    // The failed session itself is not listed a second time as a DM session.
    expect(h.sessions.filter((e) => e.kind === 'dm')).toHaveLength(1);

    expect((await handset.connect()).ok).toBe(false);
    h = await deviceHistoryData(srv.ctx.db, device.id, {});
    // One row per reason however many sessions failed; by now the rate limit refuses its messages too.
    const attempts = h.sessions.filter((e) => e.kind === 'attempt');
    expect(attempts.map((e) => e.reason)).toEqual([
      expect.stringMatching(/^refused by a rate limit/),
      expect.stringMatching(/^wrong credentials: .* \(2 times\)$/),
    ]);
    expect(h.last).toMatchObject({ kind: 'attempt', outcome: 'refused' });
    // The subscriber reads the same in their own words, without protocol names.
    const told = await subscriberHistory(srv.ctx.db, device.id);
    expect(told.map((e) => e.text)).toEqual(
      expect.arrayContaining([
        "We paused your phone's sign-ins for a while after too many tries with the wrong password.",
        expect.stringMatching(/^Your phone could not sign in: the password stored on it does not match/),
        'Your phone checked in.',
      ]),
    );
    expect(told.every((e) => !/DM|Package #0|SyncML/.test(e.text))).toBe(true);
  });

  it('keeps a bounded number of attempts however many come', async () => {
    const t0 = Date.now() - 7 * 86_400_000;
    // Each an hour apart, so none is counted on another's row.
    for (let i = 0; i < ATTEMPTS_KEPT + 20; i++)
      await recordDeviceAttempt(
        srv.ctx.db,
        { deviceId: device.id, channel: 'dm', reason: 'rate-limited' },
        t0 + i * 3_600_000,
      );
    const rows = await deviceAttemptsOf(srv.ctx.db, device.id, 1000);
    expect(rows).toHaveLength(ATTEMPTS_KEPT);
    // The newest stay: the wrong-credentials row of just now is among them.
    expect(rows.some((r) => r.reason === 'wrong-credentials')).toBe(true);
  });

  it('tells a Package #0 nobody answered, and filters by kind and outcome', async () => {
    const job = await insertJob(srv.ctx.db, {
      deviceId: device.id,
      kind: 'backup',
      payload: { trigger: 'on-demand', actor: 'agent@rewind.test', categories: ['settings'] },
    });
    await updateJob(srv.ctx.db, job.id, {
      status: 'failed',
      wakeAttempts: JSON.stringify([{ at: Date.now() - 2 * 3_600_000, delivered: true }]),
    });
    const wakes = await deviceHistory(srv.ctx.db, device.id, historyFilterSchema.parse({ kind: 'wake' }));
    expect(wakes).toHaveLength(1);
    expect(wakes[0]).toMatchObject({ outcome: 'no-answer', jobId: job.id });
    expect(wakes[0]!.reason).toMatch(/^no answer to the wake/);
    expect(wakes[0]!.startedBy).toMatch(/agent@rewind\.test/);

    const ok = await deviceHistory(srv.ctx.db, device.id, historyFilterSchema.parse({ outcome: 'ok' }));
    expect(ok.length).toBeGreaterThan(0);
    expect(ok.every((e) => e.outcome === 'ok')).toBe(true);
    // Unknown filter values are ignored rather than refused.
    expect(historyFilterSchema.parse({ kind: 'nonsense', outcome: 'ok' })).toEqual({ kind: undefined, outcome: 'ok' });
  });

  it('finds the handsets that ran a firmware between two dates, with their last good backup', async () => {
    const day = (iso: string) => Date.parse(`${iso}T12:00:00Z`);
    await noteFirmware(srv.ctx.db, other.id, 'FW-RECALL-1', day('2026-01-10'));
    await noteFirmware(srv.ctx.db, other.id, 'FW-RECALL-1', day('2026-02-10'));
    await noteFirmware(srv.ctx.db, other.id, 'FW-FIXED-2', day('2026-02-11'));
    const inside = await searchFirmwareRuns(srv.ctx.db, {
      firmware: 'FW-RECALL-1',
      from: '2026-02-01',
      to: '2026-02-05',
    });
    expect(inside.hits).toHaveLength(1);
    expect(inside.hits[0]).toMatchObject({
      deviceId: other.id,
      from: day('2026-01-10'),
      to: day('2026-02-10'),
      lastGoodBackup: null,
    });
    // The handset that connected runs the firmware it was made with: found with today's dates.
    const today = new Date().toISOString().slice(0, 10);
    const current = await searchFirmwareRuns(srv.ctx.db, {
      firmware: handset.identity.firmware,
      from: today,
      to: today,
    });
    expect(current.hits.map((h) => h.deviceId)).toEqual([device.id]);
    const after = await searchFirmwareRuns(srv.ctx.db, {
      firmware: 'FW-RECALL-1',
      from: '2026-02-11',
      to: '2026-03-01',
    });
    expect(after.hits).toHaveLength(0);
    expect((await firmwareHistory(srv.ctx.db, other.id))[0]).toMatchObject({ firmware: 'FW-FIXED-2', current: true });
  });

  it('prunes sessions and attempts older than the retention window, never an active session', async () => {
    const before = await deviceHistory(srv.ctx.db, device.id);
    expect(before.some((e) => e.kind === 'dm')).toBe(true);
    await pruneSessionHistory(srv.ctx.db, device.id, Date.now() + 1000);
    const after = await deviceHistory(srv.ctx.db, device.id);
    expect(after.filter((e) => e.kind === 'dm' || e.kind === 'attempt')).toHaveLength(0);
  });

  it('keeps the history back to the oldest backup retention keeps, and never less than a month', () => {
    const now = Date.parse('2026-06-30T00:00:00Z');
    const snap = (id: string, daysAgo: number) =>
      ({
        id,
        status: 'complete',
        startedAt: now - daysAgo * 86_400_000,
        completedAt: now - daysAgo * 86_400_000,
      }) as SnapshotRow;
    const snaps = [snap('a', 1), snap('b', 90)];
    const keepBoth = {
      keep: [
        { id: 'a', reasons: [] },
        { id: 'b', reasons: [] },
      ],
      remove: [],
    };
    expect(historyCutoff(keepBoth, snaps, now)).toBe(now - 90 * 86_400_000);
    const keepNewest = { keep: [{ id: 'a', reasons: [] }], remove: [{ id: 'b', reason: 'x' }] };
    expect(historyCutoff(keepNewest, snaps, now)).toBe(now - HISTORY_MIN_MS);
  });
});
