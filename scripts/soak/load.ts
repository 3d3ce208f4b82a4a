/**
 * The load: for the run's minutes each handset repeats, after a pause, a backup ordered
 * server-side (a job, then Package #0, as `rewind backup` does), the user's backup button
 * (a device-initiated backup), or now and then a restore of its settings from one of its
 * snapshots (plan, safety backup, consent, writes read back, as `rewind restore` does). A
 * handset whose session failed comes back by itself a moment later, as a phone whose radio
 * returns does. Then the drain: no new work, and every job is given time to reach its end.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dbErrorCode } from '../../db/sql';
import { getDevice } from '../../db/queries/devices';
import type { JobRow } from '../../db/queries/jobs';
import { completeSnapshots } from '../../db/queries/retention';
import { createBackupJob } from '../../lib/backup/jobs';
import type { AppContext } from '../../lib/core/context';
import { executePlan } from '../../lib/restore/engine';
import { createPlan, PlanError } from '../../lib/restore/plan';
import { JobBoard } from './board';
import type { SoakHandset } from './fleet';
import type { OpKind, SoakMetrics } from './metrics';
import type { SoakSettings } from './options';

export { END } from './board';

export interface Timeline {
  started: number;
  /** When new work stopped. */
  stopAt: number;
  /** When the drain ended. */
  drainEnd: number;
}

export class LoadDriver {
  private stopped = false;
  private started = 0;
  private stopAt = 0;
  private hardStop = 0;
  private board!: JobBoard;

  constructor(
    private readonly handsets: ReadonlyMap<string, SoakHandset>,
    private readonly o: SoakSettings,
    private readonly ctx: AppContext,
    private readonly metrics: SoakMetrics,
  ) {}

  /**
   * Runs every handset's life until the run and its drain are over, or the server exits
   * (`serverExited` resolves). A handset still busy 30 s after the drain is reported stuck.
   */
  async run(
    serverExited: Promise<unknown>,
    say: (line: string) => void,
    serverRss: () => number,
    header: string,
  ): Promise<Timeline> {
    const { o, metrics } = this;
    this.started = Date.now();
    this.stopAt = this.started + o.minutes * 60_000;
    this.hardStop = this.stopAt + o.drainS * 1000;
    this.board = new JobBoard(this.ctx.db, this.started);
    this.board.start();
    const stopProgress = metrics.startProgress(o.progressS, this.started, this.stopAt, serverRss, say);
    say(header);
    const alive = new Set<SoakHandset>();
    const lives = [...this.handsets.values()].map((s, i) => {
      alive.add(s);
      return this.life(s, i)
        .catch((e: unknown) => {
          metrics.unfinished.push(`${s.h.devId} stopped: ${(e as Error).stack ?? String(e)}`);
        })
        .finally(() => alive.delete(s));
    });
    const watchdog = serverExited.then(() => {
      this.stopped = true;
    });
    await Promise.race([Promise.all(lives), watchdog]);
    this.stopped = true;
    // Every loop ends by hardStop; one that has not 30 s later is stuck, and is reported as such.
    await Promise.race([
      Promise.all(lives),
      sleep(Math.max(0, this.hardStop + 30_000 - Date.now()), undefined, { ref: false }),
    ]);
    for (const s of alive) metrics.unfinished.push(`${s.h.devId} was still ${s.phase} when the run ended`);
    stopProgress();
    await this.board.stop();
    const drainEnd = Date.now();
    await Promise.race([
      Promise.all([...this.handsets.values()].map((s) => s.h.idle())),
      sleep(15_000, undefined, { ref: false }),
    ]);
    return { started: this.started, stopAt: this.stopAt, drainEnd };
  }

  private async life(s: SoakHandset, i: number): Promise<void> {
    const { o } = this;
    // Spread the first operations over the first tenth of the run (at most 30 s).
    await sleep(Math.floor((Math.min(30_000, (o.minutes * 60_000) / 10) * i) / o.devices));
    while (Date.now() < this.stopAt && !this.stopped) {
      const r = s.rng();
      const kind: OpKind =
        r < o.restoreShare ? 'restore' : r < o.restoreShare + o.buttonShare ? 'button-backup' : 'ordered-backup';
      await this.operation(s, kind);
      s.phase = 'pausing';
      // The pause never outlasts the run.
      await sleep(Math.max(0, Math.min(Math.floor(s.rng() * 2 * o.thinkS * 1000), this.stopAt - Date.now())));
    }
    // The drain: whatever the server still has for this handset gets to finish.
    s.phase = 'draining';
    const quiet = () => s.h.state.pendingAlerts.length === 0 && !s.inSession && !this.board.hasOpen(s.deviceId);
    await this.settle(s, async () => {
      if (!quiet()) return false;
      // A job the last session made may not be on the board yet: quiet on a read taken after this moment too.
      await this.board.fresh();
      return quiet();
    });
  }

  private async operation(s: SoakHandset, kind: OpKind): Promise<void> {
    const { ctx, metrics } = this;
    const db = ctx.db;
    const t0 = Date.now();
    s.lastActivity = t0;
    let ids: string[] = [];
    let ok: boolean;
    if (kind === 'restore') {
      const snaps = await completeSnapshots(db, s.deviceId);
      const snap = snaps[Math.floor(s.rng() * snaps.length)];
      let planned: { job: JobRow; backup: JobRow | null } | undefined;
      if (snap) {
        s.phase = 'planning a restore';
        s.h.damage('settings');
        try {
          const { row } = await this.retryBusy(() =>
            createPlan(ctx, { snapshotId: snap.id, categories: ['settings'] }, 'soak'),
          );
          planned = await this.retryBusy(() => executePlan(ctx, row.id, 'soak'));
        } catch (e) {
          // Retention may have removed the snapshot since it was listed: not the server's fault.
          if (!(e instanceof PlanError)) throw e;
        }
      }
      if (!planned) {
        metrics.ops.restoresNotPlanned++;
        return this.operation(s, 'ordered-backup');
      }
      metrics.operationStarted(kind);
      ids = planned.backup ? [planned.backup.id, planned.job.id] : [planned.job.id];
      ok = await this.settle(s, () => this.board.ended(ids));
    } else if (kind === 'ordered-backup') {
      metrics.operationStarted(kind);
      const { job } = await this.retryBusy(async () =>
        createBackupJob(db, await this.device(s), { trigger: 'on-demand', actor: 'soak', wake: true }),
      );
      ids = [job.id];
      ok = await this.settle(s, () => this.board.ended(ids));
    } else {
      metrics.operationStarted(kind);
      void s.h.pressBackupButton();
      // The request rides in the handset's session; the job is the server's answer to it.
      ok = await this.settle(s, async () => {
        if (s.h.state.pendingAlerts.length > 0 || s.inSession) return false;
        ids = this.board.backupsSince(s.deviceId, t0);
        return ids.length > 0 && this.board.ended(ids);
      });
    }
    if (ok) {
      metrics.ops.finished++;
      metrics.jobsEnded += ids.length;
    } else if (ids.length === 0) {
      // A job left open is counted from the database in the audit; work that never got one is lost here.
      metrics.unfinished.push(
        `${kind} of ${s.h.devId} started at +${Math.round((t0 - this.started) / 1000)} s never got a job`,
      );
    }
  }

  /**
   * Waits until `done()`, keeping the handset connected the way a phone is: a failed
   * session is followed by one of its own a moment later; a handset left waiting for
   * work it was promised (a Package #0 that never came) checks in after stallS.
   */
  private async settle(s: SoakHandset, done: () => boolean | Promise<boolean>): Promise<boolean> {
    const { sessions } = this.metrics;
    s.phase = 'waiting for its jobs';
    let reconnectAt = 0;
    for (;;) {
      if (await done()) return true;
      if (Date.now() >= this.hardStop || this.stopped) return false;
      const now = Date.now();
      if (!s.inSession && s.lastFailed) {
        // Like a phone: back a moment later, and longer after each failure in a row.
        if (reconnectAt === 0)
          reconnectAt = now + Math.min(60_000, 1000 * 2 ** Math.min(6, s.failuresInRow - 1)) * (0.5 + s.rng());
        else if (now >= reconnectAt) {
          reconnectAt = 0;
          s.lastFailed = false;
          sessions.reconnects++;
          void s.h.connect({ initiator: 'client' });
        }
      } else if (!s.inSession && now - s.lastActivity > this.o.stallS * 1000) {
        sessions.stalls++;
        s.lastActivity = now;
        void s.h.connect({ initiator: 'client' });
      }
      await sleep(400 + Math.floor(s.rng() * 400));
    }
  }

  /**
   * A write made outside the server, as the CLI makes it, while the server writes too: on
   * SQLite it can be refused with SQLITE_BUSY when the file stays locked past busy_timeout.
   * Such a write is tried again, and counted.
   */
  private async retryBusy<T>(fn: () => T | Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (attempt >= 10 || !(dbErrorCode(e) ?? '').startsWith('SQLITE_BUSY')) throw e;
        this.metrics.busyRetries++;
        await sleep(50 * attempt);
      }
    }
  }

  private async device(s: SoakHandset) {
    const row = await getDevice(this.ctx.db, s.deviceId);
    if (!row) throw new Error(`device ${s.h.devId} is gone`);
    return row;
  }
}
