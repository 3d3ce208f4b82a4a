/**
 * Overload: more sessions at once than the server can serve within DM_ADMIT_WAIT_MS. New
 * sessions are turned away at once (HTTP 503, Retry-After, SyncHdr status 503), never a
 * message of a session already running; the handsets come back when told, and every job
 * queued before the flood completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDeviceByDevId } from '@/db/queries/devices';
import { getJob } from '@/db/queries/jobs';
import { createBackupJob } from '../backup/jobs';
import { decodeMessage } from '../omadm/codec/index';
import { httpTransport, type Transport } from '../../sim/transport';
import { startTestFleet, type TestFleet } from '../../test/support/test-fleet';
import { InFlight } from './in-flight';
import { Admission, busyRetryAfterSeconds, opensSession } from './dm-admission';

const FLEET = 24;

let fleet: TestFleet;

beforeAll(async () => {
  // One message at a time and almost no patience: any queue at all turns new sessions away.
  fleet = await startTestFleet({
    devices: FLEET,
    seed: 31,
    mediaScale: 0.005,
    env: { DM_CONCURRENCY: 1, DM_ADMIT_WAIT_MS: 1 },
  });
}, 120_000);

afterAll(async () => {
  await fleet?.close();
});

const encodingOf = (type: string | undefined) => (type?.includes('wbxml') ? 'wbxml' : 'xml');

interface Exchange {
  devId: string;
  first: boolean;
  status: number;
  ms: number;
  retryAfter?: string;
  syncHdrStatus?: string;
}

describe('DM endpoint under overload', () => {
  it('turns new sessions away at once with 503 and Retry-After, finishes those running, and loses no job', async () => {
    const { ctx, handsets } = fleet;
    const jobs: string[] = [];
    for (const h of handsets) {
      const device = (await getDeviceByDevId(ctx.db, h.devId))!;
      jobs.push((await createBackupJob(ctx.db, device, { trigger: 'on-demand', actor: 'test' })).job.id);
    }
    const seen: Exchange[] = [];
    const recording =
      (devId: string): Transport =>
      async (req) => {
        const first = opensSession(decodeMessage(req.body!, encodingOf(req.headers['content-type'])));
        const t0 = performance.now();
        const reply = await httpTransport(req);
        const ex: Exchange = { devId, first, status: reply.status, ms: performance.now() - t0 };
        if (reply.status === 503) {
          ex.retryAfter = reply.headers['retry-after'];
          const answer = decodeMessage(reply.body, encodingOf(reply.headers['content-type']));
          const hdr = answer.body.commands.find((c) => c.kind === 'Status' && c.cmd === 'SyncHdr');
          ex.syncHdrStatus = hdr?.kind === 'Status' ? hdr.data : undefined;
        }
        seen.push(ex);
        return reply;
      };
    const summaries = await Promise.all(
      handsets.map((h) => h.connect({ initiator: 'client', transport: recording(h.devId) })),
    );

    const refused = seen.filter((e) => e.status === 503);
    expect(refused.length).toBeGreaterThan(0);
    for (const e of refused) {
      // Only a session's first message, answered as busy in SyncML and HTTP alike.
      expect(e.first).toBe(true);
      expect(e.syncHdrStatus).toBe('503');
      expect(Number(e.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // A message of a running session is never refused, and nothing else failed.
    expect(seen.filter((e) => !e.first && e.status !== 200)).toEqual([]);
    expect(seen.filter((e) => e.status !== 200 && e.status !== 503)).toEqual([]);
    // Every handset came back after its Retry-After and finished its session and its backup.
    for (const s of summaries) expect(s.error, s.devId).toBeUndefined();
    for (const id of jobs) expect((await getJob(ctx.db, id))?.status, id).toBe('succeeded');
  }, 300_000);
});

describe('admission', () => {
  it('expects a wait only when every slot is taken, from the time a task holds one', async () => {
    let now = 0;
    const slots = new InFlight(2, () => now);
    expect(slots.expectedWaitMs()).toBe(0);
    const gates: Array<() => void> = [];
    const task = () =>
      slots.run(
        () =>
          new Promise<void>((r) => {
            gates.push(r);
          }),
      );
    const running = [task(), task()];
    // Both slots taken, but no task has ended yet: nothing is known of how long one takes.
    expect(slots.expectedWaitMs()).toBe(0);
    const waiting = [task(), task(), task()];
    now = 100;
    gates.shift()!();
    await running[0];
    // One ended after 100 ms; three tasks ahead of a new one (two waiting, one just started), two slots.
    expect(slots.queued).toBe(2);
    expect(slots.expectedWaitMs()).toBe(((2 + 1) * 100) / 2);
    while (gates.length) {
      gates.shift()!();
      await Promise.resolve();
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all([...running, ...waiting]);
    expect(slots.expectedWaitMs()).toBe(0);
  });

  it('counts open sessions: at most one per slot until a message is timed, then as many as one round fits the patience', async () => {
    let now = 0;
    const slots = new InFlight(2, () => now);
    const admission = new Admission(slots, 100, 60_000, () => now);
    admission.answered('a', '1', true, true);
    expect(admission.busy()).toBeUndefined();
    // A session this process did not open (its first message went to another) is not counted here.
    admission.answered('x', '1', true, false);
    expect(admission.openSessions()).toBe(1);
    admission.answered('b', '1', true, true);
    // Nothing timed yet, and as many sessions open as slots.
    expect(admission.busy()).toBe(100);
    // A message that took 40 ms alone: two sessions cost 80 ms a round, three 120 ms.
    await slots.run(async () => {
      now += 40;
    });
    expect(slots.msPerTask).toBe(40);
    expect(admission.busy()).toBeUndefined();
    admission.answered('c', '1', true, true);
    expect(admission.busy()).toBe(120);
    // A session's last answer, or one that failed to authenticate, closes it.
    admission.answered('c', '1', false, false);
    expect(admission.openSessions()).toBe(2);
    // A session quiet for a minute has gone (its handset vanished).
    now += 30_000;
    admission.answered('a', '1', true, false);
    now += 30_001;
    expect(admission.openSessions()).toBe(1);
  });

  it('spreads Retry-After over twice the expected wait, at least a second', () => {
    expect(busyRetryAfterSeconds(0, () => 0)).toBe(1);
    expect(busyRetryAfterSeconds(2500, () => 0)).toBe(3);
    expect(busyRetryAfterSeconds(2500, () => 0.999)).toBe(6);
  });
});
