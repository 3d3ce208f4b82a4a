/**
 * Each server process's heartbeat, and what happens to the work of one that stopped.
 *
 * A process holds the lease `process:<id>` (db/queries/leases.ts) and renews it three times
 * per PROCESS_HEARTBEAT_TIMEOUT; the DM sessions it handles carry its id. Every process also
 * looks, as often, for active sessions whose process let its lease lapse (killed, frozen, cut
 * off): each is ended with the reason "the server handling it stopped", and its jobs are
 * interrupted as when a handset ends a session under them (a backup's snapshot is closed as
 * incomplete with that reason and the job queued again with a wake), so another process
 * finishes them; the session's end and its jobs' commit as one. A session is ended only once
 * it has been quiet for the timeout too: after a SIGTERM the lease is given back at once, and
 * a handset whose next message reaches another process carries its session there instead.
 */
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { acquireLease, dropExpiredLeases, releaseLease } from '@/db/queries/leases';
import { endStoppedSession, sessionsOfStoppedProcesses } from '@/db/queries/sessions';
import type { AppContext } from '../core/context';
import { log } from '../core/log';
import { endOfSession } from './dm-work';

export const STOPPED = 'the server handling it stopped';

export interface Heartbeat {
  processId: string;
  /** One pass now: sessions of stopped processes ended, their jobs interrupted; how many sessions. */
  reap(now?: number): Promise<number>;
  /** Stops beating and gives the lease back (a clean shutdown). */
  stop(): Promise<void>;
}

const leaseName = (processId: string) => `process:${processId}`;

/**
 * Takes this process's lease (before it serves anything, so no session names a process
 * without one), sets `ctx.processId`, and renews and reaps every third of `timeoutMs`.
 */
export async function startHeartbeat(ctx: AppContext, timeoutMs: number): Promise<Heartbeat> {
  const processId = `${os.hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  await acquireLease(ctx.db, leaseName(processId), processId, timeoutMs);
  ctx.processId = processId;

  const reap = async (now = Date.now()): Promise<number> => {
    let ended = 0;
    for (const s of await sessionsOfStoppedProcesses(ctx.db, timeoutMs, now)) {
      // The session's end and its jobs' interruption commit together: no reader (a console, a
      // handset's next session, another reaper) sees the session ended with a job still
      // running in it, and a process killed in between leaves neither.
      const done = await ctx.db.transaction(async (tx) => {
        // Another process's reaper, or the handset's next message, may have got there first.
        if (!(await endStoppedSession(tx, s.id, s.processId, STOPPED))) return false;
        await endOfSession({ ...ctx, db: tx }, s.id, now, STOPPED);
        return true;
      });
      if (done) ended++;
    }
    if (ended) log.warn({ sessions: ended }, 'sessions of a stopped server process ended; their jobs queued again');
    // A stopped process's heartbeat row, once nothing it held can still be waiting for it.
    await dropExpiredLeases(ctx.db, 'process:', now - 2 * timeoutMs);
    return ended;
  };

  let running: Promise<void> = Promise.resolve();
  const beat = async () => {
    try {
      await acquireLease(ctx.db, leaseName(processId), processId, timeoutMs);
      await reap();
    } catch (err) {
      log.error({ err }, 'heartbeat failed');
    }
  };
  const timer = setInterval(
    () => {
      running = running.then(beat);
    },
    Math.max(500, Math.floor(timeoutMs / 3)),
  );
  timer.unref();
  return {
    processId,
    reap,
    async stop() {
      clearInterval(timer);
      await running;
      await releaseLease(ctx.db, leaseName(processId), processId);
    },
  };
}
