/**
 * The kinds of job there are and what each one carries. A job's `payload` column is JSON
 * text; it is checked against its kind's schema when the job is created and parsed once
 * when the row is read (db/queries/jobs.ts), so the code that runs a job gets its request
 * typed and never parses it again. What runs each kind in a session is lib/jobs/registry.ts.
 *
 * Pure (zod and the engine's vocabulary only): the data layer imports it.
 */
import { z } from 'zod';
import { CATEGORIES, LOCAL_TARGETS } from '../omadm/mo/backup-restore';
import type { WorkRequest } from '../omadm/session/work';
import { DS_STORE_NAMES, type DsStoreName } from '../ds/protocol';

const categories = z.array(z.enum(CATEGORIES));
const dsStores = z.array(z.enum(DS_STORE_NAMES as readonly [DsStoreName, ...DsStoreName[]]));
/** Who asked: `token:<id>`, `user:<id>`, `scheduler`, `device:<devId>`. */
const actor = z.string();

/** Every job a backup becomes; a snapshot's own trigger may also be 'local' (lib/backup/jobs.ts). */
export const BACKUP_JOB_TRIGGERS = ['on-demand', 'scheduled', 'safety', 'device'] as const;

const WORK_KINDS: ReadonlySet<string> = new Set<WorkRequest['kind']>([
  'get',
  'add',
  'replace',
  'delete',
  'copy',
  'exec',
  'ui',
  'sequence',
]);

/** The engine's work requests are checked for their id and kind only: the engine itself refuses the rest. */
const workRequest = z.custom<WorkRequest>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as { id?: unknown }).id === 'string' &&
    WORK_KINDS.has(String((v as { kind?: unknown }).kind)),
  'a work request needs a string id and a known kind',
);

export const JOB_PAYLOAD_SCHEMAS = {
  backup: z.object({
    trigger: z.enum(BACKUP_JOB_TRIGGERS),
    categories,
    actor,
    /** For device-initiated backups: the handset's reason (user, policy, server). */
    reason: z.string().optional(),
  }),
  /** A stored restore plan (restore_plans), executed as it is. */
  restore: z.object({ planId: z.string().min(1), actor, reason: z.string().max(500).optional() }),
  'local-backup': z.object({ target: z.enum(LOCAL_TARGETS), categories, actor }),
  'local-restore': z.object({ localId: z.string().min(1), categories: categories.optional(), actor }),
  'ds-backup': z.object({ actor, stores: dsStores }),
  'ds-restore': z.object({ actor, snapshotId: z.string().min(1), stores: dsStores }),
  /** Engine work requests sent as they are (tests and operators' scripts). */
  'dm-commands': z.object({ work: z.array(workRequest) }),
} as const;

export type JobKind = keyof typeof JOB_PAYLOAD_SCHEMAS;
export const JOB_KINDS = Object.keys(JOB_PAYLOAD_SCHEMAS) as JobKind[];

export type JobPayloads = { [K in JobKind]: z.output<(typeof JOB_PAYLOAD_SCHEMAS)[K]> };
export type JobPayload<K extends JobKind = JobKind> = JobPayloads[K];
export type BackupPayload = JobPayloads['backup'];
export type RestorePayload = JobPayloads['restore'];
export type LocalBackupPayload = JobPayloads['local-backup'];
export type LocalRestorePayload = JobPayloads['local-restore'];
export type DsBackupPayload = JobPayloads['ds-backup'];
export type DsRestorePayload = JobPayloads['ds-restore'];
export type DmCommandsPayload = JobPayloads['dm-commands'];

/** A kind with its payload, as one value: `switch (r.kind)` narrows the payload. */
export type JobRequestOf<K extends JobKind = JobKind> = K extends JobKind
  ? { kind: K; payload: JobPayloads[K] }
  : never;

export function isJobKind(kind: string): kind is JobKind {
  return Object.hasOwn(JOB_PAYLOAD_SCHEMAS, kind);
}

/** A job whose kind is unknown or whose payload does not fit its kind: a bug or a row written by hand. */
export class JobPayloadError extends Error {
  constructor(
    readonly kind: string,
    message: string,
    readonly jobId?: string,
  ) {
    super(`${jobId ? `job ${jobId} ` : ''}(${kind}): ${message}`);
    this.name = 'JobPayloadError';
  }
}

function check<K extends JobKind>(kind: K, value: unknown, jobId?: string): JobPayloads[K] {
  const r = JOB_PAYLOAD_SCHEMAS[kind].safeParse(value);
  if (!r.success) {
    const why = r.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
    throw new JobPayloadError(kind, `the payload is not a ${kind} request: ${why}`, jobId);
  }
  return r.data as JobPayloads[K];
}

/** A row's kind and payload text, checked: throws JobPayloadError naming the job and what is wrong. */
export function parseJobPayload(row: { id?: string; kind: string; payload: string }): JobRequestOf {
  if (!isJobKind(row.kind))
    throw new JobPayloadError(row.kind, `no such job kind (known: ${JOB_KINDS.join(', ')})`, row.id);
  let value: unknown;
  try {
    value = JSON.parse(row.payload);
  } catch {
    throw new JobPayloadError(row.kind, 'the payload is not JSON', row.id);
  }
  return { kind: row.kind, payload: check(row.kind, value, row.id) } as JobRequestOf;
}

/** The payload column for a new job, checked against its kind first. */
export function serializeJobPayload(request: JobRequestOf): string {
  return JSON.stringify(check(request.kind, request.payload));
}

/** How people see a job in lists: "Safety backup", "Backup (scheduled)", "Restore of local backup L1". */
export function jobTitle(job: JobRequestOf): string {
  switch (job.kind) {
    case 'backup':
      return job.payload.trigger === 'safety' ? 'Safety backup' : `Backup (${job.payload.trigger})`;
    case 'restore':
      return 'Restore';
    case 'local-backup':
      return `Backup to the handset's ${job.payload.target === 'smartcard' ? 'smart card' : 'own storage'}`;
    case 'local-restore':
      return `Restore of local backup ${job.payload.localId}`;
    case 'dm-commands':
      return 'DM commands';
    case 'ds-backup':
    case 'ds-restore':
      return job.kind;
  }
}

/** A backup a restore waits for: it belongs to that restore, never joined by another request. */
export function isSafetyBackup(job: JobRequestOf): boolean {
  return job.kind === 'backup' && job.payload.trigger === 'safety';
}
