/**
 * Backups that move only what changed. Where the handset's model implements the B&R MO's
 * digests (docs/backup-restore-mo.md, "Digests"), a backup asks for the digest of each root
 * it covers and compares it with the same digest computed over the device's last complete
 * snapshot's manifest (so nothing extra is stored): an equal root is carried from that
 * manifest as it is; an unequal one is opened one level (its children's digests) and so on
 * down, and only leaves whose value is not already known by its SHA-256 are fetched. The
 * manifest that results is byte-equal to a full fetch's.
 *
 * A model that answers the digest Exec with "no such node" is remembered as having none
 * (a full fetch, as before, asked again after a while: a firmware update may bring it). Every
 * `verifyEveryBackups` backups or `verifyEveryDays` days (the policy's), a backup walks the
 * whole selection anyway and checks the root digests the handset claimed against the full
 * result: a difference is a handset defect, recorded on the snapshot and the model; the full
 * result is what is kept.
 */
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import { findModel, recordDigestDefect, setModelChangeDetection, type ModelRow } from '@/db/queries/profiles';
import { getSnapshot, listSnapshots, type StagedEntry } from '@/db/queries/snapshots';
import { insertAudit } from '@/db/queries/audit';
import type { AppContext } from '../core/context';
import { DecodeError } from '../omadm/errors';
import {
  BR_DIGEST,
  encodeDigestRequest,
  MAX_DIGEST_PATHS,
  parseDigestResult,
  subtreeDigest,
  type DigestEntry,
  type DigestResult,
} from '../omadm/mo/br-digest';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import { base64Decode, utf8Decode } from '../omadm/util/bytes';
import { parseChangeProperty, propUri, splitPropUri, type ChangeProperty } from '../omadm/mo/tnd-props';
import { hexToBytes } from '@noble/hashes/utils.js';
import { decodeManifest, type ManifestEntry } from './manifest';
import { categoryOf } from './profiles';
import type { Category } from '../omadm/mo/backup-restore';
import type { PolicyRow } from '@/db/queries/policies';

export type ChangeDetection = 'full' | 'digest' | 'verno' | 'tstamp' | 'verify';

/** Backups that trusted the handset's word (digests or node properties) rather than looking at everything. */
const TRUSTED: ReadonlySet<string | null> = new Set(['digest', 'verno', 'tstamp']);

/** A model found without digests is asked again after this long (a firmware update may add them). */
const RECHECK_NONE_MS = 30 * 24 * 3600_000;
/** Exec statuses meaning "this handset has no digests" (rather than a passing failure). */
const NO_DIGESTS = new Set([404, 405, 406, 501]);
/** A changed subtree of at most this many nodes (in the last snapshot) is listed whole, not level by level. */
const DEEP_MAX = 16;

/** What a backup in progress keeps about its change detection (inside the job's progress). */
export interface DetectProgress {
  mode: ChangeDetection;
  /** The last complete snapshot the digests are compared with. */
  prev?: { snapshotId: string; rootHash: string };
  modelId?: string;
  /** Digest requests in flight, by their sequence number. */
  requests: Record<string, { id: string; paths: string[]; children: string[]; deep: string[]; exec?: number }>;
  /** Verify mode: the root digests the handset claimed, to check against the full walk. */
  claimed?: Record<string, string>;
  /** Why digests were given up for this backup, if they were. */
  fellBack?: string;
  /**
   * Subtrees the digests found unchanged, taken from the last snapshot's manifest when the
   * backup completes rather than staged row by row (an unchanged handset's whole tree).
   */
  carried?: string[];
  /** What this backup already wrote on the model's row, so it is written once. */
  learned?: 'digest' | 'verno' | 'tstamp' | 'none';
  /**
   * The node property this backup reads (OMA DM TND `?prop=`), where the model has no digests
   * but keeps VerNo (preferred) or TStamp: read before the content it vouches for, kept with
   * the snapshot, compared by the next backup.
   */
  prop?: ChangeProperty;
  /** The model's properties are not known yet: both are asked of the roots, and what answers is learned. */
  probe?: boolean;
  /** Property values read in this backup, by path. */
  marks?: Record<string, string>;
  /** Answers of property works not complete yet (a handset may split them over messages), by work. */
  pending?: Record<string, PendingProps>;
}

/** What a property work's answers were so far: by requested URI, the value (null: none usable). */
interface PendingProps {
  /** A descent's interior node. */
  path?: string;
  props: Record<string, string | null>;
  /** A descent's plain Get of the interior node: its child names, or the status it had. */
  node?: { status: number; format?: string; type?: string; names?: string[] };
}

/** How this backup will find what changed, and against which snapshot. */
export async function planChangeDetection(
  db: Db,
  device: DeviceRow,
  policy: Pick<PolicyRow, 'verifyEveryBackups' | 'verifyEveryDays'>,
  now: number,
  /** The model's row when the caller has read it already (undefined in it: no such model). */
  found?: { model: ModelRow | undefined },
): Promise<DetectProgress> {
  const model = found
    ? found.model
    : device.manufacturer && device.model
      ? await findModel(db, device.manufacturer, device.model)
      : undefined;
  const known = model?.changeDetection;
  const prop = known === 'verno' ? 'VerNo' : known === 'tstamp' ? 'TStamp' : undefined;
  const base: Pick<DetectProgress, 'requests' | 'modelId' | 'learned' | 'prop'> = {
    requests: {},
    ...(model ? { modelId: model.id } : {}),
    // Already on the model's row: not written again by every backup ('none' is, to date it anew).
    ...(known && known !== 'none' ? { learned: known } : {}),
    ...(prop ? { prop } : {}),
  };
  if (knownWithout(model, now)) return { mode: 'full', ...base };
  // The newest complete snapshot taken over the air (a local backup's manifest is the handset's, not ours).
  const recent = (await listSnapshots(db, device.id, { status: 'complete', limit: 50 })).filter(
    (s) => s.trigger !== 'local' && s.rootHash,
  );
  const prev = recent[0];
  if (!prev?.rootHash) return { mode: 'full', ...base };
  const p = { ...base, prev: { snapshotId: prev.id, rootHash: prev.rootHash } };
  // Node properties compare with the values the last snapshot kept; without them, a full fetch that keeps some.
  if (prop && !readMarks(prev.changeMarks, prop)) return { mode: 'full', ...p };
  // A verification walk: after N backups that trusted the handset, or when the last full look is too old.
  const lastFull = recent.findIndex((s) => !TRUSTED.has(s.changeDetection));
  // None among the last 50: the last full look is older than anything counted, so it is due.
  const sinceFull = lastFull < 0 ? Number.POSITIVE_INFINITY : lastFull;
  const byCount = policy.verifyEveryBackups > 0 && sinceFull >= policy.verifyEveryBackups - 1;
  const fullAt = lastFull < 0 ? undefined : (recent[lastFull]!.completedAt ?? recent[lastFull]!.startedAt);
  const byAge =
    policy.verifyEveryDays > 0 && (fullAt === undefined || now - fullAt >= policy.verifyEveryDays * 86400_000);
  return { ...p, mode: byCount || byAge ? 'verify' : prop ? (prop === 'VerNo' ? 'verno' : 'tstamp') : 'digest' };
}

/** The property values a snapshot kept, if they are of `prop` (undefined: none, or another property's). */
export function readMarks(json: string | null | undefined, prop: ChangeProperty): Record<string, string> | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as { prop?: unknown; marks?: unknown };
    return v.prop === prop && v.marks && typeof v.marks === 'object' ? (v.marks as Record<string, string>) : undefined;
  } catch {
    return undefined;
  }
}

/** True when the model is known to have no digests and that was learned recently. */
function knownWithout(model: ModelRow | undefined, now: number): boolean {
  return model?.changeDetection === 'none' && now - (model.changeDetectionAt ?? 0) < RECHECK_NONE_MS;
}

/** The Exec (with the request) and the Get of the result, as two works of the job: one message. */
export function digestWork(
  d: DetectProgress,
  seq: number,
  ids: { exec: string; get: string },
  snapshotId: string,
  paths: string[],
  children: string[],
  deep: string[],
): WorkRequest[] {
  const id = `${snapshotId}.${seq}`;
  d.requests[String(seq)] = { id, paths, children, deep };
  return [
    {
      id: ids.exec,
      kind: 'exec',
      path: BR_DIGEST.Exec,
      data: encodeDigestRequest({ id, paths, children, deep }),
      format: 'chr',
      type: 'application/json',
    },
    { id: ids.get, kind: 'get', paths: [BR_DIGEST.Result] },
  ];
}

/** The last snapshot's manifest, indexed for the comparisons below. */
export class PreviousManifest {
  private readonly byPath = new Map<string, ManifestEntry>();
  private readonly byHash = new Map<string, ManifestEntry>();
  private readonly digests = new Map<string, string>();
  private readonly sorted: ManifestEntry[];

  constructor(entries: readonly ManifestEntry[]) {
    this.sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const e of this.sorted) {
      this.byPath.set(e.path, e);
      if (e.hash) this.byHash.set(e.hash, e);
    }
  }

  /**
   * A manifest is read by its hash (its content cannot change), so the decoded form is kept
   * for the next message or backup of the handset: an unchanged handset's backup reads its
   * last manifest twice (the digests, then the entries it carries), and the next one again.
   */
  static async load(ctx: AppContext, rootHash: string): Promise<PreviousManifest | undefined> {
    const cached = manifests.get(rootHash);
    if (cached) {
      manifests.delete(rootHash);
      manifests.set(rootHash, cached);
      return cached;
    }
    const bytes = await ctx.blobs.get(rootHash);
    if (!bytes) return undefined;
    const m = new PreviousManifest(decodeManifest(bytes).entries);
    manifests.set(rootHash, m);
    cachedEntries += m.size;
    for (const [hash, old] of manifests) {
      if (cachedEntries <= CACHE_ENTRIES) break;
      manifests.delete(hash);
      cachedEntries -= old.size;
    }
    return m;
  }

  get size(): number {
    return this.sorted.length;
  }

  at(path: string): ManifestEntry | undefined {
    return this.byPath.get(path);
  }

  withHash(hash: string): ManifestEntry | undefined {
    return this.byHash.get(hash);
  }

  /** The entries of the subtree at `path`, itself first (sorted by path: a contiguous run after it). */
  subtree(path: string): ManifestEntry[] {
    const out: ManifestEntry[] = [];
    const self = this.byPath.get(path);
    if (self) out.push(self);
    const prefix = `${path}/`;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.sorted[mid]!.path < prefix) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.sorted.length && this.sorted[i]!.path.startsWith(prefix); i++) out.push(this.sorted[i]!);
    return out;
  }

  /**
   * The interior nodes of these subtrees (roots first). A full fetch asks their properties
   * before their structure: the values kept then vouch for listings read after them, and the
   * next backup's descent opens only the nodes that changed.
   */
  interior(roots: readonly string[]): string[] {
    const out = new Set(roots);
    for (const r of roots) for (const e of this.subtree(r)) if (e.format === 'node') out.add(e.path);
    return [...out];
  }

  /** The direct children of `path` (their paths). */
  children(path: string): string[] {
    const depth = path.split('/').length + 1;
    return this.subtree(path)
      .filter((e) => e.path !== path && e.path.split('/').length === depth)
      .map((e) => e.path);
  }

  /** The digest a handset would report for this path, had it not changed since (kept: the manifest never changes). */
  digest(path: string): string | undefined {
    const self = this.byPath.get(path);
    if (!self) return undefined;
    if (self.format !== 'node') return self.hash;
    let d = this.digests.get(path);
    if (d === undefined) {
      d = manifestDigest(path, this.subtree(path));
      this.digests.set(path, d);
    }
    return d;
  }
}

/** Decoded manifests by hash, least recently used first; at most this many entries in all. */
const manifests = new Map<string, PreviousManifest>();
const CACHE_ENTRIES = 200_000;
let cachedEntries = 0;

/** The B&R digest of a subtree, computed over manifest entries (the canonical form of br-digest.ts). */
export function manifestDigest(
  root: string,
  entries: readonly Pick<ManifestEntry, 'path' | 'format' | 'type' | 'hash'>[],
): string {
  return subtreeDigest(
    entries.map((e) => ({
      rel: e.path === root ? '' : e.path.slice(root.length + 1),
      format: e.format,
      type: e.type,
      ...(e.hash ? { valueHash: hexToBytes(e.hash) } : {}),
    })),
  );
}

/**
 * The entries of the carried subtrees, from the last snapshot's manifest, each filed under
 * the category its root has now (a profile may have moved it). Undefined when that snapshot
 * is gone: it was removed while this backup ran (its content may be collected), so this
 * backup cannot be completed from it.
 */
export async function carriedEntries(
  ctx: AppContext,
  d: DetectProgress,
  roots: ReadonlyArray<{ path: string; category: Category }>,
): Promise<ManifestEntry[] | undefined> {
  if (!d.carried?.length || !d.prev) return [];
  const still = await getSnapshot(ctx.db, d.prev.snapshotId);
  if (still?.status !== 'complete' || still.rootHash !== d.prev.rootHash) return undefined;
  const prev = await PreviousManifest.load(ctx, d.prev.rootHash);
  if (!prev) return undefined;
  const out: ManifestEntry[] = [];
  for (const path of d.carried) {
    for (const e of prev.subtree(path)) {
      const category = categoryOf(roots, e.path);
      if (category) out.push({ ...e, category });
    }
  }
  return out;
}

/** What the digest answers of one message ask of the engine. */
export interface DigestOutcome {
  /** Entries known by their hash in the last snapshot, and interior nodes the digests described. */
  stage: StagedEntry[];
  /** Subtrees carried whole from the last snapshot (see DetectProgress.carried). */
  carried: string[];
  /** Leaves to fetch (their value is not known by its hash). */
  leaves: string[];
  /** Subtrees to fetch in full (?list=Struct, walked where refused): digests could not be used there. */
  structure: string[];
  /** Interior nodes whose children's digests are wanted next. */
  children: string[];
  /** Small interior nodes whose every descendant's digest is wanted next (one round trip instead of one per level). */
  deep: string[];
  missing: string[];
  unreadable: string[];
  /** Roots whose node properties are asked next (digests proved absent: perhaps the model keeps VerNo or TStamp). */
  probe: string[];
}

/**
 * Reads the digest Execs' statuses and results of one message. `kindOf` names a work by its
 * local id's kind: 'x' the Exec, 'd' the Get of the result; the number after is the request.
 */
export async function onDigestEvents(
  ctx: AppContext,
  d: DetectProgress,
  snapshotId: string,
  roots: ReadonlyArray<{ path: string; category: Category }>,
  events: ReadonlyArray<{ local: string; e: SessionEvent }>,
): Promise<DigestOutcome> {
  const out: DigestOutcome = {
    stage: [],
    carried: [],
    leaves: [],
    structure: [],
    children: [],
    deep: [],
    missing: [],
    unreadable: [],
    probe: [],
  };
  const results: Array<{ seq: string; value: Uint8Array | undefined; status: number }> = [];
  for (const { local, e } of events) {
    const seq = local.slice(1);
    const req = d.requests[seq];
    if (!req) continue;
    if (local.startsWith('x') && e.type === 'status') req.exec = e.status;
    if (local.startsWith('d') && e.type === 'result')
      results.push({ seq, status: e.status, value: e.value !== undefined ? base64Decode(e.value) : undefined });
  }
  if (!results.length) return out;
  const prev = d.prev && d.mode === 'digest' ? await PreviousManifest.load(ctx, d.prev.rootHash) : undefined;
  const now = Date.now();
  for (const r of results) {
    const req = d.requests[r.seq]!;
    delete d.requests[r.seq];
    let result: DigestResult | undefined;
    if (req.exec === 200 && r.status === 200) {
      try {
        result = parseDigestResult(r.value);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }
    if (!result || result.id !== req.id || (d.mode === 'digest' && !prev)) {
      // No digests this time: what this request covered is fetched in full, and the rest of
      // the backup too (a handset that answered once wrongly is not asked again in this backup).
      d.fellBack ??= !result
        ? `digests unavailable (Exec ${req.exec ?? 'unanswered'}, result ${r.status})`
        : result.id !== req.id
          ? 'the digest result answered another request'
          : 'the last snapshot could not be read';
      d.mode = 'full';
      if (req.exec !== undefined && NO_DIGESTS.has(req.exec)) {
        // No digests: the node properties are asked of the same roots before their structure,
        // and what answers is learned (onPropEvents); neither answering, the model has none.
        d.probe = true;
        out.probe.push(...(prev ? prev.interior(req.paths) : req.paths));
      }
      out.structure.push(...req.paths, ...req.children, ...req.deep);
      continue;
    }
    await learn(ctx.db, d, 'digest', now);
    if (d.mode === 'full') {
      // Digests were given up earlier in this backup: what this request covered is fetched in full.
      out.structure.push(...req.paths, ...req.children, ...req.deep);
      continue;
    }
    if (d.mode === 'verify') {
      // The claim, kept to check against the full walk that follows.
      d.claimed ??= {};
      for (const n of result.nodes) if ('digest' in n && req.paths.includes(n.path)) d.claimed[n.path] = n.digest;
      out.structure.push(...req.paths);
      continue;
    }
    compare(result, req, prev!, snapshotId, roots, out);
  }
  if (d.mode !== 'digest') {
    // Requests still in flight are answered in full as they come; nothing more is asked.
    out.children = [];
    out.deep = [];
  }
  return out;
}

async function learn(
  db: Db,
  d: DetectProgress,
  how: NonNullable<DetectProgress['learned']>,
  now: number,
): Promise<void> {
  if (!d.modelId || d.learned === how) return;
  await setModelChangeDetection(db, d.modelId, how, now);
  d.learned = how;
}

function compare(
  result: DigestResult,
  req: { paths: string[]; children: string[]; deep: string[] },
  prev: PreviousManifest,
  snapshotId: string,
  roots: ReadonlyArray<{ path: string; category: Category }>,
  out: DigestOutcome,
): void {
  const asked = new Set(req.paths);
  const staged = (
    path: string,
    e: Pick<ManifestEntry, 'format' | 'type' | 'size' | 'hash'>,
  ): StagedEntry | undefined => {
    const category = categoryOf(roots, path);
    if (!category) return undefined;
    return { snapshotId, path, category, format: e.format, type: e.type ?? null, size: e.size, hash: e.hash ?? null };
  };
  const carry = (path: string) => out.carried.push(path);
  /** Carried subtrees of a deep listing: their descendants in the same listing are already staged. */
  let carried: string[] = [];
  /**
   * One node the handset described: carried, fetched or opened further. `listed`: its
   * descendants are in the same (deep) listing, so a changed interior node is not opened again.
   */
  const visit = (path: string, n: DigestEntry, listed: boolean) => {
    if (!categoryOf(roots, path)) return; // outside what was asked for: a hostile answer, ignored
    if (carried.some((c) => path.startsWith(`${c}/`))) return;
    if (n.format !== 'node') {
      const known = prev.at(path)?.hash === n.digest ? prev.at(path) : prev.withHash(n.digest);
      const s = known ? staged(path, { format: n.format, type: n.type, size: known.size, hash: n.digest }) : undefined;
      if (s) out.stage.push(s);
      else out.leaves.push(path);
      return;
    }
    const before = prev.at(path);
    if (before?.format === 'node' && prev.digest(path) === n.digest) {
      carried.push(path);
      return carry(path);
    }
    const s = staged(path, { format: 'node', type: n.type, size: 0 });
    if (s) out.stage.push(s);
    if (listed) return;
    // A small subtree (as the last snapshot knew it) is listed whole in one round trip; a large
    // one a level at a time, so an unchanged half of it is never listed at all.
    if (prev.subtree(path).length <= DEEP_MAX) out.deep.push(path);
    else out.children.push(path);
  };
  for (const n of result.nodes) {
    if (!asked.has(n.path)) continue;
    asked.delete(n.path);
    if ('status' in n) {
      if (n.status === 404) out.missing.push(n.path);
      else if (n.status === 401 || n.status === 403 || n.status === 405) out.unreadable.push(n.path);
      else out.structure.push(n.path);
      continue;
    }
    visit(n.path, n, false);
  }
  // A path the handset did not answer is fetched in full rather than guessed.
  out.structure.push(...asked);
  const listed = new Set(req.children);
  const deep = new Set(req.deep);
  for (const l of result.lists) {
    const isDeep = deep.has(l.path);
    if (!listed.has(l.path) && !isDeep) continue;
    listed.delete(l.path);
    deep.delete(l.path);
    if (l.status !== undefined || !l.children) {
      out.structure.push(l.path);
      continue;
    }
    carried = [];
    // Parents before children (a carried subtree then hides its descendants).
    const entries = isDeep
      ? [...l.children].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      : l.children;
    for (const c of entries) visit(`${l.path}/${c.name}`, c, isDeep);
  }
  out.structure.push(...listed, ...deep);
}

/** The Gets of a probe: both properties of each root, before anything else of theirs is read. */
export function probeUris(paths: readonly string[]): string[] {
  return paths.flatMap((p) => [propUri(p, 'VerNo'), propUri(p, 'TStamp')]);
}

/**
 * Paths as a Get work of a backup with node properties: each node's property right before
 * the node itself, so the value kept for it never vouches for content read before it.
 */
export function withProps(d: DetectProgress | undefined, paths: readonly string[]): string[] {
  const prop = d?.prop;
  return prop ? paths.flatMap((p) => [propUri(p, prop), p]) : [...paths];
}

/** A descent into a changed interior node: the node itself (its child names), then each child's property as the last snapshot knew them. */
export function descentWork(
  d: DetectProgress,
  prev: PreviousManifest | undefined,
  local: string,
  path: string,
): string[] {
  (d.pending ??= {})[local] = { path, props: {} };
  const prop = d.prop!;
  return [path, ...(prev?.children(path) ?? []).map((c) => propUri(c, prop))];
}

/** What the answers to property works ask of the engine next. */
export interface PropOutcome {
  /** Interior nodes a descent read (their entries). */
  stage: StagedEntry[];
  /** Subtrees whose property is unchanged: carried from the last snapshot. */
  carried: string[];
  /** Nodes to read afresh, node by node (changed leaves, new nodes). */
  walk: string[];
  /** Roots to fetch in full. */
  structure: string[];
  /** Interior nodes whose property changed: opened one level. */
  descend: string[];
  missing: string[];
  unreadable: string[];
}

/** Statuses of a node the server may not read (left out, as ?list=Struct leaves it out). */
const NOT_READABLE = new Set([401, 403, 405, 425]);

/**
 * The answers to the property works of one message: 'p' works (the roots' properties, or a
 * probe of both) and 'c' works (descents). A work is settled when it is done, so answers a
 * handset split over messages are read together. `others`: property answers that rode in the
 * engine's own walks and leaf Gets (values kept; checked in a verification walk).
 */
export async function onPropEvents(
  ctx: AppContext,
  d: DetectProgress,
  snapshotId: string,
  roots: ReadonlyArray<{ path: string; category: Category }>,
  events: ReadonlyArray<{ local: string; e: SessionEvent }>,
  others: ReadonlyArray<Extract<SessionEvent, { type: 'result' }>>,
): Promise<PropOutcome> {
  const out: PropOutcome = {
    stage: [],
    carried: [],
    walk: [],
    structure: [],
    descend: [],
    missing: [],
    unreadable: [],
  };
  const finished: string[] = [];
  for (const { local, e } of events) {
    const pend = ((d.pending ??= {})[local] ??= { props: {} });
    if (e.type === 'work-done') finished.push(local);
    if (e.type !== 'result') continue;
    const asked = splitPropUri(e.requested);
    if (asked) {
      const changeProp = asked.prop === 'VerNo' || asked.prop === 'TStamp' ? asked.prop : undefined;
      pend.props[e.requested] = e.status === 200 && changeProp ? propValue(changeProp, e.value) : null;
    } else {
      pend.node = {
        status: e.status,
        ...(e.format !== undefined ? { format: e.format } : {}),
        ...(e.mimeType !== undefined ? { type: e.mimeType } : {}),
        ...(e.status === 200 && e.value !== undefined ? { names: childNames(e.value) } : {}),
      };
    }
  }
  const verify = d.mode === 'verify';
  const needPrev = finished.length > 0 || (verify && others.length > 0);
  const prev = needPrev && d.prev ? await PreviousManifest.load(ctx, d.prev.rootHash) : undefined;
  const prevMarks = needPrev && d.prev && d.prop ? await previousMarks(ctx.db, d) : undefined;
  const marks = (d.marks ??= {});
  /** Keeps a value read; in a verification walk, an unchanged one is a claim checked against the walk. */
  const keep = (path: string, v: string | null) => {
    if (v === null) return;
    marks[path] = v;
    if (verify && prevMarks?.[path] === v) {
      const was = prev?.digest(path);
      if (was) (d.claimed ??= {})[path] = was;
    }
  };
  for (const e of others) {
    const asked = splitPropUri(e.requested);
    if (asked && d.prop && asked.prop === d.prop && categoryOf(roots, asked.path))
      keep(asked.path, e.status === 200 ? propValue(d.prop, e.value) : null);
  }
  for (const local of finished) {
    const pend = d.pending![local]!;
    delete d.pending![local];
    if (local.startsWith('p')) await settleRoots(ctx.db, d, pend, roots, prev, prevMarks, keep, out);
    else if (pend.path) settleDescent(d, pend, pend.path, snapshotId, roots, prev, prevMarks, keep, out);
  }
  return out;
}

/** The roots' properties: learned (a probe), kept, and compared where the backup trusts them. */
async function settleRoots(
  db: Db,
  d: DetectProgress,
  pend: PendingProps,
  roots: ReadonlyArray<{ path: string }>,
  prev: PreviousManifest | undefined,
  prevMarks: Record<string, string> | undefined,
  keep: (path: string, v: string | null) => void,
  out: PropOutcome,
): Promise<void> {
  if (d.probe) {
    d.probe = false;
    const answered = (prop: ChangeProperty) =>
      Object.entries(pend.props).filter(([uri, v]) => v !== null && splitPropUri(uri)?.prop === prop);
    const prop = answered('VerNo').length ? 'VerNo' : answered('TStamp').length ? 'TStamp' : undefined;
    await learn(db, d, prop === 'VerNo' ? 'verno' : prop === 'TStamp' ? 'tstamp' : 'none', Date.now());
    if (!prop) return;
    d.prop = prop;
    for (const [uri, v] of answered(prop)) keep(splitPropUri(uri)!.path, v);
    return; // the structure of these roots is already on its way
  }
  const prop = d.prop!;
  for (const [uri, v] of Object.entries(pend.props)) {
    const asked = splitPropUri(uri);
    if (asked?.prop !== prop) continue;
    keep(asked.path, v);
    // A full fetch or a verification walk already asked for the structure: only the values are kept.
    if (d.mode === 'full' || d.mode === 'verify' || !roots.some((r) => r.path === asked.path)) continue;
    const before = prev?.at(asked.path);
    if (!before || !prevMarks) out.structure.push(asked.path);
    else if (v !== null && prevMarks[asked.path] === v) out.carried.push(asked.path);
    else if (before.format === 'node') out.descend.push(asked.path);
    else out.walk.push(asked.path);
  }
}

/** One level of a changed interior node: its children carried, read afresh, or opened further. */
function settleDescent(
  d: DetectProgress,
  pend: PendingProps,
  path: string,
  snapshotId: string,
  roots: ReadonlyArray<{ path: string; category: Category }>,
  prev: PreviousManifest | undefined,
  prevMarks: Record<string, string> | undefined,
  keep: (path: string, v: string | null) => void,
  out: PropOutcome,
): void {
  const node = pend.node;
  const isRoot = roots.some((r) => r.path === path);
  if (!node) return void out.structure.push(path); // unanswered: fetched in full rather than guessed
  if (node.status === 404) return void (isRoot ? out.missing.push(path) : undefined);
  if (NOT_READABLE.has(node.status)) return void out.unreadable.push(path);
  if (node.status !== 200) return void out.structure.push(path);
  // Now a leaf (or a listing that does not read): read it afresh as it is.
  if ((node.format ?? '').toLowerCase() !== 'node' || !node.names) return void out.walk.push(path);
  const category = categoryOf(roots, path);
  if (!category) return;
  out.stage.push({ snapshotId, path, category, format: 'node', type: node.type ?? null, size: 0, hash: null });
  const prop = d.prop!;
  for (const name of node.names) {
    const child = `${path}/${name}`;
    const v = pend.props[propUri(child, prop)] ?? null;
    keep(child, v);
    const before = prev?.at(child);
    if (!before)
      out.walk.push(child); // new here: read whole
    else if (v !== null && prevMarks?.[child] === v) out.carried.push(child);
    else if (before.format === 'node') out.descend.push(child);
    else out.walk.push(child);
  }
}

/** A property's value as kept, or null when the answer is not one (a hostile or broken handset's). */
function propValue(prop: ChangeProperty, value: string | undefined): string | null {
  try {
    return parseChangeProperty(prop, value === undefined ? undefined : utf8Decode(base64Decode(value), false));
  } catch (err) {
    if (err instanceof DecodeError) return null;
    throw err;
  }
}

/** The child names a plain Get of an interior node gave, without anything that is not one name. */
function childNames(value: string): string[] {
  let text: string;
  try {
    text = utf8Decode(base64Decode(value), false);
  } catch {
    return [];
  }
  return text.split('/').filter((n) => n && n !== '.' && n !== '..' && !n.includes('?'));
}

/** The property values the last snapshot kept (of this backup's property). */
async function previousMarks(db: Db, d: DetectProgress): Promise<Record<string, string> | undefined> {
  const snap = d.prev ? await getSnapshot(db, d.prev.snapshotId) : undefined;
  return d.prop ? readMarks(snap?.changeMarks, d.prop) : undefined;
}

/**
 * The property values this snapshot keeps: those read now, and the last snapshot's for the
 * subtrees carried from it (still true: an unchanged property vouched for them).
 */
export async function marksToKeep(db: Db, d: DetectProgress): Promise<string | null> {
  if (!d.prop) return null;
  const marks: Record<string, string> = {};
  const before = d.carried?.length ? await previousMarks(db, d) : undefined;
  if (before) {
    const carried = d.carried!;
    for (const [path, v] of Object.entries(before))
      if (carried.some((c) => path === c || path.startsWith(`${c}/`))) marks[path] = v;
  }
  Object.assign(marks, d.marks ?? {});
  return JSON.stringify({ prop: d.prop, marks });
}

/** At most this many paths per digest request (the MO's bound). */
export function chunksOf(paths: readonly string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < paths.length; i += MAX_DIGEST_PATHS) out.push(paths.slice(i, i + MAX_DIGEST_PATHS));
  return out;
}

/**
 * Verify mode, at the end: the root digests the handset claimed against the full walk's
 * entries. Returns what differed (empty when the handset told the truth).
 */
export function checkClaims(claimed: Record<string, string>, entries: readonly ManifestEntry[]): string[] {
  const index = new PreviousManifest(entries);
  const wrong: string[] = [];
  for (const [path, digest] of Object.entries(claimed)) {
    if (index.digest(path) !== digest) wrong.push(path);
  }
  return wrong;
}

/** Records a verification walk's finding: on the snapshot (by the caller), the model, and the audit trail. */
export async function recordDefect(
  db: Db,
  device: DeviceRow,
  d: DetectProgress,
  snapshotId: string,
  wrong: string[],
): Promise<string> {
  const claim = d.prop
    ? `the handset's ${d.prop} said ${wrong.length} node(s) had not changed, yet a full walk found them changed`
    : `the handset's digests claimed ${wrong.length} subtree(s) unchanged or different from what a full walk found`;
  const what = `${claim}: ${wrong.slice(0, 5).join(', ')}`;
  if (d.modelId) await recordDigestDefect(db, d.modelId, what, Date.now());
  await insertAudit(db, {
    actor: `device:${device.devId}`,
    action: 'backup.digest-defect',
    deviceId: device.id,
    details: { snapshotId, subtrees: wrong },
  });
  return what;
}
