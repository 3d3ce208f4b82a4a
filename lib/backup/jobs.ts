/**
 * Creating backup jobs, whatever asked for them: an agent or the API (on demand), the
 * scheduler (a policy's interval), a restore or firmware update (a safety backup first),
 * the handset itself (a Generic Alert), or the server ordering a backup on the handset's
 * own storage (local); and what runs each of these kinds in a DM session (their handlers,
 * gathered in lib/jobs/registry.ts).
 */
import { sql } from 'drizzle-orm';
import { isPg, type Db } from '@/db/client';
import { exec } from '@/db/sql';
import type { DeviceRow } from '@/db/queries/devices';
import { insertAudit } from '@/db/queries/audit';
import { insertJob, jobsForDevice, updateJob, type JobRow, type NewJob } from '@/db/queries/jobs';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import {
  BACKUP_JOB_TRIGGERS,
  isSafetyBackup,
  type BackupPayload,
  type LocalBackupPayload,
  type LocalRestorePayload,
} from '../jobs/kinds';
import type { JobHandler } from '../jobs/handler';
import { storageFull } from '../jobs/storage';
import { messagePolicy } from '../jobs/message-scope';
import { networkAllows, parseNetwork, policyCategories, policyFor } from './policy';
import { earlyDigests, failBackup, interruptBackup, onBackupEvents, startBackup, startWithDigests } from './engine';
import { onLocalEvents, startLocalJob } from './local';

/** Why a snapshot was taken: a backup job's trigger, or a local backup the handset reported. */
export const BACKUP_TRIGGERS = [...BACKUP_JOB_TRIGGERS, 'local'] as const;
export type BackupTrigger = (typeof BACKUP_TRIGGERS)[number];

export function validCategories(list: readonly string[] | undefined): Category[] | undefined {
  if (!list) return undefined;
  return CATEGORIES.filter((c) => list.includes(c));
}

/**
 * Queues a backup. A second request while one is queued or running for the device joins
 * it (the scheduler, a handset's button and an agent must not start three), except a
 * safety backup, which belongs to the operation waiting for it.
 */
export async function createBackupJob(
  db: Db,
  device: DeviceRow,
  opts: {
    trigger: BackupPayload['trigger'];
    categories?: readonly Category[];
    actor: string;
    reason?: string;
    wake?: boolean;
  },
): Promise<{ job: JobRow; created: boolean }> {
  const categories =
    opts.categories && opts.categories.length ? [...opts.categories] : policyCategories(await policyFor(db, device));
  // Look and insert under the write lock: two server processes (two schedulers, a console
  // click and a handset's own session) asking at once still make one job. (Called with a
  // transaction, this is a savepoint in it.)
  return db.transaction(async (tx) => {
    // SQLite's transactions take the write lock when they begin; PostgreSQL's lock the device's row.
    if (isPg(tx)) await exec(tx, sql`select id from devices where id = ${device.id} for update`);
    if (opts.trigger !== 'safety') {
      const pending = (await jobsForDevice(tx, device.id, ['queued', 'running'])).find(
        (j) => j.kind === 'backup' && !isSafetyBackup(j),
      );
      if (pending) return { job: pending, created: false };
    }
    const payload: BackupPayload = {
      trigger: opts.trigger,
      categories,
      actor: opts.actor,
      ...(opts.reason ? { reason: opts.reason } : {}),
    };
    const job = await insertJob(tx, { deviceId: device.id, kind: 'backup', payload, wakePending: opts.wake ?? false });
    await insertAudit(tx, {
      actor: opts.actor,
      action: 'backup.requested',
      deviceId: device.id,
      details: { jobId: job.id, trigger: opts.trigger, categories },
    });
    return { job, created: true };
  });
}

/**
 * Queues `job` behind a fresh safety backup of the same device: it runs only once the
 * backup has succeeded, in the same session when it can, and fails if the backup fails.
 */
export async function withSafetyBackup(
  db: Db,
  device: DeviceRow,
  job: Pick<NewJob, 'kind' | 'payload'>,
  opts: { actor: string; categories?: readonly Category[]; wake?: boolean },
): Promise<{ backup: JobRow; job: JobRow }> {
  const { job: backup } = await createBackupJob(db, device, {
    trigger: 'safety',
    actor: opts.actor,
    wake: opts.wake ?? true,
    ...(opts.categories ? { categories: opts.categories } : {}),
  });
  const dependent = await insertJob(db, { ...job, deviceId: device.id, dependsOn: backup.id } as NewJob);
  return { backup, job: dependent };
}

export async function createLocalBackupJob(
  db: Db,
  device: DeviceRow,
  p: LocalBackupPayload,
  wake = true,
): Promise<JobRow> {
  const job = await insertJob(db, { deviceId: device.id, kind: 'local-backup', payload: p, wakePending: wake });
  await insertAudit(db, {
    actor: p.actor,
    action: 'local-backup.requested',
    deviceId: device.id,
    details: { jobId: job.id, target: p.target, categories: p.categories },
  });
  return job;
}

export async function createLocalRestoreJob(
  db: Db,
  device: DeviceRow,
  p: LocalRestorePayload,
  wake = true,
): Promise<JobRow> {
  const job = await insertJob(db, { deviceId: device.id, kind: 'local-restore', payload: p, wakePending: wake });
  await insertAudit(db, {
    actor: p.actor,
    action: 'local-restore.requested',
    deviceId: device.id,
    details: { jobId: job.id, localId: p.localId },
  });
  return job;
}

/**
 * A backup in a session. A scheduled or device-initiated one waits for a network its policy
 * allows; one on demand goes now. A full store fails the attempt, its snapshot with it.
 */
export const backupJob: JobHandler<'backup'> = {
  async deferral(ctx, device, job) {
    if (job.payload.trigger !== 'scheduled' && job.payload.trigger !== 'device') return undefined;
    const allowed = networkAllows(await messagePolicy(ctx, device), parseNetwork(device.networkState));
    return allowed.ok ? undefined : allowed.reason;
  },
  async early(ctx, device, job, sessionId) {
    // Only where the backup would start on the network the handset was last seen on.
    return (await backupJob.deferral!(ctx, device, job)) ? [] : earlyDigests(ctx, device, job, sessionId);
  },
  start: async (ctx, device, job, session) =>
    startWithDigests(ctx, device, job, await startBackup(ctx, device, job, session.id), session),
  startsWriting: true,
  onEvents: (ctx, device, job, events) => onBackupEvents(ctx, device, job, events),
  interrupt: (ctx, job, reason, now) => interruptBackup(ctx, job, reason, now),
  async onStorageFull(ctx, device, job, full, err) {
    const error = `${full}: the backup stopped and none of it was kept; free space, then back up again`;
    try {
      return { work: [], ...(await failBackup(ctx, device, job, error)) };
    } catch (again) {
      // The database itself is full: say why on the job at least (a one-row update may
      // still fit), and let the message fail as a whole (dm-session answers it).
      if (!storageFull(again)) throw again;
      try {
        await updateJob(ctx.db, job.id, { error });
      } catch {
        /* nothing more can be written */
      }
      throw err;
    }
  },
};

/** A backup the handset keeps itself: ordered by Exec; the result comes later, by alert. */
export const localBackupJob: JobHandler<'local-backup'> = {
  start: (ctx, _device, job, session) => startLocalJob(ctx, job, session.id),
  onEvents: (ctx, _device, job, events) => onLocalEvents(ctx, job, events),
};

/** A restore from a backup the handset keeps itself, the same way. */
export const localRestoreJob: JobHandler<'local-restore'> = {
  start: (ctx, _device, job, session) => startLocalJob(ctx, job, session.id),
  onEvents: (ctx, _device, job, events) => onLocalEvents(ctx, job, events),
};
