/**
 * Taking a backup inside DM sessions. For each subtree of the chosen categories the server
 * asks for its structure (Get `?list=Struct`); a handset that refuses the structured form
 * (406, as some real clients do) is walked instead, interior node by interior node, with
 * plain Gets of their child lists. Every leaf is then fetched on its own, so a 2 MB
 * ringtone travels as one Large Object rather than swelling a single Results.
 *
 * Each value goes into the content-addressed blob store as it arrives and is staged in the
 * database; where the walk stands is kept on the job, so the next message may be taken by
 * another server process. When nothing is outstanding the staged entries become the
 * snapshot's manifest and the snapshot is complete. A session that ends first leaves the
 * snapshot incomplete (never restorable) and the job queued again with backoff.
 */
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import { keyOwner, putAll, sha256Hex, type Stored } from './blob-store';
import { updateJob, updateJobInSession, type JobRow } from '@/db/queries/jobs';
import {
  clearStaging,
  insertSnapshot,
  recordBlob,
  recordBlobs,
  stageEntries,
  stagedEntries,
  updateSnapshot,
  getSnapshot,
  recordSnapshotAirtime,
  type StagedEntry,
} from '@/db/queries/snapshots';
import { insertAudit } from '@/db/queries/audit';
import type { AppContext } from '../core/context';
import type { Category } from '../omadm/mo/backup-restore';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import { base64Decode, utf8Decode } from '../omadm/util/bytes';
import { MAX_DIGEST_PATHS } from '../omadm/mo/br-digest';
import { propUri, splitPropUri } from '../omadm/mo/tnd-props';
import { encodeManifest, logicalSize, type ManifestEntry } from './manifest';
import { backupRoots, categoryOf, profileFor } from './profiles';
import {
  atClose,
  canStoreAtClose,
  flushClosing,
  forgetModels,
  messageModel,
  messagePolicy,
  storeAtClose,
} from '../jobs/message-scope';
import { applyRetention, parseRetention, type RetentionRules } from './retention';
import { log } from '../core/log';
import {
  carriedEntries,
  checkClaims,
  chunksOf,
  descentWork,
  marksToKeep,
  onPropEvents,
  PreviousManifest,
  probeUris,
  withProps,
  digestWork,
  onDigestEvents,
  planChangeDetection,
  recordDefect,
  type DetectProgress,
} from './incremental';

export interface BackupProgress {
  snapshotId: string;
  categories: Category[];
  roots: Array<{ path: string; category: Category }>;
  /** Work ids (after the job prefix) still unanswered. */
  open: string[];
  seq: number;
  nodes: number;
  newBytes: number;
  /** Roots this handset does not have (404): not an error, the profile is wider than the tree. */
  missing: string[];
  /** Nodes the handset refused to show (Get not allowed). */
  unreadable: string[];
  errors: string[];
  /** How this backup finds what changed (incremental.ts); absent: a full fetch. */
  detect?: DetectProgress;
}

export interface JobStep {
  work: WorkRequest[];
  /** Set when the job has ended. */
  ended?: { status: 'succeeded' | 'failed'; error?: string; result?: unknown };
}

/** Leaves per Get work: enough to fill messages, few enough that one failure is cheap to find. */
const LEAVES_PER_BATCH = 200;
const MAX_NODES = 100_000;
/** Statuses meaning "not this form of Get": walk the subtree with plain Gets instead. */
const STRUCT_REFUSED = new Set([400, 405, 406, 415, 500, 501]);
const NOT_READABLE = new Set([401, 403, 405, 425]);

function workId(job: JobRow, local: string): string {
  return `${job.id}:${local}`;
}

function localId(job: JobRow, wid: string): string {
  return wid.slice(job.id.length + 1);
}

async function save(db: Db, job: JobRow, p: BackupProgress): Promise<void> {
  // Only while this session holds the job (a reconnected handset's new session may have it now).
  await updateJobInSession(db, job.id, job.sessionRef, { progress: JSON.stringify(p) });
  job.progress = JSON.stringify(p);
}

export function readProgress(job: JobRow): BackupProgress | undefined {
  return job.progress ? (JSON.parse(job.progress) as BackupProgress) : undefined;
}

/** Starts a new attempt: a fresh incomplete snapshot and the structure requests. */
export async function startBackup(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<'backup'>,
  sessionRowId: string,
): Promise<JobStep> {
  const { payload } = job;
  const model = await messageModel(ctx, device.manufacturer, device.model);
  const roots = backupRoots(await profileFor(ctx.db, device.manufacturer, device.model, model), payload.categories);
  const work: WorkRequest[] = [];
  // The snapshot, the job's hold on it and the walk's first position in one transaction: a
  // process killed here leaves all three or none, never an incomplete snapshot no job names
  // (which nothing would ever give a reason).
  const p = await ctx.db.transaction(async (tx) => {
    const snap = await insertSnapshot(tx, {
      deviceId: device.id,
      jobId: job.id,
      trigger: payload.trigger,
      categories: payload.categories,
    });
    const p: BackupProgress = {
      snapshotId: snap.id,
      categories: payload.categories,
      roots,
      open: [],
      seq: 0,
      nodes: 0,
      newBytes: 0,
      missing: [],
      unreadable: [],
      errors: [],
    };
    if (roots.length)
      work.push(
        getWork(
          job,
          p,
          's',
          roots.map((r) => `${r.path}?list=Struct`),
        ),
      );
    await updateJob(tx, job.id, {
      status: 'running',
      sessionRef: sessionRowId,
      attempts: job.attempts + 1,
      wakePending: false,
      error: null,
      progress: JSON.stringify(p),
    });
    return p;
  });
  job.status = 'running';
  job.sessionRef = sessionRowId;
  job.progress = JSON.stringify(p);
  if (!work.length) return { work, ...(await finishNow(ctx, device, job, p)) };
  return { work };
}

/**
 * Digests first where the handset's model has them (incremental.ts): the structure Gets
 * startBackup queued give way to one digest request for the same roots. A model without
 * digests, a first backup or a verification walk that has no previous snapshot keep them.
 * Where the request already went with the inventory (earlyDigests) and its answers are in
 * `early`, they are read now instead of asking again.
 */
export async function startWithDigests(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  step: JobStep,
  session: { id: string; early?: readonly SessionEvent[] } = { id: '' },
): Promise<JobStep> {
  const p = readProgress(job);
  if (!p || step.ended || !p.roots.length) return step;
  const d = await planChangeDetection(
    ctx.db,
    device,
    await messagePolicy(ctx, device),
    Date.now(),
    await messageModel(ctx, device.manufacturer, device.model),
  );
  if (d.prop) return startWithProps(ctx, device, job, step, p, d, session.early ?? []);
  if (d.mode === 'full') return step;
  p.detect = d;
  const queued = new Set(step.work.map((w) => localId(job, w.id)));
  p.open = p.open.filter((w) => !queued.has(w));
  const early = (session.early ?? []).filter((e) => 'workId' in e && EARLY.has(localId(job, e.workId)));
  if (early.some((e) => e.type === 'status' && localId(job, e.workId) === 'x0') && p.roots.length <= MAX_DIGEST_PATHS) {
    // The request that went with the inventory, as earlyDigests built it (the same roots now;
    // a root the answer lacks is fetched in full, one it has that is not asked is ignored).
    d.requests['0'] = { id: earlyRequestId(session.id), paths: p.roots.map((r) => r.path), children: [], deep: [] };
    p.open.push('x0', 'd0');
    await save(ctx.db, job, p);
    return onBackupEvents(ctx, device, job, early);
  }
  const work = chunksOf(p.roots.map((r) => r.path)).flatMap((paths) => digestRequest(job, p, d, paths, [], []));
  await save(ctx.db, job, p);
  return { work };
}

/**
 * A model with node properties (VerNo or TStamp) instead of digests: the roots' properties
 * are read first. Trusted (a previous snapshot kept them), they replace the structure Gets;
 * otherwise (a full fetch, a verification walk) they go just before them, so the values kept
 * were read before the content they vouch for.
 */
async function startWithProps(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  step: JobStep,
  p: BackupProgress,
  d: DetectProgress,
  early: readonly SessionEvent[],
): Promise<JobStep> {
  p.detect = d;
  const trusted = d.mode === 'verno' || d.mode === 'tstamp';
  const answered = early.filter((e) => 'workId' in e && localId(job, e.workId) === 'p0');
  if (trusted && answered.some((e) => e.type === 'result')) {
    // The roots' properties came with the inventory (earlyDigests sent them).
    const queued = new Set(step.work.map((w) => localId(job, w.id)));
    p.open = [...p.open.filter((w) => !queued.has(w)), 'p0'];
    await save(ctx.db, job, p);
    return onBackupEvents(ctx, device, job, answered);
  }
  const roots = p.roots.map((r) => r.path);
  // Not trusted: the last snapshot's interior nodes too, before the structure that lists them.
  const prev = !trusted && d.prev ? await PreviousManifest.load(ctx, d.prev.rootHash) : undefined;
  const asked = prev ? prev.interior(roots) : roots;
  const props = getWork(
    job,
    p,
    'p',
    asked.map((r) => propUri(r, d.prop!)),
  );
  if (!trusted) {
    await save(ctx.db, job, p);
    return { work: [props, ...step.work] };
  }
  const queued = new Set(step.work.map((w) => localId(job, w.id)));
  p.open = p.open.filter((w) => !queued.has(w));
  await save(ctx.db, job, p);
  return { work: [props] };
}

/** The local ids of the work sent with the inventory: sequence 0, which nothing else uses. */
const EARLY = new Set(['x0', 'd0', 'p0']);

function earlyRequestId(sessionId: string): string {
  return `${sessionId}.0`;
}

/**
 * The root digest request, sent with the session's inventory when the handset's model is
 * known to have digests and the backup may run on the network it was last seen on: an
 * unchanged handset is then backed up in the inventory's round trips. Nothing is written:
 * if the backup does not start in this session, the answers are dropped.
 */
export async function earlyDigests(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<'backup'>,
  sessionId: string,
): Promise<WorkRequest[]> {
  const model = await messageModel(ctx, device.manufacturer, device.model);
  const roots = backupRoots(await profileFor(ctx.db, device.manufacturer, device.model, model), job.payload.categories);
  if (!roots.length || roots.length > MAX_DIGEST_PATHS) return [];
  const d = await planChangeDetection(ctx.db, device, await messagePolicy(ctx, device), Date.now(), model);
  if (d.prop && (d.mode === 'verno' || d.mode === 'tstamp'))
    return [{ id: workId(job, 'p0'), kind: 'get', paths: roots.map((r) => propUri(r.path, d.prop!)) }];
  if (d.mode === 'full' || d.learned !== 'digest') return [];
  return digestWork(
    d,
    0,
    { exec: workId(job, 'x0'), get: workId(job, 'd0') },
    sessionId, // the request's id is then earlyRequestId(sessionId)
    roots.map((r) => r.path),
    [],
    [],
  );
}

/** One digest request: the Exec ('x') and the Get of its result ('d'), one sequence number. */
function digestRequest(
  job: JobRow,
  p: BackupProgress,
  d: DetectProgress,
  paths: string[],
  children: string[],
  deep: string[],
): WorkRequest[] {
  const seq = ++p.seq;
  p.open.push(`x${seq}`, `d${seq}`);
  return digestWork(
    d,
    seq,
    { exec: workId(job, `x${seq}`), get: workId(job, `d${seq}`) },
    p.snapshotId,
    paths,
    children,
    deep,
  );
}

function getWork(job: JobRow, p: BackupProgress, kind: 's' | 'w' | 'l' | 'p', paths: string[]): WorkRequest {
  const local = `${kind}${++p.seq}`;
  p.open.push(local);
  return { id: workId(job, local), kind: 'get', paths };
}

function normalise(path: string): string {
  const p = path.replace(/\?.*$/, '').replace(/\/+$/, '');
  return p.startsWith('./') || p === '.' ? p : `./${p}`;
}

/** bin and b64 are one thing on the wire (XML carries bin as b64): record both as bin. */
function storedFormat(format: string | undefined): string {
  const f = (format ?? 'chr').toLowerCase();
  return f === 'b64' ? 'bin' : f;
}

/** Feeds the session events that belong to this job; returns more work, or the end. */
export async function onBackupEvents(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  events: readonly SessionEvent[],
): Promise<JobStep> {
  try {
    return await readAnswers(ctx, device, job, events);
  } finally {
    // Reading them may have written the model's row (what it learned, a digest defect).
    forgetModels(ctx);
  }
}

async function readAnswers(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  events: readonly SessionEvent[],
): Promise<JobStep> {
  const p = readProgress(job);
  if (!p) return { work: [] };
  const walk: string[] = [];
  const leaves: string[] = [];
  const nodes: StagedEntry[] = [];
  const values: { bytes: Uint8Array; entry: StagedEntry }[] = [];
  const digests: { local: string; e: SessionEvent }[] = [];
  /** Node property works' events ('p' roots, 'c' descents) and property answers in walks and leaf Gets. */
  const props: { local: string; e: SessionEvent }[] = [];
  const propAnswers: Extract<SessionEvent, { type: 'result' }>[] = [];
  for (const e of events) {
    const local = 'workId' in e ? localId(job, e.workId) : '';
    if (p.detect && (local.startsWith('p') || local.startsWith('c')) && (e.type === 'result' || e.type === 'work-done'))
      props.push({ local, e });
    if (e.type === 'work-done') {
      p.open = p.open.filter((w) => w !== local);
      continue;
    }
    if ((e.type === 'result' || e.type === 'status') && p.detect) {
      if (local.startsWith('x') || local.startsWith('d')) {
        digests.push({ local, e });
        continue;
      }
      if (local.startsWith('p') || local.startsWith('c')) continue;
      if (e.type === 'result' && splitPropUri(e.requested)) {
        propAnswers.push(e);
        continue;
      }
    }
    if (e.type !== 'result') continue;
    const kind = localId(job, e.workId).charAt(0);
    const path = normalise(e.path);
    const requested = normalise(e.requested);
    const category = categoryOf(p.roots, path);
    if (e.status !== 200) {
      if (kind === 's' && STRUCT_REFUSED.has(e.status)) walk.push(requested);
      else if (e.status === 404 && p.roots.some((r) => r.path === requested)) p.missing.push(requested);
      // A node the handset will not show (a secret, say) is left out, as ?list=Struct leaves it out.
      else if (NOT_READABLE.has(e.status)) p.unreadable.push(path);
      else p.errors.push(`${path}: ${e.status === 0 ? 'no answer' : `status ${e.status}`}`);
      continue;
    }
    if (!category) {
      p.errors.push(`${path}: outside the subtrees asked for`);
      continue;
    }
    if (++p.nodes > MAX_NODES) {
      p.errors.push(`more than ${MAX_NODES} nodes`);
      break;
    }
    const format = storedFormat(e.format);
    if (format === 'node') {
      nodes.push({
        snapshotId: p.snapshotId,
        path,
        category,
        format: 'node',
        type: e.mimeType ?? null,
        size: 0,
        hash: null,
      });
      // A plain Get of an interior node answers with its children's names.
      if (kind === 'w' && e.value !== undefined) {
        for (const name of utf8Decode(base64Decode(e.value), false).split('/')) {
          if (name && name !== '.' && name !== '..' && !name.includes('?')) walk.push(`${path}/${name}`);
        }
      }
      continue;
    }
    if (kind === 's') {
      leaves.push(path); // the structure names the leaf; its value comes with a Get of its own
      continue;
    }
    const bytes = base64Decode(e.value ?? '');
    values.push({
      bytes,
      entry: {
        snapshotId: p.snapshotId,
        path,
        category,
        format,
        type: e.mimeType ?? null,
        size: bytes.length,
        hash: sha256Hex(bytes),
      },
    });
  }
  const structure: string[] = [];
  const work: WorkRequest[] = [];
  if (digests.length && p.detect) {
    const d = await onDigestEvents(ctx, p.detect, p.snapshotId, p.roots, digests);
    // Entries known by their hash name content the last snapshot holds (live to garbage
    // collection through it, and through this staging from now on); they are staged with the
    // interior nodes. Whole unchanged subtrees are only named, and read back at the end.
    nodes.push(...d.stage);
    if (d.carried.length) (p.detect.carried ??= []).push(...d.carried);
    p.nodes += d.stage.length;
    leaves.push(...d.leaves);
    structure.push(...d.structure);
    p.missing.push(...d.missing);
    p.unreadable.push(...d.unreadable);
    const [children, deep] = [chunksOf(d.children), chunksOf(d.deep)];
    for (let i = 0; i < Math.max(children.length, deep.length); i++)
      work.push(...digestRequest(job, p, p.detect, [], children[i] ?? [], deep[i] ?? []));
    // No digests: the node properties of the same roots, asked before their structure.
    if (d.probe.length) work.push(getWork(job, p, 'p', probeUris(d.probe)));
    if (p.nodes > MAX_NODES) p.errors.push(`more than ${MAX_NODES} nodes`);
  }
  if ((props.length || propAnswers.length) && p.detect) {
    const d = await onPropEvents(ctx, p.detect, p.snapshotId, p.roots, props, propAnswers);
    nodes.push(...d.stage);
    if (d.carried.length) (p.detect.carried ??= []).push(...d.carried);
    p.nodes += d.stage.length;
    walk.push(...d.walk);
    structure.push(...d.structure);
    p.missing.push(...d.missing);
    p.unreadable.push(...d.unreadable);
    if (d.descend.length) {
      const prev = p.detect.prev ? await PreviousManifest.load(ctx, p.detect.prev.rootHash) : undefined;
      for (const path of d.descend) {
        const local = `c${++p.seq}`;
        p.open.push(local);
        work.push({ id: workId(job, local), kind: 'get', paths: descentWork(p.detect, prev, local, path) });
      }
    }
    if (p.nodes > MAX_NODES) p.errors.push(`more than ${MAX_NODES} nodes`);
  }
  // In hash order: handsets backing up the same values at once (in any process) then take
  // the blobs rows' locks in one order, and cannot deadlock on PostgreSQL.
  const inOrder = [...values].sort((a, b) =>
    a.entry.hash! < b.entry.hash! ? -1 : a.entry.hash! > b.entry.hash! ? 1 : 0,
  );
  // Multi-row statements: on PostgreSQL each statement is a round trip.
  const stageValues = async (tx: Db) => {
    const fresh = await recordBlobs(
      tx,
      inOrder.map(({ entry }) => ({ hash: entry.hash!, size: entry.size })),
    );
    await stageEntries(
      tx,
      inOrder.map((v) => v.entry),
    );
    return fresh;
  };
  const countNew = (stored: readonly Stored[], recorded: ReadonlySet<string>) =>
    stored.forEach(({ hash, created }, i) => {
      if (hash !== values[i]!.entry.hash) throw new Error(`the blob store filed a value under ${hash}, not its hash`);
      if (created && recorded.has(hash)) p.newBytes += values[i]!.entry.size;
    });
  const groupCommit = values.length > 0 && !!ctx.blobs.putAndCommit;
  if (values.length && !groupCommit) {
    // Loose values: recorded and staged first, in one transaction, then stored. Staged, they
    // are live to garbage collection (gc.ts) before the store is asked for them: content
    // found already stored cannot be collected under this backup, and content the collector
    // had just taken out is written again by the put. A crash in between leaves rows the
    // next attempt stages again (the progress below is not yet saved).
    const recorded = await ctx.db.transaction(stageValues);
    countNew(
      await putAll(
        ctx.blobs,
        values.map((v) => v.bytes),
        keyOwner(device),
      ),
      recorded,
    );
  }
  if (structure.length)
    work.push(
      getWork(
        job,
        p,
        's',
        structure.map((path) => `${path}?list=Struct`),
      ),
    );
  // With node properties, each node's goes right before it (incremental.ts withProps).
  for (let i = 0; i < walk.length; i += LEAVES_PER_BATCH)
    work.push(getWork(job, p, 'w', withProps(p.detect, walk.slice(i, i + LEAVES_PER_BATCH))));
  for (let i = 0; i < leaves.length; i += LEAVES_PER_BATCH)
    work.push(getWork(job, p, 'l', withProps(p.detect, leaves.slice(i, i + LEAVES_PER_BATCH))));
  // A structure answer names hundreds of interior nodes: one transaction for them and the
  // walk's position, not a commit each. (Interior nodes have no content, so garbage
  // collection has nothing to race with here; values were staged before they were stored, above.)
  const saveStep = async (tx: Db) => {
    await stageEntries(tx, nodes);
    await save(tx, job, p);
  };
  const storeStep = async (tx: Db, stored: Stored[]) => {
    countNew(stored, await stageValues(tx));
    await saveStep(tx);
  };
  // The walk goes on, and besides values it stages only interior nodes (no content, nothing
  // for garbage collection to race with): this step may commit with the message's close, the
  // session state that asks for the next answers (message-scope.ts).
  const walkOn = p.open.length > 0 && nodes.every((n) => n.hash === null);
  if (groupCommit && walkOn && ctx.blobs.putNowCommitLater && canStoreAtClose(ctx)) {
    // Packs: the values are durable now (a failure to store them is this job's, here), and
    // the message's closing transaction indexes them, records, stages and saves the walk with
    // them (the store checks again there that values it found stored were not collected).
    const pending = await ctx.blobs.putNowCommitLater(
      values.map((v) => v.bytes),
      keyOwner(device),
    );
    if (!storeAtClose(ctx, pending, storeStep)) await pending.commit(storeStep);
  } else if (groupCommit) {
    // Values of this handset waiting for the close go first (its stores wait for them).
    await flushClosing(ctx);
    // Packs: the values are durable before the one transaction that indexes them and records,
    // stages and saves the walk with them (the store checks again there that values it found
    // stored were not collected meanwhile).
    await ctx.blobs.putAndCommit!(
      values.map((v) => v.bytes),
      keyOwner(device),
      storeStep,
    );
  } else if (walkOn) await atClose(ctx, saveStep);
  else await ctx.db.transaction(saveStep);
  if (p.open.length === 0) return { work: [], ...(await finish(ctx, device, job, p)) };
  return { work };
}

async function finishNow(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  p: BackupProgress,
): Promise<Pick<JobStep, 'ended'>> {
  // No subtree to back up: an empty, complete snapshot is the honest answer.
  await flushClosing(ctx); // values of this handset waiting for the close go first (its stores wait for them)
  const bytes = encodeManifest([]);
  const { hash } = await ctx.blobs.put(bytes, keyOwner(device));
  await recordBlob(ctx.db, hash, bytes.length);
  await updateSnapshot(ctx.db, p.snapshotId, { status: 'complete', rootHash: hash, completedAt: Date.now() });
  await updateJob(ctx.db, job.id, {
    status: 'succeeded',
    result: JSON.stringify({ snapshotId: p.snapshotId, rootHash: hash, entries: 0, bytes: 0, newBytes: 0 }),
  });
  return { ended: { status: 'succeeded', result: { snapshotId: p.snapshotId } } };
}

/** Folds the staged entries into the manifest; the snapshot becomes complete (or failed). */
async function finish(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  p: BackupProgress,
): Promise<Pick<JobStep, 'ended'>> {
  if (p.errors.length)
    return failBackup(
      ctx,
      device,
      job,
      `${p.errors.length} node(s) could not be read: ${p.errors.slice(0, 5).join('; ')}`,
    );
  const staged: ManifestEntry[] = (await stagedEntries(ctx.db, p.snapshotId)).map((s) => ({
    path: s.path,
    category: s.category as Category,
    format: s.format,
    ...(s.type ? { type: s.type } : {}),
    size: s.size,
    ...(s.hash ? { hash: s.hash } : {}),
  }));
  // Subtrees the digests found unchanged come from the last snapshot's manifest as they are.
  const carried = p.detect ? await carriedEntries(ctx, p.detect, p.roots) : [];
  if (carried === undefined)
    return failBackup(ctx, device, job, 'the snapshot this backup built on was removed while it ran; back up again');
  // By path: a node both carried and staged (a hostile listing could name it twice) is in the manifest once.
  const entries = carried.length ? [...new Map([...carried, ...staged].map((e) => [e.path, e])).values()] : staged;
  const manifest = encodeManifest(entries);
  const changeDetection = p.detect?.mode ?? 'full';
  // A verification walk: the digests the handset claimed, against what the full walk found.
  const wrong = p.detect?.claimed ? checkClaims(p.detect.claimed, entries) : [];
  const digestDefect = wrong.length ? await recordDefect(ctx.db, device, p.detect!, p.snapshotId, wrong) : undefined;
  const changeMarks = p.detect ? await marksToKeep(ctx.db, p.detect) : null;
  const noteManifest = async (db: Db, s: Stored) => {
    if ((await recordBlob(db, s.hash, manifest.length)) && s.created) p.newBytes += manifest.length;
  };
  const hash = sha256Hex(manifest);
  // An unchanged handset: the manifest is the last snapshot's, byte for byte, stored and live
  // through that snapshot (carriedEntries checked it is still there): referenced, not stored again.
  const same = carried.length > 0 && hash === p.detect?.prev?.rootHash;
  // The policy's retention, read before the transaction below (which must not read through ctx.db).
  let rules: RetentionRules | undefined;
  try {
    rules = parseRetention((await messagePolicy(ctx, device)).retention);
  } catch (err) {
    log.error({ err, devId: device.devId }, 'retention after a backup failed');
  }
  const resultNow = () => ({
    snapshotId: p.snapshotId,
    rootHash: hash,
    entries: entries.length,
    bytes: logicalSize(entries),
    newBytes: p.newBytes,
    changeDetection,
    ...(p.detect?.fellBack ? { digestsFellBack: p.detect.fellBack } : {}),
    ...(digestDefect ? { digestDefect } : {}),
    ...(p.missing.length ? { missing: p.missing } : {}),
    ...(p.unreadable.length ? { unreadable: p.unreadable.length } : {}),
  });
  let result = resultNow();
  /**
   * The backup's close, one commit: the manifest recorded (with packs, in the transaction that
   * indexes it), the job and the snapshot complete, the audit entry and the device's retention.
   * Returns whether a later session had taken the job over (then only the manifest is kept).
   */
  const close = async (tx: Db, stored?: Stored): Promise<boolean> => {
    if (stored) await noteManifest(tx, stored);
    result = resultNow();
    if (
      !(await updateJobInSession(tx, job.id, job.sessionRef, {
        status: 'succeeded',
        result: JSON.stringify(result),
        progress: JSON.stringify(p),
      }))
    ) {
      // The handset reconnected and a new session took the job over while this one's last
      // message was on its way: that session's attempt finishes it, this one is dropped.
      await updateSnapshot(tx, p.snapshotId, {
        status: 'failed',
        error: 'superseded by a later session of the handset',
        completedAt: Date.now(),
      });
      await clearStaging(tx, p.snapshotId);
      return true;
    }
    await updateSnapshot(tx, p.snapshotId, {
      status: 'complete',
      rootHash: hash,
      entries: entries.length,
      bytes: result.bytes,
      newBytes: p.newBytes,
      completedAt: Date.now(),
      changeDetection,
      sessionRef: job.sessionRef,
      digestDefect: digestDefect ?? null,
      changeMarks,
    });
    await clearStaging(tx, p.snapshotId);
    // The session's figures so far (its last answers are counted again when it ends).
    if (job.sessionRef) await recordSnapshotAirtime(tx, job.sessionRef);
    await insertAudit(tx, {
      actor: `device:${device.devId}`,
      action: 'backup.completed',
      deviceId: device.id,
      details: result,
    });
    // The policy's retention, for this device's snapshots; the store-wide sweep runs apart.
    // In a savepoint: a failure here must not fail the backup that just completed (the next
    // one tries again), only its own writes are undone.
    if (rules) {
      const keep = rules;
      try {
        await tx.transaction(async (sp) => {
          const plan = await applyRetention(sp, ctx.blobs, device.id, keep, { dryRun: false, collect: false });
          if (plan.remove.length)
            await insertAudit(sp, {
              actor: 'retention',
              action: 'snapshots.pruned',
              deviceId: device.id,
              details: { removed: plan.remove },
            });
        });
      } catch (err) {
        log.error({ err, devId: device.devId }, 'retention after a backup failed');
      }
    }
    return false;
  };
  let superseded = false;
  await flushClosing(ctx); // values of this handset waiting for the close go first (its stores wait for them)
  if (same) superseded = await ctx.db.transaction((tx) => close(tx));
  else if (ctx.blobs.putAndCommit)
    // Packs: the manifest is durable before the transaction that indexes it and closes the backup.
    await ctx.blobs.putAndCommit([manifest], keyOwner(device), async (tx, [s]) => {
      superseded = await close(tx, s!);
    });
  else {
    const s = await ctx.blobs.put(manifest, keyOwner(device));
    superseded = await ctx.db.transaction((tx) => close(tx, s));
  }
  if (superseded) return {};
  return { ended: { status: 'succeeded', result } };
}

/** Ends the attempt as failed: its snapshot is marked failed (never restorable) and its staging dropped. */
export async function failBackup(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  error: string,
): Promise<Pick<JobStep, 'ended'>> {
  const snapshotId = readProgress(job)?.snapshotId;
  // All or nothing (a full disk may refuse any of it): never a failed job with its snapshot left open, or the reverse.
  await ctx.db.transaction(async (tx) => {
    if (snapshotId && (await getSnapshot(tx, snapshotId))?.status === 'incomplete') {
      await updateSnapshot(tx, snapshotId, { status: 'failed', error, completedAt: Date.now() });
      await clearStaging(tx, snapshotId);
    }
    await updateJob(tx, job.id, {
      status: 'failed',
      error,
      sessionRef: null,
      ...(snapshotId ? { result: JSON.stringify({ snapshotId }) } : {}),
    });
    await insertAudit(tx, {
      actor: `device:${device.devId}`,
      action: 'backup.failed',
      deviceId: device.id,
      details: { jobId: job.id, snapshotId, error },
    });
  });
  return { ended: { status: 'failed', error } };
}

/**
 * The session ended (or was abandoned) with the backup unfinished: the attempt stays an
 * incomplete snapshot, which nothing restores, and the job is queued again with backoff
 * (the server wakes the handset then; a handset that comes back by itself resumes at once).
 */
export async function interruptBackup(ctx: AppContext, job: JobRow, reason: string, now: number): Promise<void> {
  const p = readProgress(job);
  if (p && (await getSnapshot(ctx.db, p.snapshotId))?.status === 'incomplete') {
    await updateSnapshot(ctx.db, p.snapshotId, { error: reason });
    await clearStaging(ctx.db, p.snapshotId);
  }
  await requeueWithBackoff(ctx, job, reason, now);
}

export const MAX_ATTEMPTS = 8;

export function backoffMs(attempts: number): number {
  return Math.min(60 * 60_000, 30_000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Queues an interrupted job again, the server's wake-up after a backoff. `progress` is
 * what the next attempt starts from: nothing for a backup (a fresh snapshot), where it
 * stopped for a restore.
 */
export async function requeueWithBackoff(
  ctx: AppContext,
  job: JobRow,
  reason: string,
  now: number,
  progress: string | null = null,
): Promise<void> {
  if (job.attempts >= MAX_ATTEMPTS) {
    await updateJob(ctx.db, job.id, {
      status: 'failed',
      error: `${reason}; gave up after ${job.attempts} attempts`,
      sessionRef: null,
    });
    return;
  }
  await updateJob(ctx.db, job.id, {
    status: 'queued',
    error: reason,
    sessionRef: null,
    progress,
    notBefore: now + backoffMs(job.attempts),
    wakePending: true,
  });
}
