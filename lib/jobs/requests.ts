/**
 * Work an agent or admin asks for on a handset (`POST /api/v1/jobs`, `rewind backup`,
 * `rewind local-backup`, `rewind local-restore`, `rewind ds-backup`, `rewind ds-restore`). Each job asks for Package #0, which a
 * running server process sends within a second; the job runs in the session that follows.
 */
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import type { JobRow } from '@/db/queries/jobs';
import { getLocalBackup } from '@/db/queries/local-backups';
import { insertAudit } from '@/db/queries/audit';
import { createBackupJob, createLocalBackupJob, createLocalRestoreJob } from '../backup/jobs';
import { createDsBackupJob, createDsRestoreJob } from '../ds/jobs';
import { DsRestoreError } from '../ds/restore';
import { appErrorFamily, type AppErrorKind } from '../core/errors';
import { policyCategories, policyFor } from '../backup/policy';
import type { JobRequest } from '../backup/schemas';

const JOB_REQUEST_KIND = {
  'no-local-backup': 'not-found',
  'no-ds-snapshot': 'not-found',
  'forbidden-target': 'forbidden',
  'local-backup-gone': 'conflict',
} as const satisfies Record<string, AppErrorKind>;

export class JobRequestError extends appErrorFamily(JOB_REQUEST_KIND) {}

/**
 * Queues the job. A backup asked for while another is queued or running for the device
 * joins it (`created: false`). A local restore must name a local backup the handset has
 * reported and not since lost. A DS restore must name a DS snapshot of the handset or of
 * another handset of the same subscriber.
 */
export async function requestJob(
  db: Db,
  device: DeviceRow,
  req: JobRequest,
  actor: string,
): Promise<{ job: JobRow; created: boolean }> {
  switch (req.kind) {
    case 'backup':
      return await createBackupJob(db, device, {
        trigger: 'on-demand',
        actor,
        wake: true,
        ...(req.categories ? { categories: req.categories } : {}),
      });
    case 'local-backup':
      return {
        job: await createLocalBackupJob(db, device, {
          target: req.target,
          categories: req.categories ?? policyCategories(await policyFor(db, device)),
          actor,
        }),
        created: true,
      };
    case 'local-restore': {
      const local = await getLocalBackup(db, device.id, req.localId);
      if (!local)
        throw new JobRequestError('no-local-backup', `${device.devId} has reported no local backup ${req.localId}`);
      if (local.goneAt)
        throw new JobRequestError('local-backup-gone', `local backup ${req.localId} is no longer on ${device.devId}`);
      return {
        job: await createLocalRestoreJob(db, device, {
          localId: req.localId,
          actor,
          ...(req.categories ? { categories: req.categories } : {}),
        }),
        created: true,
      };
    }
    case 'ds-backup':
      return await createDsBackupJob(db, device, { actor });
    case 'ds-restore':
      try {
        return { job: await createDsRestoreJob(db, device, { snapshotId: req.snapshotId, actor }), created: true };
      } catch (err) {
        if (err instanceof DsRestoreError)
          throw new JobRequestError(err.code === 'forbidden' ? 'forbidden-target' : 'no-ds-snapshot', err.message);
        throw err;
      }
  }
}

/**
 * requestJob for the API and the console's buttons: a job created is audited by its kind's
 * code; joining one already pending is audited here (`backup.joined`), under the same actor.
 */
export async function requestOrJoinJob(
  db: Db,
  device: DeviceRow,
  req: JobRequest,
  actor: string,
): Promise<{ job: JobRow; created: boolean }> {
  const r = await requestJob(db, device, req, actor);
  if (!r.created)
    await insertAudit(db, { actor, action: `${r.job.kind}.joined`, deviceId: device.id, details: { jobId: r.job.id } });
  return r;
}
