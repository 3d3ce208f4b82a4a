/**
 * Restore plans. A plan takes a complete snapshot, or part of it (categories, single apps,
 * single nodes), and a target handset (the same one, or another of the subscriber's), and
 * lists every step: firmware back to the recorded version through FUMO, apps reinstalled
 * at their recorded versions through SCOMO, then the nodes (settings, certificates, app
 * data), records that belong together written in one Atomic. It carries the bytes, the
 * cost on the handset's current network and the exact prompt its user will see, and says
 * what will not be carried and why. The plan is stored; executing it runs that plan.
 *
 * The plan writes every node it selects rather than only those that differ: what the
 * handset holds now is known only from its last backup, which may predate the damage
 * being repaired, and the read-back after writing shows what actually changed.
 */
import { AppError, type AppErrorKind } from '../core/errors';
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
import { formatSize, quote, type CostQuote, type Rates } from './cost';

export const PROMPT_VERSION = 'restore-consent/1';
export const CHOICES = ['Now', 'Later on Wi-Fi', 'Reject'] as const;

const DEPLOYED = './SCOMO/Inventory/Deployed/';
const FWV = './DevDetail/FwV';

export type PlanStep =
  | { seq: number; kind: 'firmware'; path: string; from: string | null; to: string; packageId: string; bytes: number }
  | {
      seq: number;
      kind: 'app';
      path: string;
      appId: string;
      name: string;
      version: string;
      packageId: string;
      bytes: number;
    }
  /** An interior node the values need; Added when the handset lacks it (418 = it was there). */
  | { seq: number; kind: 'node'; op: 'ensure'; path: string; category: Category; bytes: 0 }
  /** A value: Replaced, or Added when the node is gone. `group` ties a record's leaves into one Atomic. */
  | {
      seq: number;
      kind: 'node';
      op: 'write';
      path: string;
      category: Category;
      format: string;
      type?: string;
      size: number;
      hash: string;
      group?: string;
      bytes: number;
    };

export interface NotCarried {
  path: string;
  reason: string;
}

export interface RestorePlan {
  v: 1;
  snapshotId: string;
  snapshotTakenAt: number;
  sourceDevId: string;
  targetDevId: string;
  migration: boolean;
  selection: { categories: Category[]; paths?: string[]; apps?: string[] };
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

export class PlanError extends AppError {
  declare readonly code: keyof typeof PLAN_KIND;
  constructor(code: keyof typeof PLAN_KIND, message: string) {
    super(PLAN_KIND[code], message, { code });
    this.name = 'PlanError';
  }
}

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

  const texts = new Map<string, string>();
  const text = async (e: ManifestEntry | undefined): Promise<string | undefined> => {
    if (!e?.hash || e.size > 4096) return undefined;
    if (!texts.has(e.hash))
      texts.set(e.hash, new TextDecoder().decode((await ctx.blobs.get(e.hash)) ?? new Uint8Array(0)));
    return texts.get(e.hash);
  };
  const byPath = new Map(entries.map((e) => [e.path, e]));
  const selected = entries.filter(
    (e) =>
      categories.includes(e.category) &&
      (!req.paths?.length || req.paths.some((p) => under(e.path, p) || under(p, e.path))),
  );

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
          path: FWV,
          from: have,
          to: want,
          packageId: pkg.id,
          bytes: pkg.size,
        });
      }
    }
  }

  // 2. Applications, at their recorded versions.
  if (categories.includes('applications')) {
    const nodes = [
      ...new Set(
        selected.filter((e) => e.path.startsWith(DEPLOYED)).map((e) => e.path.slice(DEPLOYED.length).split('/')[0]!),
      ),
    ];
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
      if (!pkg) notCarried.push({ path: base, reason: `${name} ${version} is not in the app catalog` });
      else if (!appFitsModel(pkg, target.manufacturer, target.model))
        notCarried.push({
          path: base,
          reason: `${name} ${version} is not available for ${target.manufacturer} ${target.model}`,
        });
      else
        steps.push({ seq: ++seq, kind: 'app', path: base, appId, name, version, packageId: pkg.id, bytes: pkg.size });
    }
  }

  // 3. Nodes: settings, certificates, app data. Interior nodes first, parents before children.
  const nodeCats: Category[] = categories.filter((c) => c === 'settings' || c === 'certificates' || c === 'appdata');
  const values = selected.filter(
    (e) => nodeCats.includes(e.category) && e.format !== 'node' && e.hash && !isIdentityNode(e.path),
  );
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
  const interiors = new Set<string>();
  for (const e of carried) {
    for (let p = parentOf(e.path); p.split('/').length > 2; p = parentOf(p)) interiors.add(p);
  }
  for (const p of [...interiors].sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1))) {
    steps.push({
      seq: ++seq,
      kind: 'node',
      op: 'ensure',
      path: p,
      category: byPath.get(p)?.category ?? carried.find((e) => under(e.path, p))!.category,
      bytes: 0,
    });
  }
  for (const e of carried) {
    const group = recordGroup(e);
    steps.push({
      seq: ++seq,
      kind: 'node',
      op: 'write',
      path: e.path,
      category: e.category,
      format: e.format,
      ...(e.type ? { type: e.type } : {}),
      size: e.size,
      hash: e.hash!,
      ...(group ? { group } : {}),
      bytes: e.size,
    });
  }
  if (!steps.some((s) => s.kind !== 'node' || s.op === 'write')) {
    throw new PlanError(
      'empty',
      notCarried.length ? `nothing can be restored: ${notCarried[0]!.reason}` : 'nothing to restore in that selection',
    );
  }

  const bytes = steps.reduce((n, s) => n + s.bytes, 0);
  const rates = req.rates ?? {
    homePerMb: ctx.env.COST_PER_MB_HOME,
    roamingPerMb: ctx.env.COST_PER_MB_ROAMING,
    currency: ctx.env.COST_CURRENCY,
  };
  const cost = quote(bytes, parseNetwork(target.networkState), rates);
  return {
    v: 1,
    snapshotId: snapshot.id,
    snapshotTakenAt: snapshot.completedAt ?? snapshot.startedAt,
    sourceDevId: source.devId,
    targetDevId: target.devId,
    migration,
    selection: {
      categories,
      ...(req.paths?.length ? { paths: req.paths } : {}),
      ...(req.apps?.length ? { apps: req.apps } : {}),
    },
    steps,
    notCarried,
    reissue,
    bytes,
    cost,
    prompt: promptFor(steps, bytes, cost, snapshot.completedAt ?? snapshot.startedAt, migration),
    firmwareDowngradeAllowed: req.allowFirmwareDowngrade ?? false,
  };
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

function promptFor(
  steps: PlanStep[],
  bytes: number,
  cost: CostQuote,
  takenAt: number,
  migration: boolean,
): RestorePlan['prompt'] {
  const parts: string[] = [];
  const fw = steps.find((s) => s.kind === 'firmware');
  if (fw && fw.kind === 'firmware') parts.push(`firmware ${fw.to}`);
  const apps = steps.filter((s) => s.kind === 'app').length;
  if (apps) parts.push(`${apps} app${apps === 1 ? '' : 's'}`);
  const cats = [
    ...new Set(steps.filter((s) => s.kind === 'node' && s.op === 'write').map((s) => s.category as Category)),
  ];
  for (const c of cats) parts.push(CATEGORY_WORDS[c]);
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
      bytes: plan.bytes,
      firmwareDowngradeAllowed: plan.firmwareDowngradeAllowed,
    },
  });
  return { row, plan };
}
