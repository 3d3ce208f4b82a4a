/**
 * Running a restore plan in DM sessions, across as many sessions as it takes:
 *
 *   consent   the handset asks its user (1103 Now / Later on Wi-Fi / Reject, or 1101 where
 *             1103 is refused) with the size and cost; every answer goes in the ledger.
 *   firmware  FUMO DownloadAndUpdate to the recorded version; the result comes by
 *             Generic Alert in a later session, then FwV is read back.
 *   apply     SCOMO DownloadInstall of each app (result by alert, then its Version read
 *             back), missing interior nodes Added, then every value that differs written
 *             (Replace, or Add when the node is gone; a record's leaves in one Atomic),
 *             extras Deleted when the plan asks, then read back.
 *
 * Before any of it the plan is checked again against the safety backup the restore waited
 * for, the handset's tree as it is now: what already equals the backup is marked unchanged
 * and not sent, what differs now and did not when the plan was made is added. A handset
 * already equal to the backup is not even asked.
 *
 * Each item's state is a row (restore_items), so an interrupted restore resumes with what
 * is not yet written, and "retry failed items" sends only those again. A write whose answer
 * the session lost is read back first and sent again only when it still differs. Success is
 * reported only for what the handset shows when read back.
 */
import type { DeviceRow } from '@/db/queries/devices';
import { getJob, insertJob, updateJob, type JobPatch, type JobRow } from '@/db/queries/jobs';
import {
  getPlan,
  insertConsent,
  insertItems,
  linkDevices,
  listItems,
  setItemsStatus,
  setPlanJob,
  updateItem,
  type RestoreItemRow,
} from '@/db/queries/restore';
import { getDeviceByDevId, getDevice } from '@/db/queries/devices';
import { readManifest } from '../backup/read';
import type { ManifestEntry } from '../backup/manifest';
import { insertAudit } from '@/db/queries/audit';
import type { AppContext } from '../core/context';
import { appErrorFamily, type AppErrorKind } from '../core/errors';
import type { GenericAlertEventItem, NodeValue, SessionEvent, WorkRequest } from '../omadm/session/work';
import { base64Decode, base64Encode } from '../omadm/util/bytes';
import { fumoPaths, parseFumoResult } from '../omadm/mo/fumo';
import { downloadPaths, parseScomoResult } from '../omadm/mo/scomo';
import type { GenericAlertItem } from '../omadm/mo/generic-alert';
import { sha256Hex } from '../backup/blob-store';
import { parseNetwork, policyFor } from '../backup/policy';
import { withSafetyBackup } from '../backup/jobs';
import { quote } from './cost';
import { packageUrl } from '../catalog/catalog';
import { requeueWithBackoff, type JobStep } from '../backup/engine';
import {
  createPlan,
  interiorsOf,
  promptFor,
  isValueStep,
  PlanError,
  sends,
  valueOpAgainst,
  type PlanStep,
  type RestorePlan,
  type ValueStep,
} from './plan';
import type { RestorePayload } from '../jobs/kinds';

/** A work request before its id is given (distributed over the union). */
type WorkBody = WorkRequest extends infer W ? (W extends WorkRequest ? Omit<W, 'id'> : never) : never;

export interface RestoreProgress {
  consent: 'needed' | 'asked' | 'given' | 'wifi-wait';
  promptCode: '1103' | '1101';
  /** Work ids (after the job prefix) unanswered in the current session. */
  open: string[];
  /** Paths of interior nodes this restore created (their leaves are Added, not Replaced). */
  created: string[];
  /** Checked against the safety backup: items already equal marked unchanged, new differences added. */
  rebased?: boolean;
  /** The prompt for what the rebase left to send (its bytes and cost). */
  asked?: { text: string; fallback: string; cost: string };
}

const FUMO_ROOT = './FUMO';
/** How long the user has to answer the prompt, seconds (the handset's MAXDT). */
const MAXDT = 120;
const RETRY_UNANSWERED_MS = 15 * 60_000;
/** Value bytes queued per round trip (a single larger value goes alone). */
const WRITE_BATCH_BYTES = 256 * 1024;

/** `invalid` is a job whose state does not allow it (still running, nothing failed). */
const RESTORE_KIND = {
  'not-found': 'not-found',
  'already-run': 'conflict',
  invalid: 'conflict',
} as const satisfies Record<string, AppErrorKind>;

export class RestoreError extends appErrorFamily(RESTORE_KIND) {}

async function planOf(
  ctx: AppContext,
  job: JobRow<'restore'>,
): Promise<{ plan: RestorePlan; payload: RestorePayload }> {
  const { payload } = job;
  const row = await getPlan(ctx.db, payload.planId);
  if (!row) throw new RestoreError('not-found', `plan ${payload.planId} is gone`);
  return { plan: JSON.parse(row.plan) as RestorePlan, payload };
}

function progressOf(job: JobRow): RestoreProgress {
  return job.progress
    ? (JSON.parse(job.progress) as RestoreProgress)
    : { consent: 'needed', promptCode: '1103', open: [], created: [] };
}

async function save(ctx: AppContext, job: JobRow, p: RestoreProgress, patch: JobPatch = {}): Promise<void> {
  job.progress = JSON.stringify(p);
  await updateJob(ctx.db, job.id, { progress: job.progress, ...patch });
}

/**
 * Executes a stored plan: a safety backup of the target first, then the restore, each
 * item of the plan a row. Returns the restore job (and the backup it waits for). When the
 * target's policy turns "safety backup before updates" off, the restore starts alone
 * (backup null): nothing to compare with first, and nothing to undo it with after.
 */
export async function executePlan(
  ctx: AppContext,
  planId: string,
  actor: string,
  /** Why it is started (a reason or a ticket reference): the API, the CLI and the console insist on one. */
  reason?: string,
): Promise<{ job: JobRow; backup: JobRow | null }> {
  const why = reason?.trim() || undefined;
  const row = await getPlan(ctx.db, planId);
  if (!row) throw new RestoreError('not-found', `no plan ${planId}`);
  if (row.jobId)
    throw new RestoreError('already-run', `plan ${planId} was executed already (job ${row.jobId}); make a new plan`);
  const plan = JSON.parse(row.plan) as RestorePlan;
  const target = await getDeviceByDevId(ctx.db, plan.targetDevId);
  if (!target) throw new RestoreError('not-found', `no device ${plan.targetDevId}`);
  const policy = await policyFor(ctx.db, target);
  const { backup, job } = await ctx.db.transaction(async (tx) => {
    const payload = { planId, actor, ...(why ? { reason: why } : {}) } satisfies RestorePayload;
    const created = policy.safetyBackupBeforeUpdates
      ? await withSafetyBackup(tx, target, { kind: 'restore', payload }, { actor, wake: true })
      : {
          backup: null,
          job: await insertJob(tx, { deviceId: target.id, kind: 'restore', payload, wakePending: true }),
        };
    // What the plan sends; unchanged and kept values are not items (the rebase adds any that differ by then).
    await insertItems(
      tx,
      plan.steps
        .filter(sends)
        .map((s) => ({ jobId: created.job.id, seq: s.seq, kind: s.kind, path: s.path, op: itemOp(s) })),
    );
    await setPlanJob(tx, planId, created.job.id);
    return created;
  });
  await insertAudit(ctx.db, {
    actor,
    action: 'restore.started',
    deviceId: target.id,
    details: {
      planId,
      jobId: job.id,
      safetyBackup: backup?.id ?? null,
      ...(backup ? {} : { noSafetyBackup: `the policy ${policy.name} takes no safety backup before updates` }),
      ...(why ? { reason: why } : {}),
      steps: plan.steps.length,
      ...(plan.summary ? { summary: plan.summary } : {}),
      ...(plan.undoOf ? { undoOf: plan.undoOf } : {}),
      bytes: plan.bytes,
    },
  });
  if (plan.migration) {
    const source = await getDeviceByDevId(ctx.db, plan.sourceDevId);
    if (source) await linkDevices(ctx.db, source.id, target.id, 'migration');
  }
  return { job, backup };
}

/** The item operation of a step that sends. */
function itemOp(s: PlanStep): string {
  if (s.kind === 'firmware') return 'update';
  if (s.kind === 'app') return 'install';
  if (s.op === 'ensure' || s.op === 'add') return 'add';
  return s.op === 'delete' ? 'delete' : 'replace';
}

/** The snapshot of the safety backup a restore waited for (the handset's tree now), if it has one. */
async function safetyTree(ctx: AppContext, job: JobRow): Promise<Map<string, ManifestEntry> | undefined> {
  const backup = job.dependsOn ? await getJob(ctx.db, job.dependsOn) : undefined;
  const snapshotId = backup?.result ? (JSON.parse(backup.result) as { snapshotId?: string }).snapshotId : undefined;
  if (!snapshotId) return undefined;
  const { entries } = await readManifest(ctx.db, ctx.blobs, snapshotId).catch(() => ({ entries: undefined }));
  return entries && new Map(entries.map((e) => [e.path, e]));
}

/**
 * The plan checked against the handset's tree as the safety backup found it: values already
 * equal to the backup are not sent (unchanged), values that differ now are sent whatever
 * the preview said (except those the person chose to keep), interior nodes the handset has
 * are not Added, an app at the recorded version is not reinstalled, extras already gone
 * are not Deleted. Only node and app items change here; firmware goes by the handset's FwV.
 */
async function rebase(ctx: AppContext, job: JobRow, plan: RestorePlan): Promise<void> {
  // Without a safety snapshot to compare with (one that could not be read), nothing is known
  // to be equal: every value of the selection is written (Replace, Add where it is gone).
  const known = await safetyTree(ctx, job);
  const tree = known ?? new Map<string, ManifestEntry>();
  const interiors = interiorsOf(tree.values());
  const items = new Map((await listItems(ctx.db, job.id)).map((i) => [i.seq, i]));
  const text = async (e: ManifestEntry | undefined) =>
    e?.hash && e.size <= 256 ? new TextDecoder().decode((await ctx.blobs.get(e.hash)) ?? new Uint8Array(0)) : undefined;
  const fresh: Array<{ jobId: string; seq: number; kind: string; path: string; op: string }> = [];
  const unchanged = async (seq: number, detail: string) => {
    if (items.has(seq)) await updateItem(ctx.db, job.id, seq, { status: 'unchanged', detail });
  };
  const need = async (s: PlanStep, op: string, detail: string) => {
    const item = items.get(s.seq);
    if (!item) fresh.push({ jobId: job.id, seq: s.seq, kind: s.kind, path: s.path, op });
    else if (item.op !== op) await updateItem(ctx.db, job.id, s.seq, { op, detail });
  };
  for (const s of plan.steps) {
    if (s.kind === 'app') {
      const installed =
        (await text(tree.get(`${s.path}/ID`))) === s.appId ? await text(tree.get(`${s.path}/Version`)) : undefined;
      if (installed === s.version) await unchanged(s.seq, `already installed at ${s.version}: not sent`);
      else await need(s, 'install', installed ? `${installed} on the handset` : 'not on the handset');
    } else if (s.kind === 'node' && (s.op === 'ensure' || s.op === 'exists')) {
      if (interiors.has(s.path)) await unchanged(s.seq, 'the handset has this node: not added');
      else await need(s, 'add', 'the handset lacks this node');
    } else if (s.kind === 'node' && s.op === 'delete') {
      if (known && !tree.get(s.path)) await unchanged(s.seq, 'already gone');
    } else if (isValueStep(s) && s.op !== 'keep') {
      const op = known ? valueOpAgainst(s.hash, tree.get(s.path)) : 'replace';
      if (op === 'unchanged') await unchanged(s.seq, 'already as in the backup: not sent');
      else
        await need(
          s,
          op,
          s.op === 'unchanged' ? 'changed on the handset after the preview' : 'differs on the handset: sent',
        );
    }
  }
  if (fresh.length) await insertItems(ctx.db, fresh);
}

/**
 * The prompt for what the rebase left to send: the plan's words with the bytes and the
 * cost of what actually goes (the preview may have been made against an older tree).
 */
async function rebasedPrompt(ctx: AppContext, device: DeviceRow, job: JobRow, plan: RestorePlan): Promise<Asked> {
  const pending = new Set((await listItems(ctx.db, job.id, ['pending'])).map((i) => i.seq));
  const steps = plan.steps.filter((s) => pending.has(s.seq));
  const bytes = steps.reduce(
    (n, s) => n + (s.kind === 'app' || s.kind === 'firmware' ? s.bytes : isValueStep(s) ? s.size : 0),
    0,
  );
  const cost = quote(bytes, parseNetwork(device.networkState), {
    homePerMb: ctx.env.COST_PER_MB_HOME,
    roamingPerMb: ctx.env.COST_PER_MB_ROAMING,
    currency: ctx.env.COST_CURRENCY,
  });
  const prompt = promptFor(steps, bytes, cost, plan.snapshotTakenAt, plan.migration, plan.selection.categories);
  return { text: prompt.text, fallback: prompt.fallback.text, cost: cost.text };
}

/** What the handset's user is asked: the plan's prompt, or the one made when the writes began. */
interface Asked {
  text: string;
  fallback: string;
  cost: string;
}

function askedOf(plan: RestorePlan, p: RestoreProgress): Asked {
  return p.asked ?? { text: plan.prompt.text, fallback: plan.prompt.fallback.text, cost: plan.cost.text };
}

/** Sends failed and mismatched items again (after a new consent). */
export async function retryFailed(ctx: AppContext, jobId: string, actor: string): Promise<JobRow> {
  const job = await getJob(ctx.db, jobId);
  if (!job || job.kind !== 'restore') throw new RestoreError('not-found', `no restore job ${jobId}`);
  if (job.status === 'running' || job.status === 'queued')
    throw new RestoreError('invalid', 'the restore is still running');
  const again = await listItems(ctx.db, jobId, ['failed', 'mismatch']);
  if (!again.length) throw new RestoreError('invalid', 'no failed items to retry');
  await setItemsStatus(ctx.db, jobId, ['failed', 'mismatch'], 'pending');
  const p = progressOf(job);
  await updateJob(ctx.db, jobId, {
    status: 'queued',
    error: null,
    progress: JSON.stringify({ ...p, consent: 'needed', open: [] }),
    wakePending: true,
    notBefore: null,
  });
  await insertAudit(ctx.db, {
    actor,
    action: 'restore.retry-failed',
    deviceId: job.deviceId,
    details: { jobId, items: again.length },
  });
  return (await getJob(ctx.db, jobId))!;
}

/** The restore's turn in a ready session: ask first, or carry on where it stopped. */
export async function startRestore(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<'restore'>,
  sessionRowId: string,
  baseUrl: string,
): Promise<JobStep> {
  const { plan } = await planOf(ctx, job);
  const p = progressOf(job);
  p.open = [];
  if (p.consent === 'wifi-wait') {
    // The user chose "later on Wi-Fi": that choice is the consent, once on Wi-Fi.
    if (parseNetwork(device.networkState)?.bearer !== 'wifi') return { work: [] };
    p.consent = 'given';
  }
  await updateJob(ctx.db, job.id, {
    status: 'running',
    sessionRef: sessionRowId,
    attempts: job.attempts + 1,
    wakePending: false,
  });
  job.status = 'running';
  if (!p.rebased) {
    await rebase(ctx, job, plan);
    p.rebased = true;
    const items = await listItems(ctx.db, job.id);
    // Nothing differs: the handset already holds the backup; there is nothing to ask or send.
    if (!items.some((i) => i.status === 'pending')) {
      await save(ctx, job, p);
      return finish(ctx, device, job, items);
    }
    p.asked = await rebasedPrompt(ctx, device, job, plan);
  }
  if (p.consent !== 'given') {
    p.consent = 'asked';
    await save(ctx, job, p);
    return { work: [promptWork(job, plan, p)] };
  }
  await save(ctx, job, p);
  // Not next(): a session that ended after the writes were answered and before their
  // read-back leaves nothing pending, only items written and not yet verified.
  return advance(ctx, device, job, plan, p, baseUrl);
}

function promptWork(job: JobRow, plan: RestorePlan, p: RestoreProgress): WorkRequest {
  p.open.push('c');
  const asked = askedOf(plan, p);
  if (p.promptCode === '1101')
    return { id: `${job.id}:c`, kind: 'ui', code: '1101', text: asked.fallback, options: `MAXDT=${MAXDT}` };
  return {
    id: `${job.id}:c`,
    kind: 'ui',
    code: '1103',
    text: asked.text,
    options: `MAXDT=${MAXDT}&DR=1`,
    choices: plan.prompt.choices,
  };
}

/** What to send next, by phase: firmware first, then apps and nodes, then the read-back. */
async function next(
  ctx: AppContext,
  job: JobRow,
  plan: RestorePlan,
  p: RestoreProgress,
  baseUrl: string,
): Promise<JobStep> {
  const items = await listItems(ctx.db, job.id);
  const steps = new Map(plan.steps.map((s) => [s.seq, s]));
  const work: WorkRequest[] = [];
  const add = (local: string, w: WorkBody) => {
    p.open.push(local);
    work.push({ ...w, id: `${job.id}:${local}` } as WorkRequest);
  };
  const fw = items.find((i) => i.kind === 'firmware');
  if (fw && (fw.status === 'pending' || fw.status === 'sent' || fw.status === 'written')) {
    const s = steps.get(fw.seq) as Extract<PlanStep, { kind: 'firmware' }>;
    if (fw.status === 'pending') {
      const f = fumoPaths(FUMO_ROOT);
      add(`f${fw.seq}`, {
        kind: 'replace',
        items: [{ path: f.DownloadAndUpdatePkgURL, format: 'chr', value: b64(packageUrl(baseUrl, s.packageId)) }],
      });
      add(`x${fw.seq}`, { kind: 'exec', path: f.DownloadAndUpdate, correlator: `${job.id}:${fw.seq}` });
      await updateItem(ctx.db, job.id, fw.seq, { status: 'sent' });
    } else if (fw.status === 'written') {
      add(`v${fw.seq}`, { kind: 'get', paths: [fw.path] });
    }
    await save(ctx, job, p);
    // Nothing else until the handset runs the firmware it was restored to.
    return { work };
  }

  const pending = items.filter((i) => i.status === 'pending');
  const ensures = pending.filter((i) => {
    const s = steps.get(i.seq);
    return s?.kind === 'node' && (s.op === 'ensure' || s.op === 'exists');
  });
  for (const i of pending.filter((x) => x.kind === 'app')) {
    const s = steps.get(i.seq) as Extract<PlanStep, { kind: 'app' }>;
    const d = downloadPaths(`R${i.seq}-${job.id.slice(0, 8)}`);
    add(`a${i.seq}`, {
      kind: 'add',
      items: [
        { path: d.base, format: 'node' },
        { path: d.PkgID, value: b64(s.appId) },
        { path: d.Name, value: b64(s.name) },
        { path: d.PkgURL, value: b64(packageUrl(baseUrl, s.packageId)) },
      ],
    });
    add(`x${i.seq}`, { kind: 'exec', path: d.op('DownloadInstall'), correlator: `${job.id}:${i.seq}` });
    await updateItem(ctx.db, job.id, i.seq, { status: 'sent' });
  }
  if (ensures.length) {
    for (const i of ensures) {
      add(`s${i.seq}`, { kind: 'add', items: [{ path: i.path, format: 'node' }] });
      await updateItem(ctx.db, job.id, i.seq, { status: 'sent' });
    }
    await save(ctx, job, p);
    return { work };
  }
  // Values go in batches: the session state (the engine's outbox) holds what is queued,
  // and is stored with every message, so megabytes queued at once would be rewritten
  // dozens of times. The next batch follows when this one is answered.
  for (const i of pending.filter((x) => x.kind === 'node' && x.op === 'delete')) {
    add(`d${i.seq}`, { kind: 'delete', paths: [i.path] });
    await updateItem(ctx.db, job.id, i.seq, { status: 'sent' });
  }
  const writes: RestoreItemRow[] = [];
  let batchBytes = 0;
  for (const i of pending.filter((x) => x.kind === 'node' && x.op !== 'delete')) {
    const size = (steps.get(i.seq) as { size?: number }).size ?? 0;
    if (writes.length && batchBytes + size > WRITE_BATCH_BYTES) break;
    writes.push(i);
    batchBytes += size;
  }
  return { work: work.concat(await writeWork(ctx, job, plan, p, writes)) };
}

function b64(s: string): string {
  return base64Encode(new TextEncoder().encode(s));
}

/** Value writes: a record's leaves in one Atomic, the rest one command each. */
async function writeWork(
  ctx: AppContext,
  job: JobRow,
  plan: RestorePlan,
  p: RestoreProgress,
  writes: RestoreItemRow[],
): Promise<WorkRequest[]> {
  const steps = new Map(plan.steps.map((s) => [s.seq, s]));
  const work: WorkRequest[] = [];
  const groups = new Map<string, RestoreItemRow[]>();
  const valueOf = (i: RestoreItemRow): NodeValue & { seq: number } => {
    const s = steps.get(i.seq) as ValueStep;
    return { seq: i.seq, path: i.path, format: s.format, ...(s.type ? { type: s.type } : {}), value: '' };
  };
  const pendingValues: Array<{ item: RestoreItemRow; value: NodeValue & { seq: number } }> = [];
  for (const i of writes) {
    const s = steps.get(i.seq) as ValueStep;
    // A first attempt in a group goes Atomic; a retry (detail set) goes alone.
    if (s.group && !i.detail) (groups.get(s.group) ?? groups.set(s.group, []).get(s.group)!).push(i);
    else pendingValues.push({ item: i, value: valueOf(i) });
  }
  for (const [group, list] of groups) {
    // A record whose leaves need different commands (some there, some gone) goes leaf by leaf.
    const ops = new Set(list.map((i) => (p.created.includes(group) ? 'add' : i.op)));
    if (ops.size > 1) {
      for (const i of list) pendingValues.push({ item: i, value: valueOf(i) });
      continue;
    }
    const kind = ops.has('add') ? 'add' : 'replace';
    for (const i of list) await updateItem(ctx.db, job.id, i.seq, { status: 'sent' });
    p.open.push(`g${list[0]!.seq}`);
    work.push({
      id: `${job.id}:g${list[0]!.seq}`,
      kind,
      atomic: list.length > 1,
      items: list.map((i) => ({ ...valueOf(i), seq: undefined })) as NodeValue[],
    });
  }
  for (const { item, value } of pendingValues) {
    const kind =
      item.op === 'add' || p.created.includes(item.path.slice(0, item.path.lastIndexOf('/'))) ? 'add' : 'replace';
    await updateItem(ctx.db, job.id, item.seq, { status: 'sent' });
    p.open.push(`s${item.seq}`);
    work.push({
      id: `${job.id}:s${item.seq}`,
      kind,
      items: [
        {
          path: value.path,
          ...(value.format ? { format: value.format } : {}),
          ...(value.type ? { type: value.type } : {}),
          value: '',
        },
      ],
    });
  }
  await save(ctx, job, p);
  return work;
}

/** Fills in the values (from the blob store) just before the work goes to the engine. */
export async function withValues(ctx: AppContext, job: JobRow, work: WorkRequest[]): Promise<WorkRequest[]> {
  if (job.kind !== 'restore') return work;
  const { plan } = await planOf(ctx, job);
  const hashes = new Map(plan.steps.filter(isValueStep).map((s) => [s.path, s.hash]));
  const out: WorkRequest[] = [];
  for (const w of work) {
    if ((w.kind === 'add' || w.kind === 'replace') && (w.id.includes(':s') || w.id.includes(':g'))) {
      const items = [];
      for (const it of (w as Extract<WorkRequest, { kind: 'add' | 'replace' }>).items) {
        const hash = hashes.get(it.path);
        if (!hash || it.format === 'node') {
          items.push(it);
          continue;
        }
        const bytes = await ctx.blobs.get(hash);
        if (!bytes) throw new RestoreError('invalid', `the content of ${it.path} is missing from the store`);
        items.push({ ...it, value: base64Encode(bytes) });
      }
      out.push({ ...w, items } as WorkRequest);
    } else out.push(w);
  }
  return out;
}

/** Session events for this restore: consent answers, statuses, read-backs. */
export async function onRestoreEvents(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<'restore'>,
  events: readonly SessionEvent[],
  baseUrl: string,
): Promise<JobStep> {
  const { plan } = await planOf(ctx, job);
  const p = progressOf(job);
  const steps = new Map(plan.steps.map((s) => [s.seq, s]));
  const items = new Map((await listItems(ctx.db, job.id)).map((i) => [i.seq, i]));
  const byPath = new Map([...items.values()].map((i) => [i.path, i]));
  let consentNow = false;
  for (const e of events) {
    const local = 'workId' in e ? e.workId.slice(job.id.length + 1) : '';
    if (e.type === 'work-done') {
      p.open = p.open.filter((w) => w !== local);
      continue;
    }
    if (e.type === 'ui' && local === 'c') {
      const ended = await consent(ctx, device, job, plan, p, e.code, e.status, e.values);
      if (ended) return ended;
      consentNow = p.consent === 'given';
      continue;
    }
    if (e.type === 'status') {
      const kind = local.charAt(0);
      const seq = Number(local.slice(1));
      if (kind === 'g') {
        // Atomic children report by path; the Atomic's own status says nothing per item.
        const item = e.path ? byPath.get(e.path) : undefined;
        if (item && e.cmd !== 'Atomic') await onWriteStatus(ctx, job, item, e.status);
        continue;
      }
      const item = items.get(seq);
      if (!item) continue;
      if (kind === 's') {
        const st = steps.get(seq);
        if (st?.kind === 'node' && (st.op === 'ensure' || st.op === 'exists')) {
          if (e.status === 200) p.created.push(item.path);
          await updateItem(
            ctx.db,
            job.id,
            seq,
            e.status === 200 || e.status === 418
              ? { status: 'verified', code: e.status }
              : { status: 'failed', code: e.status, detail: `Add of the node answered ${e.status}` },
          );
        } else await onWriteStatus(ctx, job, item, e.status);
      } else if (kind === 'd') {
        // Gone is what a Delete wants: 404 means someone was first.
        await updateItem(
          ctx.db,
          job.id,
          seq,
          e.status === 200 || e.status === 404
            ? { status: 'verified', code: e.status, detail: e.status === 200 ? 'deleted' : 'already gone' }
            : { status: 'failed', code: e.status, detail: `Delete answered ${e.status}` },
        );
      } else if (kind === 'a' || kind === 'f') {
        if (e.status >= 300)
          await updateItem(ctx.db, job.id, seq, {
            status: 'failed',
            code: e.status,
            detail: `${e.cmd} answered ${e.status}`,
          });
      } else if (kind === 'x') {
        if (e.status >= 300)
          await updateItem(ctx.db, job.id, seq, {
            status: 'failed',
            code: e.status,
            detail: `Exec answered ${e.status}`,
          });
        else
          await updateItem(ctx.db, job.id, seq, {
            code: e.status,
            detail: 'accepted; waiting for the handset to report',
          });
      }
      continue;
    }
    if (e.type === 'result' && local.startsWith('v')) {
      const item = items.get(Number(local.slice(1)));
      if (item) await readBack(ctx, job, plan, item, e.status, e.value);
    }
  }
  await save(ctx, job, p);
  if (consentNow) return next(ctx, job, plan, p, baseUrl);
  if (p.open.length) return { work: [] };
  return advance(ctx, device, job, plan, p, baseUrl);
}

async function onWriteStatus(ctx: AppContext, job: JobRow, item: RestoreItemRow, status: number): Promise<void> {
  if (status === 200) await updateItem(ctx.db, job.id, item.seq, { status: 'written', code: 200 });
  // Replace of a node that is gone: Add it instead; Add of one that is there: Replace.
  else if ((status === 404 && item.op === 'replace') || (status === 418 && item.op === 'add')) {
    await updateItem(ctx.db, job.id, item.seq, {
      op: item.op === 'replace' ? 'add' : 'replace',
      status: 'pending',
      code: status,
      detail: `retrying as ${item.op === 'replace' ? 'Add' : 'Replace'} after ${status}`,
    });
  } else
    await updateItem(ctx.db, job.id, item.seq, {
      status: 'failed',
      code: status,
      detail: `the handset answered ${status}`,
    });
}

async function readBack(
  ctx: AppContext,
  job: JobRow,
  plan: RestorePlan,
  item: RestoreItemRow,
  status: number,
  value: string | undefined,
): Promise<void> {
  const step = plan.steps.find((s) => s.seq === item.seq)!;
  const got = status === 200 && value !== undefined ? base64Decode(value) : undefined;
  let ok = false;
  let detail: string;
  if (isValueStep(step)) {
    ok = got !== undefined && sha256Hex(got) === step.hash;
    if (!ok && item.detail?.startsWith(UNCONFIRMED)) {
      // The write's answer was lost with the session, and it did not land: send it again.
      await updateItem(ctx.db, job.id, item.seq, {
        status: 'pending',
        op: got === undefined ? 'add' : 'replace',
        detail: 'still differs after the interruption: sent again',
      });
      return;
    }
    detail =
      got === undefined
        ? `read back: ${status}`
        : ok
          ? 'read back: identical'
          : `read back: ${got.length} bytes that differ from the ${step.size} written`;
  } else {
    const want = step.kind === 'firmware' ? step.to : step.kind === 'app' ? step.version : '';
    const text = got ? new TextDecoder().decode(got) : undefined;
    ok = text === want;
    detail = ok ? `read back: ${want}` : `read back: ${text ?? `status ${status}`} where ${want} was expected`;
  }
  await updateItem(ctx.db, job.id, item.seq, { status: ok ? 'verified' : 'mismatch', detail });
}

/** Between round trips: the next phase, the read-back, or the end. */
async function advance(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  plan: RestorePlan,
  p: RestoreProgress,
  baseUrl: string,
): Promise<JobStep> {
  const items = await listItems(ctx.db, job.id);
  if (items.some((i) => i.status === 'pending')) return next(ctx, job, plan, p, baseUrl);
  const toVerify = items.filter((i) => i.status === 'written' && i.kind === 'node');
  if (toVerify.length) {
    const work: WorkRequest[] = toVerify.map((i) => {
      p.open.push(`v${i.seq}`);
      return { id: `${job.id}:v${i.seq}`, kind: 'get', paths: [i.path] };
    });
    await save(ctx, job, p);
    return { work };
  }
  const waiting = items.filter((i) => i.status === 'sent' && i.kind !== 'node');
  if (waiting.length) {
    // Firmware and apps install after the session; their results come by Generic Alert.
    await updateJob(ctx.db, job.id, { sessionRef: null, error: null });
    return { work: [] };
  }
  const fwWritten = items.find((i) => i.kind === 'firmware' && i.status === 'written');
  if (fwWritten) return next(ctx, job, plan, p, baseUrl);
  if (items.some((i) => i.kind === 'firmware' && i.status === 'verified') && items.some((i) => i.status === 'pending'))
    return next(ctx, job, plan, p, baseUrl);
  return finish(ctx, device, job, items);
}

async function finish(ctx: AppContext, device: DeviceRow, job: JobRow, items: RestoreItemRow[]): Promise<JobStep> {
  const bad = items.filter((i) => i.status === 'failed' || i.status === 'mismatch');
  const done = items.filter((i) => i.status !== 'unchanged').length;
  const result = {
    items: items.length,
    unchanged: items.filter((i) => i.status === 'unchanged').length,
    verified: items.filter((i) => i.status === 'verified').length,
    failed: items.filter((i) => i.status === 'failed').length,
    mismatched: items.filter((i) => i.status === 'mismatch').length,
  };
  const error = bad.length
    ? `${bad.length} of ${done} items not restored (${result.failed} failed, ${result.mismatched} did not read back as written)`
    : null;
  await updateJob(ctx.db, job.id, {
    status: bad.length ? 'failed' : 'succeeded',
    error,
    result: JSON.stringify(result),
    sessionRef: null,
  });
  await insertAudit(ctx.db, {
    actor: `device:${device.devId}`,
    action: bad.length ? 'restore.failed' : 'restore.completed',
    deviceId: device.id,
    details: { jobId: job.id, ...result },
  });
  return { work: [], ended: { status: bad.length ? 'failed' : 'succeeded', ...(error ? { error } : {}), result } };
}

/** The user's answer: go on, wait for Wi-Fi, or stop; each goes in the ledger. */
async function consent(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  plan: RestorePlan,
  p: RestoreProgress,
  code: string,
  status: number,
  values: string[] | undefined,
): Promise<JobStep | undefined> {
  const ledger = async (answer: string, text: string) => {
    await insertConsent(ctx.db, {
      deviceId: device.id,
      subscriberId: device.subscriberId,
      jobId: job.id,
      code,
      prompt: text,
      promptVersion: plan.prompt.version,
      answer,
      network: device.networkState,
      cost: askedOf(plan, p).cost,
      reason: (job as JobRow<'restore'>).payload.reason ?? null,
    });
    // The audit log shows consent answers beside the staff actions that asked for them.
    await insertAudit(ctx.db, {
      actor: `handset:${device.devId}`,
      action: `consent.${answer}`,
      deviceId: device.id,
      details: { jobId: job.id, code, cost: askedOf(plan, p).cost },
    });
  };
  const text = code === '1101' ? askedOf(plan, p).fallback : askedOf(plan, p).text;
  if (code === '1103' && (status === 406 || status === 405 || status === 500 || status === 501)) {
    // The handset does not do single choice: ask again as a plain confirmation.
    p.promptCode = '1101';
    await ledger('unsupported', text);
    p.open = p.open.filter((w) => w !== 'c');
    await save(ctx, job, p);
    return { work: [promptWork(job, plan, p)] };
  }
  const choice = code === '1103' && status === 200 ? Number(values?.[0]) : undefined;
  if ((code === '1101' && status === 200) || choice === 1) {
    await ledger('accepted', text);
    p.consent = 'given';
    return undefined;
  }
  if (choice === 2) {
    await ledger('deferred', text);
    p.consent = 'wifi-wait';
    await save(ctx, job, p, {
      status: 'queued',
      sessionRef: null,
      error: 'deferred by the user until the handset is on Wi-Fi',
      wakePending: false,
    });
    await setItemsStatus(ctx.db, job.id, ['sent'], 'pending');
    return { work: [], ended: undefined };
  }
  if (status === 215) {
    await ledger('timeout', text);
    p.consent = 'needed';
    const at = Date.now() + RETRY_UNANSWERED_MS;
    await save(ctx, job, p, {
      status: 'queued',
      sessionRef: null,
      notBefore: at,
      wakePending: true,
      error: `no answer on the handset; asking again after ${new Date(at).toISOString().slice(11, 16)} UTC`,
    });
    return { work: [] };
  }
  await ledger('rejected', text);
  await setItemsStatus(ctx.db, job.id, ['pending', 'sent'], 'skipped');
  await save(ctx, job, p, {
    status: 'rejected',
    sessionRef: null,
    error: 'the user rejected the restore on the handset',
  });
  await insertAudit(ctx.db, {
    actor: `device:${device.devId}`,
    action: 'restore.rejected',
    deviceId: device.id,
    details: { jobId: job.id },
  });
  return { work: [], ended: { status: 'failed', error: 'rejected' } };
}

/** A FUMO or SCOMO result alert whose Correlator names one of our items. */
export async function onRestoreAlert(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<'restore'>,
  seq: number,
  item: GenericAlertEventItem,
  sessionRowId: string,
  baseUrl: string,
): Promise<JobStep> {
  const row = (await listItems(ctx.db, job.id)).find((i) => i.seq === seq);
  if (!row || row.status !== 'sent') return { work: [] };
  const g = { ...item, type: item.type ?? '', format: item.format ?? 'chr' } as GenericAlertItem;
  const fumo = parseFumoResult(g);
  const scomo = fumo ? null : parseScomoResult(g);
  const r = fumo ?? scomo;
  if (!r) return { work: [] };
  await updateItem(
    ctx.db,
    job.id,
    seq,
    r.success
      ? { status: 'written', code: r.resultCode, detail: r.description }
      : { status: 'failed', code: r.resultCode, detail: r.description },
  );
  // The job carries on in this session: read the result back, then whatever follows.
  await updateJob(ctx.db, job.id, { sessionRef: sessionRowId, status: 'running' });
  const { plan } = await planOf(ctx, job);
  const p = progressOf(job);
  p.open = [];
  const work: WorkRequest[] = [];
  if (r.success) {
    const path = row.kind === 'firmware' ? row.path : `${row.path}/Version`;
    p.open.push(`v${seq}`);
    work.push({ id: `${job.id}:v${seq}`, kind: 'get', paths: [path] });
    await save(ctx, job, p);
    return { work };
  }
  await save(ctx, job, p);
  return advance(ctx, device, job, plan, p, baseUrl);
}

const UNCONFIRMED = 'unconfirmed:';

/** The session ended with the restore unfinished: it resumes with what is still different. */
export async function interruptRestore(ctx: AppContext, job: JobRow, reason: string, now: number): Promise<void> {
  const items = await listItems(ctx.db, job.id);
  const { plan } = await planOf(ctx, job as JobRow<'restore'>);
  const steps = new Map(plan.steps.map((s) => [s.seq, s]));
  // A value write whose status never came back may have landed (a client that crashed after
  // storing it): it is read back first and sent again only if it still differs. Interior
  // Adds and Deletes simply go again (418 and 404 are what they want); installs the handset
  // accepted (202) are left to report by alert.
  for (const i of items) {
    if (i.status !== 'sent' || (i.kind !== 'node' && i.code)) continue;
    const s = steps.get(i.seq);
    if (s && isValueStep(s))
      await updateItem(ctx.db, job.id, i.seq, {
        status: 'written',
        detail: `${UNCONFIRMED} the session ended before the handset answered`,
      });
    else await updateItem(ctx.db, job.id, i.seq, { status: 'pending' });
  }
  const p = progressOf(job);
  if (p.consent === 'asked') p.consent = 'needed';
  p.open = [];
  // It keeps its consent and its items: the next session carries on from here.
  await requeueWithBackoff(ctx, job, reason, now, JSON.stringify(p));
}

/**
 * "Put it back as it was before this restore": a plan (a dry run, shown like any other)
 * that restores the finished restore's safety backup onto the same handset, over the same
 * selection, Deleting what the restore added where the handset had nothing.
 */
export async function planUndo(
  ctx: AppContext,
  jobId: string,
  actor: string,
): Promise<Awaited<ReturnType<typeof createPlan>>> {
  const job = await getJob(ctx.db, jobId);
  if (!job || job.kind !== 'restore') throw new RestoreError('not-found', `no restore job ${jobId}`);
  if (job.status === 'running' || job.status === 'queued')
    throw new RestoreError('invalid', 'the restore is still running; it can be undone once it has ended');
  const backup = job.dependsOn ? await getJob(ctx.db, job.dependsOn) : undefined;
  const snapshotId = backup?.result ? (JSON.parse(backup.result) as { snapshotId?: string }).snapshotId : undefined;
  if (!snapshotId || backup?.status !== 'succeeded')
    throw new RestoreError('invalid', 'this restore has no safety backup to go back to');
  const { plan } = await planOf(ctx, job);
  const target = (await getDevice(ctx.db, job.deviceId))!;
  try {
    const made = await createPlan(
      ctx,
      {
        snapshotId,
        targetDevId: target.devId,
        categories: plan.selection.categories,
        ...(plan.selection.paths ? { paths: plan.selection.paths } : {}),
        ...(plan.selection.apps ? { apps: plan.selection.apps } : {}),
        removeExtra: true,
        undoOf: jobId,
      },
      actor,
    );
    await insertAudit(ctx.db, {
      actor,
      action: 'restore.undo-planned',
      deviceId: target.id,
      details: { jobId, planId: made.row.id, snapshotId, summary: made.plan.summary },
    });
    return made;
  } catch (err) {
    if (err instanceof PlanError && err.code === 'empty')
      throw new RestoreError('invalid', 'the safety backup holds nothing of this restore to put back');
    throw err;
  }
}
