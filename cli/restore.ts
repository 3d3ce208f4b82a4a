/**
 * Restores from the command line: `rewind restore` (a dry run that prints the plan, or the
 * plan executed, with --wait following it to its end), `rewind job` (one job, a restore's
 * items and consent entries), `rewind retry-failed` and `rewind undo` (a finished restore
 * put back from its safety backup). The same domain code as POST /restores/plan,
 * /plans/{id}/execute, /jobs/{id}/retry and /jobs/{id}/undo, with the same JSON.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getContext } from '../lib/core/context';
import { getDevice } from '../db/queries/devices';
import { getJob, type JobRow } from '../db/queries/jobs';
import { listConsents, listItems, type ConsentRow, type RestoreItemRow } from '../db/queries/restore';
import { getSnapshot } from '../db/queries/snapshots';
import {
  computePlan,
  createPlan,
  isValueStep,
  type PlanRequest,
  type PlanStep,
  type RestorePlan,
} from '../lib/restore/plan';
import { executePlan, planUndo, retryFailed, type RestoreProgress } from '../lib/restore/engine';
import { itemCounts, jobDetail } from '../lib/restore/views';
import { splitList } from '../lib/backup/schemas';
import { appIdSchema, planPathsSchema } from '../lib/restore/schemas';
import { publicJob } from '../lib/backup/views';
import { categoriesOption, deviceArg, positionals, type Values } from './args';
import { describeJob } from './backups';
import { formatBytes, formatTime, printJson, table } from './format';
import { intOption, required, UsageError, type Command } from './usage';

const ACTOR = 'cli';
const POLL_MS = 500;

/** The plan request the options describe (bad values are usage errors). */
function planRequest(v: Values, snapshotId: string): PlanRequest {
  const categories = categoriesOption(v);
  let paths: string[] | undefined;
  if (v.paths !== undefined) {
    const r = planPathsSchema.safeParse(splitList(String(v.paths)));
    if (!r.success)
      throw new UsageError(
        `--paths takes comma-separated DM paths such as ./Settings/Email: ${r.error.issues[0]!.message}`,
      );
    paths = r.data;
  }
  let apps: string[] | undefined;
  if (v.apps !== undefined) {
    apps = splitList(String(v.apps));
    const bad = apps.find((a) => !appIdSchema.safeParse(a).success);
    if (!apps.length || bad !== undefined)
      throw new UsageError(
        `--apps takes comma-separated application ids such as com.shield.av${bad !== undefined ? `: ${JSON.stringify(bad)}` : ''}`,
      );
  }
  let keep: string[] | undefined;
  if (v.keep !== undefined) {
    const r = planPathsSchema.safeParse(splitList(String(v.keep)));
    if (!r.success) throw new UsageError(`--keep takes comma-separated DM paths: ${r.error.issues[0]!.message}`);
    keep = r.data;
  }
  if (v.to !== undefined && (typeof v.to !== 'string' || !v.to.trim()))
    throw new UsageError('--to takes the DevId of the handset to restore to');
  return {
    snapshotId,
    ...(typeof v.to === 'string' ? { targetDevId: v.to.trim() } : {}),
    ...(categories ? { categories } : {}),
    ...(paths ? { paths } : {}),
    ...(apps ? { apps } : {}),
    ...(v['allow-downgrade'] ? { allowFirmwareDowngrade: true } : {}),
    ...(v['keep-newer'] ? { keepNewer: true } : {}),
    ...(keep ? { keep } : {}),
    ...(v['remove-extra'] ? { removeExtra: true } : {}),
  };
}

/** `--reason`, required when a restore is started (not for a dry run). */
function reasonOption(v: Values): string {
  const reason = typeof v.reason === 'string' ? v.reason.trim() : '';
  if (!reason)
    throw new UsageError('--reason is required: say why the restore is started (a reason or a ticket reference)');
  if (reason.length > 500) throw new UsageError('--reason takes at most 500 characters');
  return reason;
}

const indent = (text: string, by = '  ') =>
  text
    .split('\n')
    .map((l) => (l ? by + l : l))
    .join('\n');

/** The plan for people: steps by kind, the bytes and cost, the exact prompt, and what will not be carried. */
export function formatPlan(plan: RestorePlan): string {
  const out: string[] = [
    `restore from snapshot ${plan.snapshotId} of ${plan.sourceDevId} (taken ${formatTime(plan.snapshotTakenAt)})`,
    `  to       ${plan.targetDevId}${plan.migration ? ' (another handset of the subscriber: a migration)' : ' (the same handset)'}`,
    `  covers   ${plan.selection.categories.join(', ')}${plan.selection.paths ? `; only ${plan.selection.paths.join(', ')}` : ''}${plan.selection.apps ? `; apps ${plan.selection.apps.join(', ')}` : ''}`,
  ];
  const firmware = plan.steps.filter((s) => s.kind === 'firmware');
  const apps = plan.steps.filter((s) => s.kind === 'app');
  const nodes = plan.steps.filter(
    (s): s is Extract<PlanStep, { kind: 'node' }> => s.kind === 'node' && s.op !== 'unchanged' && s.op !== 'exists',
  );
  if (plan.summary) {
    const m = plan.summary;
    out.push(
      `  against  ${plan.comparedWith ? `the handset as backed up ${formatTime(plan.comparedWith.takenAt)}` : 'nothing: the handset has no complete backup, every value is written'}`,
      `  summary  unchanged ${m.unchanged} · will change ${m.change} · will add ${m.add} · will remove ${m.remove} · newer kept ${m.keep} · not carried ${m.notCarried}`,
    );
  }
  out.push('', `firmware (${firmware.length}):`);
  for (const s of firmware)
    out.push(`  ${s.seq}. ${s.from ?? '(unknown)'} → ${s.to} through FUMO (${formatBytes(s.bytes)})`);
  if (!firmware.length) out.push('  none');
  out.push('', `apps (${apps.length}):`);
  for (const s of apps)
    out.push(
      `  ${s.seq}. ${s.name}${s.name !== s.appId ? ` [${s.appId}]` : ''} ${s.before ? `${s.before} → ` : ''}${s.version} through SCOMO (${formatBytes(s.bytes)})`,
    );
  if (!apps.length) out.push('  none');
  out.push('', `nodes that change (${nodes.length}):`);
  if (nodes.length) {
    const shown = (side: { text?: string; size: number } | undefined, hash: string | null | undefined) =>
      !side || !hash
        ? '-'
        : side.text !== undefined
          ? JSON.stringify(side.text)
          : `${formatBytes(side.size)} ${hash.slice(0, 12)}`;
    out.push(
      indent(
        table(nodes, [
          { header: 'seq', value: (s) => String(s.seq), align: 'right' },
          { header: 'op', value: (s) => s.op },
          { header: 'path', value: (s) => s.path },
          {
            header: 'before → after',
            value: (s) =>
              s.op === 'delete'
                ? `${shown(s.was, s.before)} → (removed)`
                : isValueStep(s)
                  ? `${shown(s.was, s.before)} → ${shown(s.will, s.hash)}`
                  : 'folder made',
          },
          {
            header: 'note',
            value: (s) =>
              [
                isValueStep(s) && s.newer ? `newer on the handset (changed ${formatTime(s.newer.at)})` : '',
                s.op === 'keep' ? "kept: the handset's value stays" : '',
                isValueStep(s) && s.group ? `atomic with ${s.group}` : '',
              ]
                .filter(Boolean)
                .join('; '),
          },
        ]),
      ),
    );
  } else out.push('  none');
  out.push(
    '',
    `bytes    ${formatBytes(plan.bytes)} (${plan.bytes} bytes)`,
    `cost     ${plan.cost.text} (network: ${plan.cost.network})`,
    `prompt   ${JSON.stringify(plan.prompt.text)}`,
    `choices  ${plan.prompt.choices.map((c, i) => `${i + 1}. ${c}`).join('  ')}`,
    `         where the handset refuses a choice (1103), it is asked to confirm (1101): ${JSON.stringify(plan.prompt.fallback.text)}`,
    `         prompt version ${plan.prompt.version}`,
  );
  if (plan.firmwareDowngradeAllowed) out.push('firmware downgrade allowed');
  out.push('', `will not be carried (${plan.notCarried.length}):`);
  for (const n of plan.notCarried) out.push(`  ${n.path}: ${n.reason}`);
  if (!plan.notCarried.length) out.push('  nothing: every node selected is carried');
  if (plan.reissue.length)
    out.push('', 'certificates to issue anew for the new handset:', ...plan.reissue.map((r) => `  ${r}`));
  return out.join('\n');
}

function progressOf(job: JobRow): Partial<RestoreProgress> {
  try {
    return job.progress ? (JSON.parse(job.progress) as RestoreProgress) : {};
  } catch {
    return {};
  }
}

/** One line on where a restore stands, e.g. "running: 12/40 items verified". */
export function describeRestore(job: JobRow, items: readonly RestoreItemRow[], backup?: JobRow): string {
  const n = itemCounts(items);
  const bad = n.failed + n.mismatch;
  switch (job.status) {
    case 'succeeded':
      return `succeeded: ${n.verified} of ${n.total - n.unchanged} items verified${n.unchanged ? `, ${n.unchanged} already as in the backup (not sent)` : ''}`;
    case 'failed':
    case 'cancelled':
    case 'rejected':
      return `${job.status}: ${job.error ?? 'no reason given'}`;
    case 'running': {
      const asking = progressOf(job).consent === 'asked' ? ', waiting for the user to answer the prompt' : '';
      return `running: ${n.verified}/${n.total - n.unchanged} items verified${bad ? `, ${bad} failed` : ''}${asking}`;
    }
    default:
      if (backup && backup.status !== 'succeeded')
        return `waiting for the safety backup ${backup.id}: ${describeJob(backup)}`;
      if (job.error)
        return `waiting: ${job.error}${job.notBefore && job.notBefore > Date.now() ? ` (not before ${formatTime(job.notBefore)})` : ''}`;
      return job.wakePending
        ? 'queued: waiting for a server to send Package #0'
        : 'queued: waiting for the handset to connect';
  }
}

function networkText(json: string | null): string {
  if (!json) return 'unknown';
  try {
    const n = JSON.parse(json) as { bearer?: string | null; roaming?: boolean };
    return `${n.bearer ?? 'unknown'}${n.roaming ? ', roaming' : ''}`;
  } catch {
    return 'unknown';
  }
}

function consentLine(c: ConsentRow): string {
  return `consent: ${c.answer} (${c.code === '1101' ? 'confirmation' : 'choice'} prompt ${c.code}, on ${networkText(c.network)}${c.cost ? `, ${c.cost}` : ''})`;
}

/** Polls a restore until it ends or the time is up, printing each change; 0 when every item was verified. */
async function follow(jobId: string, timeoutS: number): Promise<number> {
  const db = getContext().db;
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  let consentsSeen = 0;
  for (;;) {
    const job = await getJob(db, jobId);
    if (!job) throw new Error(`job ${jobId} is gone`);
    const backup = job.dependsOn ? await getJob(db, job.dependsOn) : undefined;
    const consents = (await listConsents(db, { jobId })).reverse();
    for (const c of consents.slice(consentsSeen)) console.log(consentLine(c));
    consentsSeen = consents.length;
    const items = await listItems(db, jobId);
    const line = describeRestore(job, items, backup);
    const ended =
      job.status === 'succeeded' || job.status === 'failed' || job.status === 'cancelled' || job.status === 'rejected';
    if (line !== last) {
      (ended && job.status !== 'succeeded' ? console.error : console.log)(line);
      last = line;
    }
    if (job.status === 'succeeded') return 0;
    if (ended) {
      for (const i of items.filter((x) => x.status === 'failed' || x.status === 'mismatch'))
        console.error(`  ${i.seq}. ${i.path}: ${i.status}${i.detail ? ` (${i.detail})` : ''}`);
      return 1;
    }
    if (job.status === 'queued' && backup && (backup.status === 'failed' || backup.status === 'cancelled')) {
      console.error(
        `the safety backup ${backup.id} ${backup.status}: ${backup.error ?? 'no reason given'}; the restore will not run`,
      );
      return 1;
    }
    if (Date.now() >= deadline) {
      console.error(
        `timed out after ${timeoutS} s with the restore ${job.status}; it stays queued and runs when the handset connects`,
      );
      return 1;
    }
    await sleep(POLL_MS);
  }
}

export const restoreCommand: Command = {
  summary: 'plan a restore from a snapshot (--dry-run prints it) or run it; --wait follows it to its end',
  usage:
    'DEV_ID --snapshot SNAPSHOT_ID [--categories a,b] [--paths ./X,./Y] [--apps ID,ID] [--to TARGET_DEV_ID] [--allow-downgrade] [--keep-newer] [--keep ./X,./Y] [--remove-extra] (--dry-run [--json] | --reason TEXT [--json | --wait [--timeout S]])',
  options: {
    snapshot: { type: 'string' },
    categories: { type: 'string' },
    paths: { type: 'string' },
    apps: { type: 'string' },
    to: { type: 'string' },
    'allow-downgrade': { type: 'boolean' },
    'keep-newer': { type: 'boolean' },
    keep: { type: 'string' },
    'remove-extra': { type: 'boolean' },
    reason: { type: 'string' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const snapshotId = required(v, 'snapshot');
    if (v['dry-run'] && v.wait) throw new UsageError('--dry-run and --wait exclude each other');
    if (v.json && v.wait) throw new UsageError('--json and --wait exclude each other');
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const timeout = intOption(v, 'timeout', 300, 1, 86_400);
    const req = planRequest(v, snapshotId);
    const reason = v['dry-run'] ? undefined : reasonOption(v);
    const ctx = getContext();
    const source = await deviceArg(ctx.db, devId!);
    const snap = await getSnapshot(ctx.db, snapshotId);
    if (!snap) throw new Error(`no snapshot ${snapshotId}`);
    if (snap.deviceId !== source.id) {
      throw new Error(
        `snapshot ${snapshotId} is a backup of ${(await getDevice(ctx.db, snap.deviceId))?.devId ?? 'another device'}, not of ${source.devId}: name the snapshot's handset, and the handset to restore to with --to`,
      );
    }
    if (v['dry-run']) {
      const plan = await computePlan(ctx, req);
      if (v.json) return printJson(plan);
      console.log(formatPlan(plan));
      console.log('\ndry run: nothing was sent; run it again without --dry-run to restore');
      return 0;
    }
    const { row, plan } = await createPlan(ctx, req, ACTOR);
    const { job, backup } = await executePlan(ctx, row.id, ACTOR, reason);
    if (v.json)
      return printJson({
        planId: row.id,
        planHash: row.planHash,
        plan,
        job: publicJob(job),
        safetyBackup: backup && publicJob(backup),
      });
    const target = (await getDevice(ctx.db, job.deviceId))!;
    console.log(
      `plan ${row.id}: ${plan.steps.length} step${plan.steps.length === 1 ? '' : 's'}, ${formatBytes(plan.bytes)}, ${plan.cost.text}; ${plan.notCarried.length} not carried`,
    );
    console.log(
      `restore job ${job.id} queued for ${target.devId} ${backup ? `after safety backup ${backup.id}` : NO_SAFETY}${target.pushAddress ? '' : ' (no push address: it runs when the handset next connects)'}`,
    );
    return v.wait ? follow(job.id, timeout) : 0;
  },
};

/** Said when the handset's policy takes no safety backup before updates. */
const NO_SAFETY =
  "without a safety backup (the handset's policy takes none before updates; this restore cannot be undone)";

export const jobCommand: Command = {
  summary: "one job: status, error, attempts; a restore's items and consent entries",
  usage: 'JOB_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [id] = positionals(pos, ['JOB_ID']);
    const db = getContext().db;
    const job = await getJob(db, id!);
    if (!job) throw new Error(`no job ${id}`);
    if (v.json) return printJson(await jobDetail(db, job));
    const devId = (await getDevice(db, job.deviceId))?.devId ?? job.deviceId;
    const backup = job.dependsOn ? await getJob(db, job.dependsOn) : undefined;
    const items = job.kind === 'restore' ? await listItems(db, job.id) : [];
    const out: string[] = [
      `job ${job.id}: ${job.kind} of ${devId}${job.kind === 'restore' ? ` (plan ${job.payload.planId})` : ''}`,
      ...(job.kind === 'restore' && job.payload.reason ? [`  reason    ${job.payload.reason}`] : []),
      `  status    ${job.kind === 'restore' ? describeRestore(job, items, backup) : describeJob(job)}`,
      `  error     ${job.error ?? '-'}`,
      `  attempts  ${job.attempts}`,
      `  created   ${formatTime(job.createdAt)}, updated ${formatTime(job.updatedAt)}`,
    ];
    if (backup) out.push(`  after     ${backup.kind} ${backup.id} (${backup.status})`);
    if (job.kind !== 'restore') {
      if (job.result) out.push(`  result    ${job.result}`);
      return console.log(out.join('\n'));
    }
    const n = itemCounts(items);
    const summary = (['verified', 'unchanged', 'written', 'sent', 'pending', 'failed', 'mismatch', 'skipped'] as const)
      .filter((s) => n[s])
      .map((s) => `${n[s]} ${s}`)
      .join(', ');
    out.push('', `items (${n.total}${summary ? `: ${summary}` : ''}):`);
    if (items.length) {
      out.push(
        indent(
          table(items, [
            { header: 'seq', value: (i) => String(i.seq), align: 'right' },
            { header: 'kind', value: (i) => i.kind },
            { header: 'path', value: (i) => i.path },
            { header: 'op', value: (i) => i.op },
            { header: 'status', value: (i) => i.status },
            {
              header: 'detail',
              value: (i) => [i.code !== null ? String(i.code) : '', i.detail ?? ''].filter(Boolean).join(' ') || '-',
            },
          ]),
        ),
      );
    }
    const consents = (await listConsents(db, { jobId: job.id })).reverse();
    out.push('', `consents (${consents.length}):`);
    if (consents.length) {
      out.push(
        indent(
          table(consents, [
            { header: 'time (UTC)', value: (c) => formatTime(c.at) },
            { header: 'answer', value: (c) => c.answer },
            { header: 'code', value: (c) => c.code },
            { header: 'version', value: (c) => c.promptVersion },
            { header: 'network', value: (c) => networkText(c.network) },
            { header: 'cost', value: (c) => c.cost ?? '-' },
          ]),
        ),
      );
      for (const p of [...new Set(consents.map((c) => c.prompt))]) out.push(`  prompt: ${JSON.stringify(p)}`);
    } else out.push('  none yet');
    console.log(out.join('\n'));
  },
};

export const retryFailedCommand: Command = {
  summary: "send a finished restore's failed items again (its user is asked first)",
  usage: 'JOB_ID',
  options: {},
  async run(_v, pos) {
    const [id] = positionals(pos, ['JOB_ID']);
    const ctx = getContext();
    const job = await retryFailed(ctx, id!, ACTOR);
    const again = (await listItems(ctx.db, job.id, ['pending'])).length;
    console.log(
      `restore job ${job.id} queued again: ${again} item${again === 1 ? '' : 's'} to send again once the handset's user agrees`,
    );
  },
};

export const undoCommand: Command = {
  summary: 'put a handset back as it was before a finished restore (a restore from its safety backup)',
  usage: 'JOB_ID (--dry-run [--json] | --reason TEXT [--json | --wait [--timeout S]])',
  options: {
    'dry-run': { type: 'boolean' },
    reason: { type: 'string' },
    json: { type: 'boolean' },
    wait: { type: 'boolean' },
    timeout: { type: 'string' },
  },
  async run(v, pos) {
    const [id] = positionals(pos, ['JOB_ID']);
    if (v['dry-run'] && v.wait) throw new UsageError('--dry-run and --wait exclude each other');
    if (v.json && v.wait) throw new UsageError('--json and --wait exclude each other');
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const timeout = intOption(v, 'timeout', 300, 1, 86_400);
    const reason = v['dry-run'] ? undefined : reasonOption(v);
    const ctx = getContext();
    const { row, plan } = await planUndo(ctx, id!, ACTOR);
    if (v['dry-run']) {
      if (v.json) return printJson({ planId: row.id, planHash: row.planHash, plan });
      console.log(formatPlan(plan));
      console.log(`\ndry run: nothing was sent; run it again with --reason to put the handset back`);
      return 0;
    }
    const { job, backup } = await executePlan(ctx, row.id, ACTOR, reason);
    if (v.json)
      return printJson({
        planId: row.id,
        planHash: row.planHash,
        plan,
        job: publicJob(job),
        safetyBackup: backup && publicJob(backup),
      });
    console.log(
      `undo of ${id}: restore job ${job.id} queued ${backup ? `after safety backup ${backup.id}` : NO_SAFETY}`,
    );
    return v.wait ? follow(job.id, timeout) : 0;
  },
};
