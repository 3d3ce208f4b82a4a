/**
 * Creating backup jobs, whatever asked for them: an agent or the API (on demand), the
 * scheduler (a policy's interval), a restore or firmware update (a safety backup first),
 * the handset itself (a Generic Alert), or the server ordering a backup on the handset's
 * own storage (local).
 */
import { sql } from 'drizzle-orm';
import { isPg, type Db } from '@/db/client';
import { exec } from '@/db/sql';
import type { DeviceRow } from '@/db/queries/devices';
import { insertAudit } from '@/db/queries/audit';
import { insertJob, jobsForDevice, type JobRow } from '@/db/queries/jobs';
import type { LOCAL_TARGETS} from '../omadm/mo/backup-restore';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { policyCategories, policyFor } from './policy';

export const BACKUP_TRIGGERS = ['on-demand', 'scheduled', 'safety', 'device', 'local'] as const;
export type BackupTrigger = (typeof BACKUP_TRIGGERS)[number];

export interface BackupPayload {
  trigger: Exclude<BackupTrigger, 'local'>;
  categories: Category[];
  /** Who asked: `token:<id>`, `user:<id>`, `scheduler`, `device`. */
  actor: string;
  /** For device-initiated backups: the handset's reason (user, policy, server). */
  reason?: string;
}

export interface LocalBackupPayload { target: (typeof LOCAL_TARGETS)[number]; categories: Category[]; actor: string }
export interface LocalRestorePayload { localId: string; categories?: Category[]; actor: string }

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
  opts: { trigger: BackupPayload['trigger']; categories?: readonly Category[]; actor: string; reason?: string; wake?: boolean },
): Promise<{ job: JobRow; created: boolean }> {
  const categories = opts.categories && opts.categories.length ? [...opts.categories] : policyCategories(await policyFor(db, device));
  // Look and insert under the write lock: two server processes (two schedulers, a console
  // click and a handset's own session) asking at once still make one job. (Called with a
  // transaction, this is a savepoint in it.)
  return db.transaction(async (tx) => {
    // SQLite's transactions take the write lock when they begin; PostgreSQL's lock the device's row.
    if (isPg(tx)) await exec(tx, sql`select id from devices where id = ${device.id} for update`);
    if (opts.trigger !== 'safety') {
      const pending = (await jobsForDevice(tx, device.id, ['queued', 'running'])).find((j) => j.kind === 'backup' && !isSafety(j));
      if (pending) return { job: pending, created: false };
    }
    const payload: BackupPayload = { trigger: opts.trigger, categories, actor: opts.actor, ...(opts.reason ? { reason: opts.reason } : {}) };
    const job = await insertJob(tx, { deviceId: device.id, kind: 'backup', payload, wakePending: opts.wake ?? false });
    await insertAudit(tx, { actor: opts.actor, action: 'backup.requested', deviceId: device.id, details: { jobId: job.id, trigger: opts.trigger, categories } });
    return { job, created: true };
  });
}

function isSafety(j: JobRow): boolean {
  return (JSON.parse(j.payload) as Partial<BackupPayload>).trigger === 'safety';
}

/**
 * Queues `job` behind a fresh safety backup of the same device: it runs only once the
 * backup has succeeded, in the same session when it can, and fails if the backup fails.
 */
export async function withSafetyBackup(
  db: Db,
  device: DeviceRow,
  job: { kind: string; payload: unknown },
  opts: { actor: string; categories?: readonly Category[]; wake?: boolean },
): Promise<{ backup: JobRow; job: JobRow }> {
  const { job: backup } = await createBackupJob(db, device, { trigger: 'safety', actor: opts.actor, wake: opts.wake ?? true, ...(opts.categories ? { categories: opts.categories } : {}) });
  const dependent = await insertJob(db, { deviceId: device.id, kind: job.kind, payload: job.payload, dependsOn: backup.id });
  return { backup, job: dependent };
}

export async function createLocalBackupJob(db: Db, device: DeviceRow, p: LocalBackupPayload, wake = true): Promise<JobRow> {
  const job = await insertJob(db, { deviceId: device.id, kind: 'local-backup', payload: p, wakePending: wake });
  await insertAudit(db, { actor: p.actor, action: 'local-backup.requested', deviceId: device.id, details: { jobId: job.id, target: p.target, categories: p.categories } });
  return job;
}

export async function createLocalRestoreJob(db: Db, device: DeviceRow, p: LocalRestorePayload, wake = true): Promise<JobRow> {
  const job = await insertJob(db, { deviceId: device.id, kind: 'local-restore', payload: p, wakePending: wake });
  await insertAudit(db, { actor: p.actor, action: 'local-restore.requested', deviceId: device.id, details: { jobId: job.id, localId: p.localId } });
  return job;
}
