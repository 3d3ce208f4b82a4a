/**
 * What runs each kind of job in a DM session, in one table: the areas declare their
 * handlers beside their engines and this module gathers them, so the session's
 * dispatcher (lib/gateway/dm-work.ts) looks a job's handler up instead of switching on its
 * kind. A new kind is a compile error here until it has a handler. Only the dispatcher
 * imports this module: the areas never do, so there is no cycle through it.
 */
import type { JobRow } from '@/db/queries/jobs';
import { backupJob, localBackupJob, localRestoreJob } from '../backup/jobs';
import { restoreJob } from '../restore/jobs';
import { dsBackupJob, dsRestoreJob } from '../ds/jobs';
import { dmCommandsJob } from '../gateway/dm-commands';
import type { JobHandler } from './handler';
import type { JobKind } from './kinds';

const HANDLERS: { readonly [K in JobKind]: JobHandler<K> } = {
  backup: backupJob,
  restore: restoreJob,
  'local-backup': localBackupJob,
  'local-restore': localRestoreJob,
  'ds-backup': dsBackupJob,
  'ds-restore': dsRestoreJob,
  'dm-commands': dmCommandsJob,
};

/** The handler of the job's kind, typed for that job. */
export function jobHandler<K extends JobKind>(job: JobRow<K>): JobHandler<K> {
  // The table pairs every kind with its own handler, which TypeScript cannot follow through the union.
  return HANDLERS[job.kind as K] as JobHandler<K>;
}
