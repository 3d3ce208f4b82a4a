/**
 * Restore plans. A plan takes a complete snapshot, or part of it (categories, single apps,
 * single nodes), and a target handset (the same one, or another of the subscriber's), and
 * lists every step: firmware back to the recorded version through FUMO, apps reinstalled
 * at their recorded versions through SCOMO, then the nodes (settings, certificates, app
 * data), records that belong together written in one Atomic. It carries the bytes, the
 * cost on the handset's current network and the exact prompt its user will see, and says
 * what will not be carried and why. The plan is stored; executing it runs that plan.
 *
 * A plan sends only what differs from the handset's tree as last known (its newest complete
 * backup, with the values later restores wrote on top): a value equal to the backup's is
 * not sent, an interior node the handset has is not Added again, a changed value is
 * Replaced, a missing one Added, and (when asked) a value the backup did not have is
 * Deleted. Every value of the selection is a step with its `op`, so the dry run says what
 * is unchanged as well as what changes. When the writes begin, the restore checks again
 * against its safety backup (lib/restore/engine.ts) and sends what differs then.
 */
import { readableText } from '../core/format';
import { appErrorFamily, type AppErrorKind } from '../core/errors';
import { createHash } from 'node:crypto';
import type { AppContext } from '../core/context';
import { getDevice, getDeviceByDevId } from '@/db/queries/devices';
import { findAppPackage, findFirmwarePackage } from '@/db/queries/catalog';
import { insertPlan, type RestorePlanRow } from '@/db/queries/restore';
import { insertAudit } from '@/db/queries/audit';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { appFitsModel } from '../catalog/catalog';
import { compareVersions } from '../backup/diff';
import type { ManifestEntry } from '../backup/manifest';
import { parseNetwork } from '../backup/policy';
import { backupRoots, profileFor } from '../backup/profiles';
import { readManifest } from '../backup/read';
import { lastCompleteSnapshot, listSnapshots } from '@/db/queries/snapshots';
import { jobsForDevice } from '@/db/queries/jobs';
import { getPlan, listItems } from '@/db/queries/restore';
import type { Db } from '@/db/client';
import type { BlobStore } from '../backup/blob-store';
import { formatSize, quote, type CostQuote, type Rates } from './cost';

export const PROMPT_VERSION = 'restore-consent/1';
export const CHOICES = ['Now', 'Later on Wi-Fi', 'Reject'] as const;

const DEPLOYED = './SCOMO/Inventory/Deployed/';
const FWV = './DevDetail/FwV';

/**
 * What a value step does: `replace` a value that differs, `add` one the handset lacks,
 * `unchanged` (already equal: not sent), `keep` (the handset's newer value, kept at the
 * person's choice: not sent). `write` is how plans made before diffing said replace.
 */
export type ValueOp = 'replace' | 'add' | 'unchanged' | 'keep';

/** Small text values are shown as text in the preview; the rest by size and hash. */
export interface ValueSide {
  size: number;
  text?: string;
}

export type ValueStep = {
  seq: number;
  kind: 'node';
  op: ValueOp;
  path: string;
  category: Category;
  format: string;
  type?: string;
  size: number;
  /** The backup's value (SHA-256), what is written; equal to `after`. */
  hash: string;
  /** The handset's value as last known (SHA-256), null when it has none or it is not known. */
  before: string | null;
  after: string;
  was?: ValueSide;
  will?: ValueSide;
  /** The handset changed this value after the backup was taken (by `at`, a backup's date). */
  newer?: { at: number };
  group?: string;
  bytes: number;
};

export type PlanStep =
  | {
      seq: number;
      kind: 'firmware';
      op: 'update';
      path: string;
      from: string | null;
      to: string;
      before: string | null;
      after: string;
      packageId: string;
      bytes: number;
    }
  | {
      seq: number;
      kind: 'app';
      /** `unchanged`: the handset has it at that version (not sent unless the safety backup finds otherwise). */
      op: 'install' | 'unchanged';
      path: string;
      appId: string;
      name: string;
      version: string;
      before: string | null;
      after: string;
      packageId: string;
      bytes: number;
    }
  /** An interior node the values need: Added when the handset lacks it (`ensure`), left alone when it has it (`exists`). */
  | { seq: number; kind: 'node'; op: 'ensure' | 'exists'; path: string; category: Category; bytes: 0 }
  | ValueStep
  /** A value the handset has and the backup had not: Deleted, only when the plan asks to remove extras. */
  | {
      seq: number;
      kind: 'node';
      op: 'delete';
      path: string;
      category: Category;
      before: string;
      after: null;
      was: ValueSide;
      bytes: 0;
    };

/** The dry run in numbers: values unchanged, changed, added, removed, kept newer, and what is not carried. */
export interface PlanSummary {
  unchanged: number;
  change: number;
  add: number;
  remove: number;
  keep: number;
  notCarried: number;
}

export interface NotCarried {
  path: string;
  reason: string;
}

export interface RestorePlan {
  v: 1 | 2;
  snapshotId: string;
  snapshotTakenAt: number;
  sourceDevId: string;
  targetDevId: string;
  migration: boolean;
  selection: { categories: Category[]; paths?: string[]; apps?: string[] };
  /** The handset's tree the plan was compared with: its newest complete backup (and later restores' writes); null when it has none. */
  comparedWith: { snapshotId: string; takenAt: number } | null;
  /** Values the handset changed after the backup that the person chose to keep; `keepNewer`: all of them. */
  keepNewer: boolean;
  keep: string[];
  /** Values the backup did not have are Deleted. */
  removeExtra: boolean;
  /** The restore job this plan undoes (a restore from that job's safety backup). */
  undoOf?: string;
  summary: PlanSummary;
  steps: PlanStep[];
  notCarried: NotCarried[];
  /** Certificates bound to the old handset: to be issued anew for the new one, not copied. */
  reissue: string[];
  bytes: number;
  cost: CostQuote;
  prompt: { code: '1103'; text: string; choices: string[]; fallback: { code: '1101'; text: string }; version: string };
  firmwareDowngradeAllowed: boolean;
}

/** A snapshot or device not found, a snapshot not complete, another subscriber's handset, nothing to restore. */
const PLAN_KIND = {
  'not-found': 'not-found',
  'not-complete': 'conflict',
  forbidden: 'forbidden',
  invalid: 'invalid',
  empty: 'invalid',
} as const satisfies Record<string, AppErrorKind>;

export class PlanError extends appErrorFamily(PLAN_KIND) {}

export interface PlanRequest {
  snapshotId: string;
  /** Default: the snapshot's own device. */
  targetDevId?: string;
  categories?: Category[];
  /** Only nodes at or under these paths. */
  paths?: string[];
  /** Only these apps (ids or Deployed node names); implies the applications category. */
  apps?: string[];
  /** Admins only: restore firmware older than the handset's. */
  allowFirmwareDowngrade?: boolean;
  /** Keep every value the handset changed after the backup was taken (the portal's default). */
  keepNewer?: boolean;
  /** Keep these values (paths) of the handset's, newer or not. */
  keep?: string[];
  /** Delete values under the selection that the backup did not have (off by default). */
  removeExtra?: boolean;
  /** Set by undoRestore: the job whose safety backup this plan restores. */
  undoOf?: string;
  rates?: Rates;
}

const under = (p: string, root: string) => p === root || p.startsWith(`${root}/`);

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

/** Leaves of one record (a certificate, an APN, a mail account) change together. */
export function recordGroup(e: ManifestEntry): string | undefined {
  const m = /^(\.\/Certificates\/[^/]+|\.\/Settings\/Network\/APN\/[^/]+|\.\/Settings\/Email\/[^/]+)\//.exec(e.path);
  return m ? m[1] : undefined;
}

/** A tree as the plan compares with it: path -> entry, and every interior node it implies. */
export interface KnownTree {
  snapshotId: string;
  takenAt: number;
  entries: Map<string, ManifestEntry>;
  /** Paths whose value a restore wrote after the snapshot (not the user's newer choices). */
  restored: Set<string>;
}

/** Interior nodes of a tree: those it lists and every parent of a path it holds. */
export function interiorsOf(entries: Iterable<ManifestEntry>): Set<string> {
  const out = new Set<string>();
  for (const e of entries) {
    if (e.format === 'node') out.add(e.path);
    for (let p = parentOf(e.path); p.split('/').length > 1 && !out.has(p); p = parentOf(p)) out.add(p);
  }
  return out;
}

/** What a value is on a tree: `unchanged` when equal, `replace` when it differs, `add` when it is missing. */
export function valueOpAgainst(hash: string, current: ManifestEntry | undefined): 'unchanged' | 'replace' | 'add' {
  if (!current) return 'add';
  return current.hash === hash ? 'unchanged' : 'replace';
}

/**
 * The handset's tree as last known: its newest complete backup, with the values restores
 * that ended after it wrote (and read back) on top, so a plan made right after a restore
 * (its undo, say) sees what that restore left. Undefined when the handset has no backup.
 */
export async function knownTree(ctx: { db: Db; blobs: BlobStore }, deviceId: string): Promise<KnownTree | undefined> {
  const last = await lastCompleteSnapshot(ctx.db, deviceId);
  if (!last) return undefined;
  const { entries } = await readManifest(ctx.db, ctx.blobs, last.id);
  const takenAt = last.completedAt ?? last.startedAt;
  const tree: KnownTree = {
    snapshotId: last.id,
    takenAt,
    entries: new Map(entries.map((e) => [e.path, e])),
    restored: new Set(),
  };
  const later = (await jobsForDevice(ctx.db, deviceId, ['succeeded', 'failed']))
    .filter((j) => j.kind === 'restore' && j.updatedAt > takenAt)
    .sort((x, y) => x.updatedAt - y.updatedAt);
  for (const job of later) {
    const planId = (job.payload as { planId?: string }).planId;
    const row = planId ? await getPlan(ctx.db, planId) : undefined;
    if (!row) continue;
    const steps = new Map((JSON.parse(row.plan) as RestorePlan).steps.map((s) => [s.seq, s]));
    for (const item of await listItems(ctx.db, job.id, ['verified'])) {
      const s = steps.get(item.seq);
      if (s?.kind !== 'node') continue;
      if (s.op === 'delete') tree.entries.delete(s.path);
      else if (isValueStep(s))
        tree.entries.set(s.path, {
          path: s.path,
          category: s.category,
          format: s.format,
          ...(s.type ? { type: s.type } : {}),
          size: s.size,
          hash: s.hash,
        });
      else continue;
      tree.restored.add(s.path);
    }
  }
  return tree;
}

/** A value step (plans made before diffing said `write`, which is a replace). */
export function isValueStep(s: PlanStep): s is ValueStep {
  return s.kind === 'node' && s.op !== 'ensure' && s.op !== 'exists' && s.op !== 'delete';
}

/** Value steps that send bytes: the ones the handset gets. */
export function sends(s: PlanStep): boolean {
  if (s.kind === 'app') return s.op !== 'unchanged';
  if (s.kind !== 'node') return true;
  return s.op === 'replace' || s.op === 'add' || (s.op as string) === 'write' || s.op === 'ensure' || s.op === 'delete';
}

/**
 * When the handset's current values appeared: for each path, the date of the first of the
 * device's backups after `since` that holds the current value (`hash`).
 */
async function changedWhen(
  ctx: AppContext,
  deviceId: string,
  since: number,
  until: number,
  want: Map<string, string>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const snaps = (await listSnapshots(ctx.db, deviceId, { status: 'complete', limit: 100 }))
    .map((s) => ({ id: s.id, at: s.completedAt ?? s.startedAt }))
    .filter((s) => s.at > since && s.at <= until)
    .sort((x, y) => x.at - y.at);
  const left = new Map(want);
  for (const s of snaps) {
    if (!left.size) break;
    const { entries } = await readManifest(ctx.db, ctx.blobs, s.id);
    const byPath = new Map(entries.map((e) => [e.path, e.hash]));
    for (const [path, hash] of left)
      if (byPath.get(path) === hash) {
        out.set(path, s.at);
        left.delete(path);
      }
  }
  for (const path of left.keys()) out.set(path, until);
  return out;
}

export async function computePlan(ctx: AppContext, req: PlanRequest): Promise<RestorePlan> {
  const { snapshot, entries } = await readManifest(ctx.db, ctx.blobs, req.snapshotId).catch(
    (e: Error & { code?: string }) => {
      throw new PlanError(e.code === 'not-complete' ? 'not-complete' : 'not-found', e.message);
    },
  );
  const source = (await getDevice(ctx.db, snapshot.deviceId))!;
  const target = req.targetDevId ? await getDeviceByDevId(ctx.db, req.targetDevId) : source;
  if (!target) throw new PlanError('not-found', `no device ${req.targetDevId}`);
  const migration = target.id !== source.id;
  if (migration && (!source.subscriberId || source.subscriberId !== target.subscriberId)) {
    throw new PlanError('forbidden', `${target.devId} is not a handset of the same subscriber as ${source.devId}`);
  }
  const recorded = (JSON.parse(snapshot.categories) as Category[]).filter((c) => CATEGORIES.includes(c));
  let categories = req.categories?.length ? req.categories.filter((c) => recorded.includes(c)) : recorded;
  if (req.apps?.length && !req.categories?.length) categories = ['applications'];
  if (!categories.length) throw new PlanError('empty', 'the snapshot holds none of the categories asked for');
  const takenAt = snapshot.completedAt ?? snapshot.startedAt;
  const known = await knownTree(ctx, target.id);
  const current = known?.entries ?? new Map<string, ManifestEntry>();

  const texts = new Map<string, string>();
  const textOf = async (hash: string | undefined, size: number): Promise<string | undefined> => {
    if (!hash || size > 4096) return undefined;
    if (!texts.has(hash)) texts.set(hash, new TextDecoder().decode((await ctx.blobs.get(hash)) ?? new Uint8Array(0)));
    return texts.get(hash);
  };
  const text = (e: ManifestEntry | undefined) => textOf(e?.hash, e?.size ?? 0);
  const side = async (e: ManifestEntry): Promise<ValueSide> => {
    if (!e.hash || e.size > 200) return { size: e.size };
    const bytes = await ctx.blobs.get(e.hash);
    const t = bytes ? readableText(bytes) : undefined;
    return t === undefined ? { size: e.size } : { size: e.size, text: t };
  };
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const inSelection = (e: ManifestEntry) =>
    categories.includes(e.category) &&
    (!req.paths?.length || req.paths.some((p) => under(e.path, p) || under(p, e.path)));
  const selected = entries.filter(inSelection);

  const steps: PlanStep[] = [];
  const notCarried: NotCarried[] = [];
  const reissue: string[] = [];
  let seq = 0;
  const targetRoots = backupRoots(await profileFor(ctx.db, target.manufacturer, target.model), CATEGORIES);
  const sameModel = target.manufacturer === source.manufacturer && target.model === source.model;

  // 1. Firmware: back to the recorded version when the handset's differs.
  if (categories.includes('firmware')) {
    const want = await text(byPath.get(FWV));
    const have = target.firmware;
    if (want && want !== have) {
      const pkg = await findFirmwarePackage(ctx.db, target.manufacturer ?? '', target.model ?? '', want);
      const haveKnown = have
        ? await findFirmwarePackage(ctx.db, target.manufacturer ?? '', target.model ?? '', have)
        : undefined;
      if (!sameModel)
        notCarried.push({
          path: FWV,
          reason: `firmware ${want} belongs to ${source.manufacturer} ${source.model}, not ${target.manufacturer} ${target.model}`,
        });
      else if (!pkg)
        notCarried.push({ path: FWV, reason: `no firmware package for ${target.model} ${want} in the catalog` });
      else if (haveKnown && compareVersions(want, have!) < 0 && !req.allowFirmwareDowngrade) {
        notCarried.push({
          path: FWV,
          reason: `firmware would go backwards from ${have} to ${want}; an admin may allow it`,
        });
      } else {
        steps.push({
          seq: ++seq,
          kind: 'firmware',
          op: 'update',
          path: FWV,
          from: have,
          to: want,
          before: have,
          after: want,
          packageId: pkg.id,
          bytes: pkg.size,
        });
      }
    }
  }

  // 2. Applications, at their recorded versions; one the handset has at that version is left alone.
  if (categories.includes('applications')) {
    const nodes = [
      ...new Set(
        selected.filter((e) => e.path.startsWith(DEPLOYED)).map((e) => e.path.slice(DEPLOYED.length).split('/')[0]!),
      ),
    ];
    const crossMaker = migration && source.manufacturer !== target.manufacturer;
    for (const node of nodes) {
      const base = `${DEPLOYED}${node}`;
      const appId = (await text(byPath.get(`${base}/ID`))) ?? node;
      if (req.apps?.length && !req.apps.includes(appId) && !req.apps.includes(node)) continue;
      const version = await text(byPath.get(`${base}/Version`));
      const name = (await text(byPath.get(`${base}/Name`))) ?? appId;
      if (!version) {
        notCarried.push({ path: base, reason: `${name}: the snapshot records no version` });
        continue;
      }
      const pkg = await findAppPackage(ctx.db, appId, version);
      const installed =
        (await text(current.get(`${base}/ID`))) === appId ? await text(current.get(`${base}/Version`)) : undefined;
      if (!pkg) notCarried.push({ path: base, reason: `${name} ${version} is not in the app catalog` });
      else if (crossMaker && pkg.systemOf && pkg.systemOf !== target.manufacturer)
        notCarried.push({
          path: base,
          reason: `${name} is a ${pkg.systemOf} system app: never installed on a ${target.manufacturer} handset`,
        });
      else if (!appFitsModel(pkg, target.manufacturer, target.model))
        notCarried.push({
          path: base,
          reason: `${name} ${version} is not available for ${target.manufacturer} ${target.model}`,
        });
      else
        steps.push({
          seq: ++seq,
          kind: 'app',
          op: installed === version ? 'unchanged' : 'install',
          path: base,
          appId,
          name,
          version,
          before: installed ?? null,
          after: version,
          packageId: pkg.id,
          bytes: installed === version ? 0 : pkg.size,
        });
    }
  }

  // 3. Nodes: settings, certificates, app data. Interior nodes first, parents before children.
  const nodeCats: Category[] = categories.filter((c) => c === 'settings' || c === 'certificates' || c === 'appdata');
  const carriable = (e: ManifestEntry) =>
    nodeCats.includes(e.category) && e.format !== 'node' && !!e.hash && !isIdentityNode(e.path);
  const values = selected.filter(carriable);
  const carried: ManifestEntry[] = [];
  for (const e of values) {
    if (!targetRoots.some((r) => under(e.path, r.path))) {
      notCarried.push({ path: e.path, reason: `the ${target.manufacturer} ${target.model} profile has no such node` });
      continue;
    }
    const bound = e.path.match(/^(\.\/Certificates\/[^/]+)\//)?.[1];
    if (bound && migration && (await text(byPath.get(`${bound}/DeviceBound`))) === 'true') {
      if (!reissue.includes(bound)) {
        reissue.push(bound);
        notCarried.push({
          path: bound,
          reason: 'bound to the old handset: to be issued anew for the new one, not copied',
        });
      }
      continue;
    }
    carried.push(e);
  }
  const haveInteriors = known ? interiorsOf(current.values()) : new Set<string>();
  const interiors = new Set<string>();
  for (const e of carried) {
    for (let p = parentOf(e.path); p.split('/').length > 2; p = parentOf(p)) interiors.add(p);
  }
  for (const p of [...interiors].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))) {
    steps.push({
      seq: ++seq,
      kind: 'node',
      op: haveInteriors.has(p) ? 'exists' : 'ensure',
      path: p,
      category: byPath.get(p)?.category ?? carried.find((e) => under(e.path, p))!.category,
      bytes: 0,
    });
  }
  // Values the handset changed after the backup (same handset, a newer tree): dated, and kept when asked.
  const sameDeviceNewer = !!known && !migration && known.takenAt > takenAt;
  const differing = new Map<string, string>();
  for (const e of carried) {
    const cur = current.get(e.path);
    if (sameDeviceNewer && cur?.hash && cur.hash !== e.hash && !known.restored.has(e.path))
      differing.set(e.path, cur.hash);
  }
  const newerAt = differing.size ? await changedWhen(ctx, target.id, takenAt, known!.takenAt, differing) : new Map();
  const keep = req.keep ?? [];
  for (const e of carried) {
    const group = recordGroup(e);
    const cur = current.get(e.path);
    const diff: ValueOp = known ? valueOpAgainst(e.hash!, cur) : 'replace';
    const at = newerAt.get(e.path);
    const kept = diff !== 'unchanged' && ((req.keepNewer && at !== undefined) || keep.some((k) => under(e.path, k)));
    const op: ValueOp = kept ? 'keep' : diff;
    steps.push({
      seq: ++seq,
      kind: 'node',
      op,
      path: e.path,
      category: e.category,
      format: e.format,
      ...(e.type ? { type: e.type } : {}),
      size: e.size,
      hash: e.hash!,
      before: cur?.hash ?? null,
      after: e.hash!,
      ...(diff !== 'unchanged' ? { ...(cur ? { was: await side(cur) } : {}), will: await side(e) } : {}),
      ...(at !== undefined ? { newer: { at } } : {}),
      ...(group ? { group } : {}),
      bytes: op === 'replace' || op === 'add' ? e.size : 0,
    });
  }
  // Values the backup did not have, removed only when asked.
  if (req.removeExtra && known) {
    for (const e of current.values()) {
      if (!carriable(e) || !inSelection(e) || byPath.get(e.path)?.hash) continue;
      if (!targetRoots.some((r) => under(e.path, r.path))) continue;
      steps.push({
        seq: ++seq,
        kind: 'node',
        op: 'delete',
        path: e.path,
        category: e.category,
        before: e.hash!,
        after: null,
        was: await side(e),
        bytes: 0,
      });
    }
  }
  const summary = summarise(steps, notCarried.length);
  if (!steps.some((s) => s.kind !== 'node' || s.op !== 'ensure') && !summary.unchanged) {
    throw new PlanError(
      'empty',
      notCarried.length ? `nothing can be restored: ${notCarried[0]!.reason}` : 'nothing to restore in that selection',
    );
  }

  const bytes = steps.reduce((n, s) => n + (sends(s) ? s.bytes : 0), 0);
  const rates = req.rates ?? {
    homePerMb: ctx.env.COST_PER_MB_HOME,
    roamingPerMb: ctx.env.COST_PER_MB_ROAMING,
    currency: ctx.env.COST_CURRENCY,
  };
  const cost = quote(bytes, parseNetwork(target.networkState), rates);
  return {
    v: 2,
    snapshotId: snapshot.id,
    snapshotTakenAt: takenAt,
    sourceDevId: source.devId,
    targetDevId: target.devId,
    migration,
    selection: {
      categories,
      ...(req.paths?.length ? { paths: req.paths } : {}),
      ...(req.apps?.length ? { apps: req.apps } : {}),
    },
    comparedWith: known ? { snapshotId: known.snapshotId, takenAt: known.takenAt } : null,
    keepNewer: req.keepNewer ?? false,
    keep,
    removeExtra: req.removeExtra ?? false,
    ...(req.undoOf ? { undoOf: req.undoOf } : {}),
    summary,
    steps,
    notCarried,
    reissue,
    bytes,
    cost,
    prompt: promptFor(steps.filter(sends), bytes, cost, takenAt, migration, categories),
    firmwareDowngradeAllowed: req.allowFirmwareDowngrade ?? false,
  };
}

/** The counts the dry run leads with. */
export function summarise(steps: readonly PlanStep[], notCarried: number): PlanSummary {
  const out: PlanSummary = { unchanged: 0, change: 0, add: 0, remove: 0, keep: 0, notCarried };
  for (const s of steps) {
    if (s.kind === 'app' && s.op === 'unchanged') out.unchanged++;
    else if (s.kind === 'firmware' || s.kind === 'app') out[s.before ? 'change' : 'add']++;
    else if (s.op === 'unchanged') out.unchanged++;
    else if (s.op === 'replace' || (s.op as string) === 'write') out.change++;
    else if (s.op === 'add') out.add++;
    else if (s.op === 'keep') out.keep++;
    else if (s.op === 'delete') out.remove++;
  }
  return out;
}

/** Nodes that say who the handset is (DevInfo, DMAcc): never written back, even to itself. */
export function isIdentityNode(path: string): boolean {
  return under(path, './DevInfo') || under(path, './DevDetail') || under(path, './DMAcc');
}

const CATEGORY_WORDS: Record<Category, string> = {
  settings: 'settings',
  certificates: 'certificates',
  appdata: 'ringtones, wallpapers and screensavers',
  applications: 'apps',
  firmware: 'firmware',
};

/** What the handset's user is asked: what is sent (`steps`), or the selection when nothing differs yet. */
export function promptFor(
  steps: readonly PlanStep[],
  bytes: number,
  cost: CostQuote,
  takenAt: number,
  migration: boolean,
  selected: readonly Category[],
): RestorePlan['prompt'] {
  const parts: string[] = [];
  const fw = steps.find((s) => s.kind === 'firmware');
  if (fw && fw.kind === 'firmware') parts.push(`firmware ${fw.to}`);
  const apps = steps.filter((s) => s.kind === 'app').length;
  if (apps) parts.push(`${apps} app${apps === 1 ? '' : 's'}`);
  const cats = [
    ...new Set(steps.flatMap((s) => (s.kind === 'node' && s.op !== 'ensure' && sends(s) ? [s.category] : []))),
  ];
  for (const c of cats) parts.push(CATEGORY_WORDS[c]);
  if (!parts.length) for (const c of selected) parts.push(CATEGORY_WORDS[c]);
  const when = new Date(takenAt).toISOString().slice(0, 10);
  const what = `${migration ? 'Copy' : 'Restore'} ${parts.join(', ')} from your backup of ${when} (${formatSize(bytes)})`;
  const charges = cost.network === 'wifi' ? 'No charges on Wi-Fi.' : `Charges may apply: ${cost.text}.`;
  return {
    code: '1103',
    text: `${what}? ${charges}`,
    choices: [...CHOICES],
    fallback: { code: '1101', text: `${what}? ${charges} OK to go ahead now?` },
    version: PROMPT_VERSION,
  };
}

/** Computes and stores a plan (the dry run); its id is what execution takes. */
export async function createPlan(
  ctx: AppContext,
  req: PlanRequest,
  actor: string,
): Promise<{ row: RestorePlanRow; plan: RestorePlan }> {
  const plan = await computePlan(ctx, req);
  const json = JSON.stringify(plan);
  const source = (await getDeviceByDevId(ctx.db, plan.sourceDevId))!;
  const target = (await getDeviceByDevId(ctx.db, plan.targetDevId))!;
  const row = await insertPlan(ctx.db, {
    snapshotId: plan.snapshotId,
    sourceDeviceId: source.id,
    targetDeviceId: target.id,
    plan: json,
    planHash: createHash('sha256').update(json).digest('hex'),
    createdBy: actor,
  });
  return { row, plan };
}

/** createPlan for the API: the plan stored, and audited under `actor` with its size and whether it may take firmware back. */
export async function planRestoreAs(
  ctx: AppContext,
  req: PlanRequest,
  actor: string,
): Promise<{ row: RestorePlanRow; plan: RestorePlan }> {
  const { row, plan } = await createPlan(ctx, req, actor);
  await insertAudit(ctx.db, {
    actor,
    action: 'restore.planned',
    deviceId: row.targetDeviceId,
    details: {
      planId: row.id,
      snapshotId: plan.snapshotId,
      steps: plan.steps.length,
      summary: plan.summary,
      bytes: plan.bytes,
      firmwareDowngradeAllowed: plan.firmwareDowngradeAllowed,
    },
  });
  return { row, plan };
}
