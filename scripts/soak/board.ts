/**
 * The soak's view of its jobs: every job of the run read in one query a second, for all the
 * handsets at once. Each handset polling its own jobs (two queries every half second, a
 * thousand handsets) made the soak process a bigger load on the database and the two cores
 * than the handsets' own sessions, and its event loop ran seconds late, which showed up as
 * the server's latency.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { jobStatesSince, type JobState } from '../../db/queries/job-board';
import type { Db } from '../../db/client';

/** The job states that are an end. */
export const END = new Set(['succeeded', 'failed', 'rejected', 'cancelled']);

export class JobBoard {
  private jobs = new Map<string, JobState>();
  private byDevice = new Map<string, JobState[]>();
  private stopped = false;
  private generation = 0;
  private waiters: Array<{ after: number; resolve: () => void }> = [];
  private loop?: Promise<void>;

  constructor(
    private readonly db: Db,
    /** The run's start: jobs created before it are not the run's. */
    private readonly since: number,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        await this.refresh();
        await sleep(this.everyMs, undefined, { ref: false });
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    for (const w of this.waiters) w.resolve();
    this.waiters = [];
  }

  private async refresh(): Promise<void> {
    const started = ++this.generation;
    const rows = await jobStatesSince(this.db, this.since);
    const jobs = new Map<string, JobState>();
    const byDevice = new Map<string, JobState[]>();
    for (const r of rows) {
      jobs.set(r.id, r);
      const list = byDevice.get(r.deviceId);
      if (list) list.push(r);
      else byDevice.set(r.deviceId, [r]);
    }
    this.jobs = jobs;
    this.byDevice = byDevice;
    const ready = this.waiters.filter((w) => started > w.after);
    this.waiters = this.waiters.filter((w) => started <= w.after);
    for (const w of ready) w.resolve();
  }

  /** Resolves once a read that began after this call has been taken in. */
  fresh(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ after: this.generation, resolve }));
  }

  /** Every job named has ended (a job not seen yet has not). */
  ended(ids: readonly string[]): boolean {
    return ids.every((id) => END.has(this.jobs.get(id)?.status ?? ''));
  }

  /** The handset has a job queued or running. */
  hasOpen(deviceId: string): boolean {
    return (this.byDevice.get(deviceId) ?? []).some((j) => j.status === 'queued' || j.status === 'running');
  }

  /** The handset's backup jobs touched at or after `t0` (the job a button press got, new or resumed). */
  backupsSince(deviceId: string, t0: number): string[] {
    return (this.byDevice.get(deviceId) ?? []).filter((j) => j.kind === 'backup' && j.updatedAt >= t0).map((j) => j.id);
  }
}
