/**
 * Work on a handset from the command line: `rewind backup`, `local-backup`,
 * `local-restore`, and `jobs` / `local-backups` to see it. The CLI writes the job into the
 * database; a running Rewind server sends Package #0 within a second and the job runs in
 * the DM session that follows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { getContext } from '../lib/core/context';
import { getJob, jobsForDevice, type JobRow } from '../db/queries/jobs';
import { listLocalBackups } from '../db/queries/local-backups';
import { requestJob } from '../lib/jobs/requests';
import { describeDsResult, isDsJob, type DsJobResult } from '../lib/ds/jobs';
import { LOCAL_TARGETS } from '../lib/omadm/mo/backup-restore';
import type { JobRequest } from '../lib/backup/schemas';
import { jobProgress, publicJob, type BackupProgressView } from '../lib/backup/views';
import { categoriesOption, deviceArg, positionals } from './args';
import { formatBytes, formatTime, printJson, table } from './format';
import { intOption, UsageError, type Command } from './usage';

const ACTOR = 'cli';
const POLL_MS = 500;

export async function queue(devId: string, req: JobRequest): Promise<JobRow> {
  const db = getContext().db;
  const device = await deviceArg(db, devId);
  const { job, created } = await requestJob(db, device, req, ACTOR);
  console.log(
    created
      ? `${job.kind} job ${job.id} queued for ${device.devId}${device.pushAddress ? '' : ' (no push address: it runs when the handset next connects)'}`
      : `a ${job.kind} of ${device.devId} is already ${job.status}: following job ${job.id}`,
  );
  return job;
}

/** One line on where a job stands, e.g. "running: 120 nodes fetched, 2 batches open, 1.2 MB new". */
export function describeJob(job: JobRow): string {
  const result = job.result ? (JSON.parse(job.result) as Record<string, unknown>) : undefined;
  switch (job.status) {
    case 'succeeded':
      if (job.kind === 'backup' && result) {
        return `succeeded: snapshot ${String(result.snapshotId)}, ${Number(result.entries ?? 0)} entries, ${formatBytes(Number(result.bytes ?? 0))} (${formatBytes(Number(result.newBytes ?? 0))} new)`;
      }
      if (isDsJob(job.kind) && result) return `succeeded: ${describeDsResult(result as unknown as DsJobResult)}`;
      return `succeeded${result ? `: ${JSON.stringify(result)}` : ''}`;
    case 'failed':
    case 'cancelled':
    case 'rejected':
      return `${job.status}: ${job.error ?? 'no reason given'}`;
    case 'running': {
      if (job.kind !== 'backup')
        return `running${job.progress ? ` (${(JSON.parse(job.progress) as { phase?: string }).phase ?? 'started'})` : ''}`;
      const p = jobProgress(job) as BackupProgressView | null;
      return p
        ? `running: ${p.nodes} nodes fetched, ${p.openBatches} batch${p.openBatches === 1 ? '' : 'es'} open, ${formatBytes(p.newBytes)} new`
        : 'running';
    }
    default:
      if (job.error)
        return `queued again (attempt ${job.attempts + 1}${job.notBefore ? ` not before ${formatTime(job.notBefore)}` : ''}): ${job.error}`;
      return job.wakePending
        ? 'queued: waiting for a server to send Package #0'
        : 'queued: waiting for the handset to connect';
  }
}

/** Polls the job until it ends or the time is up, printing each change; 0 when it succeeded. */
export async function follow(jobId: string, timeoutS: number): Promise<number> {
  const db = getContext().db;
  const deadline = Date.now() + timeoutS * 1000;
  let last = '';
  for (;;) {
    const job = await getJob(db, jobId);
    if (!job) throw new Error(`job ${jobId} is gone`);
    const line = describeJob(job);
    if (line !== last) {
      (job.status === 'failed' || job.status === 'cancelled' || job.status === 'rejected'
        ? console.error
        : console.log)(line);
      last = line;
    }
    if (job.status === 'succeeded') return 0;
    if (job.status === 'failed' || job.status === 'cancelled' || job.status === 'rejected') return 1;
    if (Date.now() >= deadline) {
      console.error(
        `timed out after ${timeoutS} s with the job ${job.status}; it stays queued and runs when the handset connects`,
      );
      return 1;
    }
    await sleep(POLL_MS);
  }
}

export const backupCommand: Command = {
  summary: 'back up a handset now (Package #0 wakes it); --wait follows the job to its end',
  usage: 'DEV_ID [--categories settings,applications,…] [--wait] [--timeout S]',
  options: { categories: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const categories = categoriesOption(v);
    const timeout = intOption(v, 'timeout', 300, 1, 86_400);
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const job = await queue(devId!, { kind: 'backup', ...(categories ? { categories } : {}) });
    return v.wait ? follow(job.id, timeout) : 0;
  },
};

export const localBackupCommand: Command = {
  summary: 'have the handset back itself up to its own storage or smart card',
  usage: `DEV_ID --target ${LOCAL_TARGETS.join('|')} [--categories a,b]`,
  options: { target: { type: 'string' }, categories: { type: 'string' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const target = LOCAL_TARGETS.find((t) => t === v.target);
    if (!target) throw new UsageError(`--target must be ${LOCAL_TARGETS.join(' or ')}`);
    const categories = categoriesOption(v);
    await queue(devId!, { kind: 'local-backup', target, ...(categories ? { categories } : {}) });
  },
};

export const localRestoreCommand: Command = {
  summary: 'have the handset restore one of its local backups (see local-backups)',
  usage: 'DEV_ID --id LOCAL_ID [--categories a,b]',
  options: { id: { type: 'string' }, categories: { type: 'string' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    if (typeof v.id !== 'string' || !v.id.trim())
      throw new UsageError('--id is required (a local backup the handset reported)');
    const categories = categoriesOption(v);
    await queue(devId!, { kind: 'local-restore', localId: v.id.trim(), ...(categories ? { categories } : {}) });
  },
};

export const jobsCommand: Command = {
  summary: "list a handset's jobs, newest first",
  usage: 'DEV_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const db = getContext().db;
    const jobs = await jobsForDevice(db, (await deviceArg(db, devId!)).id);
    if (v.json) return printJson(jobs.map(publicJob));
    if (!jobs.length) return console.log(`no jobs for ${devId}`);
    console.log(
      table(jobs, [
        { header: 'id', value: (j) => j.id },
        { header: 'kind', value: (j) => j.kind },
        { header: 'status', value: (j) => j.status },
        { header: 'tries', value: (j) => String(j.attempts), align: 'right' },
        { header: 'created (UTC)', value: (j) => formatTime(j.createdAt) },
        { header: 'updated (UTC)', value: (j) => formatTime(j.updatedAt) },
        { header: 'detail', value: (j) => describeJob(j).replace(/^\w+(: )?/, '') },
      ]),
    );
  },
};

export const localBackupsCommand: Command = {
  summary: 'list the backups a handset keeps itself, as it reported them',
  usage: 'DEV_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const db = getContext().db;
    const rows = await listLocalBackups(db, (await deviceArg(db, devId!)).id);
    if (v.json) return printJson(rows.map((r) => ({ ...r, categories: JSON.parse(r.categories) as string[] })));
    if (!rows.length) return console.log(`${devId} has reported no local backup`);
    console.log(
      table(rows, [
        { header: 'local id', value: (r) => r.localId },
        { header: 'target', value: (r) => r.target },
        { header: 'taken', value: (r) => r.takenAt },
        { header: 'categories', value: (r) => (JSON.parse(r.categories) as string[]).join(',') },
        { header: 'entries', value: (r) => String(r.entries), align: 'right' },
        { header: 'size', value: (r) => formatBytes(r.size), align: 'right' },
        { header: 'state', value: (r) => (r.goneAt ? `gone since ${formatTime(r.goneAt)}` : 'on handset') },
      ]),
    );
  },
};
