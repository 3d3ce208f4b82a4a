/**
 * What the REST API and `rewind … --json` show of snapshots, jobs and profiles: one shape for both,
 * JSON columns parsed, and a backup's progress cut down to what a person follows.
 */
import type { Db } from '@/db/client';
import type { JobRow } from '@/db/queries/jobs';
import { findModel, listModels, profileRows } from '@/db/queries/profiles';
import type { SnapshotRow } from '@/db/queries/snapshots';
import { readProgress } from './engine';
import { GENERIC_PROFILE, ownPaths, profileFor } from './profiles';
import { wakeView } from '../jobs/wakes';
import { airtime } from './airtime';

/** A JSON column's value; text that is not JSON as it is. */
export function json(s: string | null): unknown {
  if (s === null) return null;
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return s;
  }
}

export function publicSnapshot(s: SnapshotRow) {
  return {
    id: s.id,
    deviceId: s.deviceId,
    jobId: s.jobId,
    trigger: s.trigger,
    status: s.status,
    categories: json(s.categories) as string[],
    rootHash: s.rootHash,
    entries: s.entries,
    bytes: s.bytes,
    newBytes: s.newBytes,
    legalHold: s.legalHold,
    error: s.error,
    startedAt: s.startedAt,
    completedAt: s.completedAt,
    changeDetection: s.changeDetection,
    air: airtime(s),
    digestDefect: s.digestDefect,
  };
}

/** How a model's backups find what changed, and what verification walks caught its handsets at (the models page). */
export async function modelChangeDetection(db: Db, manufacturer: string, model: string) {
  const m = await findModel(db, manufacturer, model);
  return {
    detection: m?.changeDetection ?? null,
    learnedAt: m?.changeDetectionAt ?? null,
    digestDefects: m?.digestDefects ?? 0,
    lastDigestDefect: m?.lastDigestDefect ?? null,
    lastDigestDefectAt: m?.lastDigestDefectAt ?? null,
  };
}

export type PublicSnapshot = ReturnType<typeof publicSnapshot>;

export interface BackupProgressView {
  snapshotId: string;
  /** Nodes fetched so far. */
  nodes: number;
  /** Get batches sent and not yet answered. */
  openBatches: number;
  /** Content this attempt added to the store so far. */
  newBytes: number;
  /** Subtrees of the profile this handset does not have. */
  missing: number;
  unreadable: number;
  errors: number;
}

/** A job's progress: for backups the figures above; for other kinds what the job keeps (its phase). */
export function jobProgress(job: JobRow): BackupProgressView | unknown {
  if (job.kind !== 'backup') return json(job.progress);
  const p = readProgress(job);
  if (!p) return null;
  return {
    snapshotId: p.snapshotId,
    nodes: p.nodes,
    openBatches: p.open.length,
    newBytes: p.newBytes,
    missing: p.missing.length,
    unreadable: p.unreadable.length,
    errors: p.errors.length,
  } satisfies BackupProgressView;
}

export function publicJob(job: JobRow) {
  return {
    id: job.id,
    deviceId: job.deviceId,
    kind: job.kind,
    status: job.status,
    /** What was asked for (categories, trigger, target, localId, who asked). */
    request: job.payload,
    error: job.error,
    attempts: job.attempts,
    progress: jobProgress(job),
    result: json(job.result),
    dependsOn: job.dependsOn,
    notBefore: job.notBefore,
    /** Each Package #0 sent for it, and until when one whose session did not come is sent again. */
    wakes: wakeView(job),
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
  };
}

export type PublicJob = ReturnType<typeof publicJob>;

/**
 * A model's backup profile: `profile` is what its handsets are backed up with (the generic
 * profile plus the model's own paths), `own` the model's additions alone. A model nobody
 * described yet is `known: false` and gets the generic profile.
 */
export async function modelProfile(db: Db, manufacturer: string, model: string) {
  const m = await findModel(db, manufacturer, model);
  const own = await ownPaths(db, m?.id);
  return {
    manufacturer,
    model,
    known: m !== undefined,
    profile: await profileFor(db, manufacturer, model),
    own,
    generic: GENERIC_PROFILE,
  };
}

export type ModelProfile = Awaited<ReturnType<typeof modelProfile>>;

/** Every known model's profile (the console's models page). */
export async function modelProfiles(db: Db): Promise<ModelProfile[]> {
  const out = [];
  for (const m of await listModels(db)) out.push(await modelProfile(db, m.manufacturer, m.model));
  return out;
}

/** Known models, each with the paths its profile adds to the generic one, by category (GET /models). */
export async function modelList(db: Db) {
  const models = [];
  for (const m of await listModels(db)) {
    models.push({
      id: m.id,
      manufacturer: m.manufacturer,
      model: m.model,
      createdAt: m.createdAt,
      profiles: Object.fromEntries(
        (await profileRows(db, m.id)).map((r) => [r.category, JSON.parse(r.paths) as string[]]),
      ),
    });
  }
  return models;
}
