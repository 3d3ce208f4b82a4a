/**
 * What the REST API and `rewind … --json` show of restore plans, restore jobs (their
 * items and consent entries) and the package catalogs: one shape for both, JSON columns
 * parsed. Beside lib/backup/views.ts, which does the same for snapshots, jobs and profiles.
 */
import type { Db } from '@/db/client';
import type { AppPackageRow, FirmwarePackageRow } from '@/db/queries/catalog';
import { getJob, type JobRow } from '@/db/queries/jobs';
import {
  getPlan,
  listConsents,
  listItems,
  type ConsentRow,
  type RestoreItemRow,
  type RestorePlanRow,
} from '@/db/queries/restore';
import type { RestorePlan } from './plan';
import { json, publicJob } from '../backup/views';

export function publicPlan(row: RestorePlanRow) {
  return {
    planId: row.id,
    planHash: row.planHash,
    snapshotId: row.snapshotId,
    createdBy: row.createdBy,
    createdAt: row.createdAt,
    /** The restore job, once the plan was executed. */
    jobId: row.jobId,
    plan: JSON.parse(row.plan) as RestorePlan,
  };
}

export function publicItem(i: RestoreItemRow) {
  return {
    seq: i.seq,
    kind: i.kind,
    path: i.path,
    op: i.op,
    status: i.status,
    code: i.code,
    detail: i.detail,
    updatedAt: i.updatedAt,
  };
}

export type PublicItem = ReturnType<typeof publicItem>;

export function publicConsent(c: ConsentRow, devId?: string) {
  return {
    id: c.id,
    deviceId: c.deviceId,
    ...(devId ? { devId } : {}),
    subscriberId: c.subscriberId,
    jobId: c.jobId,
    code: c.code,
    prompt: c.prompt,
    promptVersion: c.promptVersion,
    answer: c.answer,
    network: json(c.network),
    cost: c.cost,
    reason: c.reason,
    at: c.at,
  };
}

export type PublicConsent = ReturnType<typeof publicConsent>;

const ITEM_STATUSES = ['pending', 'sent', 'written', 'verified', 'failed', 'mismatch', 'skipped', 'unchanged'] as const;

/** How many items are in each state, and in all. */
export function itemCounts(items: readonly RestoreItemRow[]): Record<(typeof ITEM_STATUSES)[number] | 'total', number> {
  const counts = Object.fromEntries([...ITEM_STATUSES, 'total'].map((s) => [s, 0])) as Record<
    (typeof ITEM_STATUSES)[number] | 'total',
    number
  >;
  for (const i of items) counts[i.status]++;
  counts.total = items.length;
  return counts;
}

/**
 * A job as GET /jobs/{id} and `rewind job` show it: for a restore also its plan, every
 * item's outcome (in plan order) and the consent entries, oldest first.
 */
export async function jobDetail(db: Db, job: JobRow) {
  const base = publicJob(job);
  if (job.kind !== 'restore') return base;
  const items = await listItems(db, job.id);
  const planId = job.payload.planId;
  return {
    ...base,
    planId,
    planHash: planId ? ((await getPlan(db, planId))?.planHash ?? null) : null,
    reason: job.payload.reason ?? null,
    counts: itemCounts(items),
    items: items.map(publicItem),
    consents: (await listConsents(db, { jobId: job.id })).reverse().map((c) => publicConsent(c)),
  };
}

export type JobDetail = Awaited<ReturnType<typeof jobDetail>>;

export function publicFirmwarePackage(p: FirmwarePackageRow) {
  return {
    id: p.id,
    manufacturer: p.manufacturer,
    model: p.model,
    version: p.version,
    name: p.name,
    size: p.size,
    sha256: p.blobHash,
    createdAt: p.createdAt,
  };
}

export function publicAppPackage(p: AppPackageRow) {
  return {
    id: p.id,
    appId: p.appId,
    name: p.name,
    version: p.version,
    /** "Manufacturer/Model" it installs on; null: any. */
    models: json(p.models) as string[] | null,
    systemOf: p.systemOf,
    size: p.size,
    sha256: p.blobHash,
    createdAt: p.createdAt,
  };
}

/** A stored plan as it was shown, and the job that ran it; undefined when there is none. */
export async function planView(db: Db, id: string) {
  const row = await getPlan(db, id);
  return row ? publicPlan(row) : undefined;
}

/** jobDetail of the job with this id; undefined when there is none. */
export async function jobView(db: Db, id: string): Promise<JobDetail | undefined> {
  const job = await getJob(db, id);
  return job ? jobDetail(db, job) : undefined;
}
