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
import { base64Decode } from '../omadm/util/bytes';
import { hexToBytes } from '@noble/hashes/utils.js';
import { decodeManifest, type ManifestEntry } from './manifest';
import { categoryOf } from './profiles';
import type { Category } from '../omadm/mo/backup-restore';
import type { PolicyRow } from '@/db/queries/policies';

export type ChangeDetection = 'full' | 'digest' | 'verify';

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
  learned?: 'digest' | 'none';
}

/** How this backup will find what changed, and against which snapshot. */
export async function planChangeDetection(
  db: Db,
  device: DeviceRow,
  policy: Pick<PolicyRow, 'verifyEveryBackups' | 'verifyEveryDays'>,
  now: number,
): Promise<DetectProgress> {
  const model =
    device.manufacturer && device.model ? await findModel(db, device.manufacturer, device.model) : undefined;
  const base: Pick<DetectProgress, 'requests' | 'modelId' | 'learned'> = {
    requests: {},
    ...(model ? { modelId: model.id } : {}),
    // Already on the model's row: not written again by every backup ('none' is, to date it anew).
    ...(model?.changeDetection === 'digest' ? { learned: 'digest' as const } : {}),
  };
  if (knownWithout(model, now)) return { mode: 'full', ...base };
  // The newest complete snapshot taken over the air (a local backup's manifest is the handset's, not ours).
  const recent = (await listSnapshots(db, device.id, { status: 'complete', limit: 50 })).filter(
    (s) => s.trigger !== 'local' && s.rootHash,
  );
  const prev = recent[0];
  if (!prev?.rootHash) return { mode: 'full', ...base };
  const p = { ...base, prev: { snapshotId: prev.id, rootHash: prev.rootHash } };
  // A verification walk: after N backups that trusted digests, or when the last full look is too old.
  const lastFull = recent.findIndex((s) => s.changeDetection !== 'digest');
  // None among the last 50: the last full look is older than anything counted, so it is due.
  const sinceFull = lastFull < 0 ? Number.POSITIVE_INFINITY : lastFull;
  const byCount = policy.verifyEveryBackups > 0 && sinceFull >= policy.verifyEveryBackups - 1;
  const fullAt = lastFull < 0 ? undefined : (recent[lastFull]!.completedAt ?? recent[lastFull]!.startedAt);
  const byAge =
    policy.verifyEveryDays > 0 && (fullAt === undefined || now - fullAt >= policy.verifyEveryDays * 86400_000);
  return { ...p, mode: byCount || byAge ? 'verify' : 'digest' };
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
  private readonly sorted: ManifestEntry[];

  constructor(entries: readonly ManifestEntry[]) {
    this.sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const e of this.sorted) {
      this.byPath.set(e.path, e);
      if (e.hash) this.byHash.set(e.hash, e);
    }
  }

  static async load(ctx: AppContext, rootHash: string): Promise<PreviousManifest | undefined> {
    const bytes = await ctx.blobs.get(rootHash);
    return bytes ? new PreviousManifest(decodeManifest(bytes).entries) : undefined;
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

  /** The digest a handset would report for this path, had it not changed since. */
  digest(path: string): string | undefined {
    const self = this.byPath.get(path);
    if (!self) return undefined;
    if (self.format !== 'node') return self.hash;
    return manifestDigest(path, this.subtree(path));
  }
}

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
      if (req.exec !== undefined && NO_DIGESTS.has(req.exec)) await learn(ctx.db, d, 'none', now);
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

async function learn(db: Db, d: DetectProgress, how: 'digest' | 'none', now: number): Promise<void> {
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
  const what = `the handset's digests claimed ${wrong.length} subtree(s) unchanged or different from what a full walk found: ${wrong.slice(0, 5).join(', ')}`;
  if (d.modelId) await recordDigestDefect(db, d.modelId, what, Date.now());
  await insertAudit(db, {
    actor: `device:${device.devId}`,
    action: 'backup.digest-defect',
    deviceId: device.id,
    details: { snapshotId, subtrees: wrong },
  });
  return what;
}
