/**
 * The restore wizard's server side, shared by the agents' console and the subscribers'
 * portal: what a snapshot offers to restore (its records grouped by category), a person's
 * selection turned into a plan request, the dry run (a stored plan) and its confirmation.
 * Every id comes from a browser, so each is checked against the viewer (lib/server/access)
 * before the domain sees it; a subscriber therefore plans and confirms only for their own
 * handsets, and lib/restore/plan.ts refuses another subscriber's handset as the target.
 */
import 'server-only';
import { z } from 'zod';
import type { AppContext } from '../core/context';
import { AppError } from '../core/errors';
import { devicesOfSubscriber } from '@/db/queries/subscribers';
import { getPlan } from '@/db/queries/restore';
import { insertAudit } from '@/db/queries/audit';
import { listSnapshots } from '@/db/queries/snapshots';
import type { DeviceRow } from '@/db/queries/devices';
import { readManifest, SnapshotError } from '../backup/read';
import type { ManifestEntry } from '../backup/manifest';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import {
  createPlan,
  isIdentityNode,
  isValueStep,
  PlanError,
  recordGroup,
  sends,
  type PlanRequest,
  type PlanSummary,
  type RestorePlan,
  type ValueSide,
} from './plan';
import { policyFor } from '../backup/policy';
import { executePlan, planUndo, RestoreError } from './engine';
import { formatSize, type CostQuote } from './cost';
import { getJob } from '@/db/queries/jobs';
import { categorySchema } from '../backup/schemas';
import { deviceFor, snapshotFor, AccessDenied } from '../server/access';
import type { Viewer } from '../server/session';

export const CATEGORY_LABELS: Record<Category, string> = {
  settings: 'Settings',
  certificates: 'Certificates',
  appdata: 'Ringtones, wallpapers and screensavers',
  applications: 'Apps',
  firmware: 'Firmware',
};

/** One thing a person may pick: a record (certificate, APN, mail account), an app, or a single value. */
export interface RestoreItemChoice {
  /** The DM path the plan is narrowed to. */
  path: string;
  label: string;
  bytes: number;
}

export interface RestoreCategoryChoice {
  category: Category;
  label: string;
  bytes: number;
  /** Empty for firmware, which is restored as a whole (the recorded version) or not at all. */
  items: RestoreItemChoice[];
}

export interface RestoreChoices {
  snapshotId: string;
  takenAt: number;
  categories: RestoreCategoryChoice[];
}

/** The snapshots a restore may start from: complete ones, newest first. */
export interface SnapshotChoice {
  id: string;
  takenAt: number;
  trigger: string;
  bytes: number;
  categories: string[];
}

export async function snapshotChoices(ctx: AppContext, device: DeviceRow): Promise<SnapshotChoice[]> {
  return (await listSnapshots(ctx.db, device.id, { status: 'complete', limit: 200 })).map((s) => ({
    id: s.id,
    takenAt: s.completedAt ?? s.startedAt,
    trigger: s.trigger,
    bytes: s.bytes,
    categories: JSON.parse(s.categories) as string[],
  }));
}

/** Where a restore may go: the handset itself, or another handset of the same subscriber (a migration). */
export interface TargetChoice {
  id: string;
  devId: string;
  label: string;
  same: boolean;
}

export async function targetChoices(ctx: AppContext, device: DeviceRow): Promise<TargetChoice[]> {
  const others = device.subscriberId
    ? (await devicesOfSubscriber(ctx.db, device.subscriberId)).filter((d) => d.id !== device.id)
    : [];
  const label = (d: DeviceRow) => `${[d.manufacturer, d.model].filter(Boolean).join(' ') || 'Handset'} (${d.devId})`;
  return [
    { id: device.id, devId: device.devId, label: label(device), same: true },
    ...others.map((d) => ({ id: d.id, devId: d.devId, label: label(d), same: false })),
  ];
}

const DEPLOYED = './SCOMO/Inventory/Deployed/';

/** "./AppData/Ringtones/Aurora.mp3" → "Ringtones/Aurora.mp3": the part a person tells apart. */
function shortName(path: string): string {
  const parts = path.split('/');
  return parts.length > 2 ? parts.slice(2).join('/') : path;
}

async function smallText(ctx: AppContext, e: ManifestEntry | undefined): Promise<string | undefined> {
  if (!e?.hash || e.size > 1024) return undefined;
  const bytes = await ctx.blobs.get(e.hash);
  return bytes ? new TextDecoder().decode(bytes) : undefined;
}

/** What a snapshot (already checked against the viewer) holds that a plan may be narrowed to. */
export async function restoreChoices(ctx: AppContext, snapshotId: string): Promise<RestoreChoices> {
  const { snapshot, entries } = await readManifest(ctx.db, ctx.blobs, snapshotId).catch((err: unknown) => {
    if (err instanceof SnapshotError)
      throw AppError.invalid(
        err.code === 'not-complete'
          ? 'That backup is not complete, so it cannot be restored.'
          : 'That backup cannot be read.',
      );
    throw err;
  });
  const recorded = (JSON.parse(snapshot.categories) as string[]).filter((c): c is Category =>
    (CATEGORIES as readonly string[]).includes(c),
  );
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const out: RestoreCategoryChoice[] = [];
  for (const category of CATEGORIES.filter((c) => recorded.includes(c))) {
    const values = entries.filter((e) => e.category === category && e.format !== 'node' && e.hash);
    const items = new Map<string, RestoreItemChoice>();
    if (category === 'applications') {
      for (const e of values.filter((v) => v.path.startsWith(DEPLOYED))) {
        const node = e.path.slice(DEPLOYED.length).split('/')[0]!;
        const path = `${DEPLOYED}${node}`;
        const item = items.get(path) ?? { path, label: node, bytes: 0 };
        item.bytes += e.size;
        items.set(path, item);
      }
      for (const item of items.values()) {
        const name =
          (await smallText(ctx, byPath.get(`${item.path}/Name`))) ??
          (await smallText(ctx, byPath.get(`${item.path}/ID`))) ??
          item.label;
        const version = await smallText(ctx, byPath.get(`${item.path}/Version`));
        item.label = version ? `${name} ${version}` : name;
      }
    } else if (category !== 'firmware') {
      for (const e of values) {
        if (isIdentityNode(e.path)) continue;
        const path = recordGroup(e) ?? e.path;
        const item = items.get(path) ?? { path, label: shortName(path), bytes: 0 };
        item.bytes += e.size;
        items.set(path, item);
      }
    }
    const list = [...items.values()];
    if (category !== 'firmware' && !list.length) continue; // only identity nodes: nothing a restore writes
    out.push({
      category,
      label: CATEGORY_LABELS[category],
      bytes: values.reduce((n, e) => n + e.size, 0),
      items: list,
    });
  }
  return { snapshotId: snapshot.id, takenAt: snapshot.completedAt ?? snapshot.startedAt, categories: out };
}

/** What the wizard sends: whole categories, single items (their paths), the target handset. */
export const restoreSelectionSchema = z
  .object({
    snapshotId: z.string().trim().min(1).max(128),
    targetDeviceId: z.string().trim().min(1).max(128),
    categories: z.array(categorySchema).max(CATEGORIES.length).default([]),
    items: z.array(z.string().max(1024)).max(1000).default([]),
    /** Keep every value the handset changed after the backup (the portal starts with it on). */
    keepNewer: z.boolean().default(false),
    /** Values (paths) of the handset's to keep, one by one. */
    keep: z.array(z.string().max(1024)).max(1000).default([]),
    /** Also delete what the backup did not have. */
    removeExtra: z.boolean().default(false),
  })
  .strict();

export type RestoreSelection = z.output<typeof restoreSelectionSchema>;

/** The most paths a plan may be narrowed to (lib/restore/schemas.ts). */
const MAX_PATHS = 256;

/**
 * A selection as a plan request. Whole categories alone: the categories. Any single item:
 * the plan is narrowed to paths, and a whole category picked beside it contributes all of
 * its items' paths (a path list narrows every category of the plan).
 */
export function planRequestFor(
  choices: RestoreChoices,
  sel: Pick<RestoreSelection, 'categories' | 'items'>,
  targetDevId: string,
): PlanRequest {
  const whole = new Set(sel.categories);
  const itemCategory = new Map<string, Category>();
  for (const c of choices.categories) for (const i of c.items) itemCategory.set(i.path, c.category);
  const picked = [...new Set(sel.items)].filter((p) => !whole.has(itemCategory.get(p)!));
  const unknown = picked.filter((p) => !itemCategory.has(p));
  if (unknown.length) throw AppError.invalid(`This backup has no item ${unknown[0]}.`);
  const available = new Set(choices.categories.map((c) => c.category));
  const categories = CATEGORIES.filter(
    (c) => (whole.has(c) && available.has(c)) || picked.some((p) => itemCategory.get(p) === c),
  );
  if (!categories.length)
    throw AppError.invalid('Choose at least one category or item to restore.', {
      categories: ['Choose at least one category or item.'],
    });
  if (!picked.length) return { snapshotId: choices.snapshotId, targetDevId, categories };
  const paths = [...picked];
  for (const c of choices.categories) if (whole.has(c.category)) paths.push(...c.items.map((i) => i.path));
  if (paths.length > MAX_PATHS)
    throw AppError.invalid(
      `That is ${paths.length} single items; pick at most ${MAX_PATHS}, or whole categories instead.`,
    );
  return { snapshotId: choices.snapshotId, targetDevId, categories, paths };
}

/** One value the restore changes, as a person reads it: before → after. */
export interface ChangeLine {
  path: string;
  label: string;
  category: string;
  /** change: replaced; add: the handset lacks it; remove: deleted; keep: the handset's newer value is kept. */
  kind: 'change' | 'add' | 'remove' | 'keep';
  before: string | null;
  after: string | null;
  /** The handset changed it after the backup: "Theme changed 2026-11-20". */
  newer: string | null;
}

/** The dry run as the wizard shows it: the plan's figures, prompt and compatibility report. */
export interface PlanPreview {
  planId: string;
  planHash: string;
  sourceDevId: string;
  targetDevId: string;
  targetDeviceId: string;
  migration: boolean;
  takenAt: number;
  categories: string[];
  /** Values written, and the folders (interior nodes) made for them first. */
  nodes: number;
  folders: number;
  nodesByCategory: Array<{ category: string; label: string; count: number; bytes: number }>;
  firmware: { from: string | null; to: string } | null;
  apps: Array<{ name: string; version: string }>;
  bytes: number;
  cost: CostQuote;
  prompt: RestorePlan['prompt'];
  notCarried: RestorePlan['notCarried'];
  reissue: string[];
  summary: PlanSummary;
  /** The handset's tree the plan was compared with (its last backup's date), null when unknown. */
  comparedAt: number | null;
  changes: ChangeLine[];
  keepNewer: boolean;
  removeExtra: boolean;
  /** The restore job this undoes. */
  undoOf: string | null;
  /**
   * Whether a safety backup is taken first (the target's policy's setting): without one the
   * restore starts at once and cannot be undone.
   */
  safetyBackup: boolean;
}

/** A value for people: its text when it is short text, else its size and the start of its hash. */
export function showValue(side: ValueSide | undefined, hash: string | null): string | null {
  if (!side || hash === null) return null;
  if (side.text !== undefined) return side.text === '' ? '(empty)' : side.text;
  return `${formatSize(side.size)}, sha256 ${hash.slice(0, 12)}`;
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The changes a plan makes, value by value (unchanged ones are only counted). */
export function changeLines(plan: RestorePlan): ChangeLine[] {
  const out: ChangeLine[] = [];
  for (const s of plan.steps) {
    if (s.kind !== 'node') continue;
    const label = shortName(s.path);
    if (s.op === 'delete') {
      out.push({
        path: s.path,
        label,
        category: s.category,
        kind: 'remove',
        before: showValue(s.was, s.before),
        after: null,
        newer: null,
      });
      continue;
    }
    if (!isValueStep(s) || s.op === 'unchanged') continue;
    const kind = s.op === 'keep' ? 'keep' : s.op === 'add' ? 'add' : 'change';
    out.push({
      path: s.path,
      label,
      category: s.category,
      kind,
      before: showValue(s.was, s.before ?? null),
      after: showValue(s.will, s.hash),
      newer: s.newer ? `${label.split('/').at(-1)} changed ${day(s.newer.at)}` : null,
    });
  }
  return out;
}

export function previewOf(
  planId: string,
  planHash: string,
  targetDeviceId: string,
  plan: RestorePlan,
  safetyBackup: boolean,
): PlanPreview {
  const writes = plan.steps.filter((s) => isValueStep(s) && sends(s));
  const byCat = new Map<string, { count: number; bytes: number }>();
  for (const s of writes) {
    const c = byCat.get(s.kind === 'node' ? s.category : '') ?? { count: 0, bytes: 0 };
    c.count++;
    c.bytes += s.bytes;
    byCat.set(s.kind === 'node' ? s.category : '', c);
  }
  const fw = plan.steps.find((s) => s.kind === 'firmware');
  return {
    planId,
    planHash,
    targetDeviceId,
    sourceDevId: plan.sourceDevId,
    targetDevId: plan.targetDevId,
    migration: plan.migration,
    takenAt: plan.snapshotTakenAt,
    categories: plan.selection.categories,
    nodes: writes.length,
    folders: plan.steps.filter((s) => s.kind === 'node' && s.op === 'ensure').length,
    nodesByCategory: [...byCat].map(([category, v]) => ({
      category,
      label: CATEGORY_LABELS[category as Category] ?? category,
      ...v,
    })),
    firmware: fw && fw.kind === 'firmware' ? { from: fw.from, to: fw.to } : null,
    apps: plan.steps.flatMap((s) => (s.kind === 'app' ? [{ name: s.name, version: s.version }] : [])),
    bytes: plan.bytes,
    cost: plan.cost,
    prompt: plan.prompt,
    notCarried: plan.notCarried,
    reissue: plan.reissue,
    summary: plan.summary,
    comparedAt: plan.comparedWith?.takenAt ?? null,
    changes: changeLines(plan),
    keepNewer: plan.keepNewer,
    removeExtra: plan.removeExtra,
    undoOf: plan.undoOf ?? null,
    safetyBackup,
  };
}

/** Plan errors in plain words for the form; "forbidden" reads like "not found" (the tenant rule's answer). */
function planMessage(err: PlanError): string {
  switch (err.code) {
    case 'forbidden':
      return 'That handset does not belong to the same subscriber, so the backup cannot go there.';
    case 'not-complete':
      return 'That backup is not complete, so it cannot be restored.';
    case 'not-found':
      return 'That backup or handset no longer exists.';
    default:
      return `Nothing to restore: ${err.message}.`;
  }
}

/** The dry run: checks both handsets against the viewer, then stores the plan. */
export async function previewRestore(
  ctx: AppContext & { viewer: Viewer },
  sel: RestoreSelection,
  actor: string,
): Promise<PlanPreview> {
  await snapshotFor(ctx.db, ctx.viewer, sel.snapshotId);
  const target = await deviceFor(ctx.db, ctx.viewer, sel.targetDeviceId);
  const choices = await restoreChoices(ctx, sel.snapshotId);
  const req: PlanRequest = {
    ...planRequestFor(choices, sel, target.devId),
    keepNewer: sel.keepNewer,
    keep: sel.keep,
    removeExtra: sel.removeExtra,
  };
  try {
    const { row, plan } = await createPlan(ctx, req, actor);
    const safety = (await policyFor(ctx.db, target)).safetyBackupBeforeUpdates;
    const preview = previewOf(row.id, row.planHash, target.id, plan, safety);
    // The agents' wizard and the portal's alike: who planned what, onto which handset.
    await insertAudit(ctx.db, {
      actor,
      action: 'restore.planned',
      deviceId: preview.targetDeviceId,
      details: {
        planId: preview.planId,
        snapshotId: sel.snapshotId,
        nodes: preview.nodes,
        summary: preview.summary,
        bytes: preview.bytes,
        migration: preview.migration,
      },
    });
    return preview;
  } catch (err) {
    if (err instanceof PlanError) throw AppError.invalid(planMessage(err));
    throw err;
  }
}

/**
 * Runs a stored plan the viewer may see (its snapshot and its target both pass the tenant
 * rule): a safety backup of the target first, then the restore. The restore job's id.
 */
export async function confirmRestore(
  ctx: AppContext & { viewer: Viewer },
  planId: string,
  actor: string,
  reason: string,
): Promise<{ jobId: string; safetyBackupId: string | null; deviceId: string }> {
  const row = await getPlan(ctx.db, planId);
  if (!row) throw new AccessDenied('plan');
  await snapshotFor(ctx.db, ctx.viewer, row.snapshotId);
  await deviceFor(ctx.db, ctx.viewer, row.targetDeviceId);
  try {
    const { job, backup } = await executePlan(ctx, planId, actor, reason);
    return { jobId: job.id, safetyBackupId: backup?.id ?? null, deviceId: row.targetDeviceId };
  } catch (err) {
    if (err instanceof RestoreError) {
      throw AppError.invalid(
        err.code === 'already-run'
          ? 'This plan was confirmed already; preview the restore again to start another.'
          : 'That plan or its handset no longer exists.',
      );
    }
    throw err;
  }
}

/** What confirming a plan takes: the plan and why the restore is started. */
export const confirmSchema = z
  .object({
    planId: z.string().trim().min(1).max(128),
    reason: z.string().trim().min(1, 'Give a reason or a ticket reference.').max(500, 'At most 500 characters.'),
  })
  .strict();

/**
 * "Put it back as it was before this restore", previewed like any restore: a plan from the
 * finished restore's safety backup onto the same handset (the viewer must see that handset).
 */
export async function previewUndo(
  ctx: AppContext & { viewer: Viewer },
  jobId: string,
  actor: string,
): Promise<PlanPreview> {
  const job = await getJob(ctx.db, jobId);
  if (!job || job.kind !== 'restore') throw new AccessDenied('job');
  const target = await deviceFor(ctx.db, ctx.viewer, job.deviceId);
  try {
    const { row, plan } = await planUndo(ctx, job.id, actor);
    return previewOf(
      row.id,
      row.planHash,
      target.id,
      plan,
      (await policyFor(ctx.db, target)).safetyBackupBeforeUpdates,
    );
  } catch (err) {
    if (err instanceof RestoreError) throw AppError.invalid(`Cannot undo: ${err.message}.`);
    if (err instanceof PlanError) throw AppError.invalid(planMessage(err));
    throw err;
  }
}

/**
 * What the wizard page starts with for a handset (already checked against the viewer):
 * its complete backups, the one asked for by `?snapshot=` when it is one of them (else
 * the newest), that backup's choices, and the handsets it may go to.
 */
export async function wizardStart(ctx: AppContext, device: DeviceRow, wanted: string | undefined) {
  const snapshots = await snapshotChoices(ctx, device);
  const initialSnapshotId = snapshots.find((s) => s.id === wanted)?.id ?? snapshots[0]?.id ?? null;
  const initialChoices = initialSnapshotId ? await restoreChoices(ctx, initialSnapshotId).catch(() => null) : null;
  return {
    snapshots,
    initialSnapshotId,
    initialChoices,
    targets: await targetChoices(ctx, device),
    askedForMissing: wanted !== undefined && wanted !== initialSnapshotId,
  };
}
