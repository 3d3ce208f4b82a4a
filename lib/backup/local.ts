/**
 * Backups the handset keeps itself, on its own storage or the smart card (Rewind B&R MO,
 * `LocalBackup` / `LocalRestore`). The server orders one with an Exec whose Correlator is
 * the job id; the handset answers 202, does the work after the session, and reports in a
 * later session by Generic Alert. The manifest it reports (where, when, what, root hash)
 * is recorded so agents can see it and order a local restore of it.
 */
import type { DeviceRow } from '@/db/queries/devices';
import { getJob, updateJob, type JobRow } from '@/db/queries/jobs';
import { upsertLocalBackup } from '@/db/queries/local-backups';
import { insertAudit } from '@/db/queries/audit';
import type { AppContext } from '../core/context';
import { BR, JSON_TYPE, brResultText, isBrSuccess, type BrAlert } from '../omadm/mo/backup-restore';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import type { JobStep } from './engine';

export async function startLocalJob(
  ctx: AppContext,
  job: JobRow<'local-backup' | 'local-restore'>,
  sessionRowId: string,
): Promise<JobStep> {
  const exec: WorkRequest =
    job.kind === 'local-backup'
      ? {
          id: `${job.id}:exec`,
          kind: 'exec',
          path: BR.LocalBackup,
          correlator: job.id,
          format: 'chr',
          type: JSON_TYPE,
          data: JSON.stringify({ target: job.payload.target, categories: job.payload.categories }),
        }
      : {
          id: `${job.id}:exec`,
          kind: 'exec',
          path: BR.LocalRestore,
          correlator: job.id,
          format: 'chr',
          type: JSON_TYPE,
          data: JSON.stringify({
            id: job.payload.localId,
            ...(job.payload.categories ? { categories: job.payload.categories } : {}),
          }),
        };
  await updateJob(ctx.db, job.id, {
    status: 'running',
    sessionRef: sessionRowId,
    attempts: job.attempts + 1,
    wakePending: false,
    progress: JSON.stringify({ phase: 'exec' }),
  });
  return { work: [exec] };
}

/** The Exec's status: accepted (the result comes later, by alert) or refused. */
export async function onLocalEvents(ctx: AppContext, job: JobRow, events: readonly SessionEvent[]): Promise<JobStep> {
  for (const e of events) {
    if (e.type !== 'status' || e.cmd !== 'Exec') continue;
    if (e.status === 200 || e.status === 202) {
      // Not bound to this session any more: the handset reports in a session of its own.
      await updateJob(ctx.db, job.id, {
        sessionRef: null,
        progress: JSON.stringify({ phase: 'awaiting-result', accepted: e.status }),
      });
      return { work: [] };
    }
    const error = `the handset refused the ${job.kind === 'local-backup' ? 'LocalBackup' : 'LocalRestore'} Exec with status ${e.status}`;
    await updateJob(ctx.db, job.id, { status: 'failed', error });
    return { work: [], ended: { status: 'failed', error } };
  }
  return { work: [] };
}

/** A local backup or restore result alert; finds its job by the Correlator. */
export async function onLocalResult(
  ctx: AppContext,
  device: DeviceRow,
  correlator: string | undefined,
  alert: BrAlert,
): Promise<void> {
  const job = correlator ? await getJob(ctx.db, correlator) : undefined;
  const mine = job && job.deviceId === device.id ? job : undefined;
  if (alert.kind === 'localBackupResult') {
    const r = alert.alert;
    if (r.manifest && isBrSuccess(r.result)) {
      const m = r.manifest;
      await upsertLocalBackup(ctx.db, {
        deviceId: device.id,
        localId: m.id,
        target: m.target,
        takenAt: m.time,
        categories: JSON.stringify(m.categories),
        entries: m.entries,
        size: m.size,
        rootHash: m.rootHash,
        jobId: mine?.id ?? null,
      });
    }
    await settle(ctx, device, mine, r.result, { manifest: r.manifest ?? null }, 'local-backup');
  } else if (alert.kind === 'localRestoreResult') {
    await settle(
      ctx,
      device,
      mine,
      alert.alert.result,
      { localId: alert.alert.id, entries: alert.alert.entries ?? null },
      'local-restore',
    );
  }
}

async function settle(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow | undefined,
  code: number,
  result: unknown,
  what: string,
): Promise<void> {
  const ok = isBrSuccess(code);
  await insertAudit(ctx.db, {
    actor: `device:${device.devId}`,
    action: `${what}.${ok ? 'completed' : 'failed'}`,
    deviceId: device.id,
    details: { jobId: job?.id ?? null, code, result },
  });
  if (!job || job.status !== 'running') return;
  await updateJob(
    ctx.db,
    job.id,
    ok
      ? { status: 'succeeded', result: JSON.stringify({ code, ...(result as object) }) }
      : { status: 'failed', error: `${code} ${brResultText(code)}`, result: JSON.stringify({ code }) },
  );
}
