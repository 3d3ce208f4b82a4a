/**
 * What the server does with a handset in a session, and with the answers. Every session
 * first reads the handset's inventory (firmware, network state); once that is back the
 * session is "ready" and the handset's queued jobs start, so a job that depends on the
 * network (a backup on Wi-Fi only) decides on fresh facts. Each job kind turns session
 * events into more work or an end; nothing is kept in memory between messages.
 */
import { createHash } from 'node:crypto';
import type { AppContext } from '../core/context';
import type { DeviceRow } from '@/db/queries/devices';
import { getDevice, updateDevice } from '@/db/queries/devices';
import {
  blockedByFailure, getJob, jobsInSession, runnableJobs, runningElsewhere, updateJob, type JobRow,
} from '@/db/queries/jobs';
import { insertAudit } from '@/db/queries/audit';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import { markSessionReady, getSessionRow, failSession } from '@/db/queries/sessions';
import type { SessionEvent, WorkRequest } from '../omadm/session/server';
import { parseBrAlert } from '../omadm/mo/backup-restore';
import type { GenericAlertItem } from '../omadm/mo/generic-alert';
import { utf8Decode, base64Decode } from '../omadm/util/bytes';
import { failBackup, interruptBackup, onBackupEvents, startBackup, type JobStep } from '../backup/engine';
import { BlobStoreError } from '../backup/blob-store';
import { createBackupJob, type BackupPayload } from '../backup/jobs';
import { onLocalEvents, onLocalResult, startLocalJob } from '../backup/local';
import { networkAllows, nextScheduledBackup, parseNetwork, policyFor } from '../backup/policy';
import { interruptRestore, onRestoreAlert, onRestoreEvents, startRestore, withValues } from '../restore/engine';
import { expireDsJobs, onDsEvents, onDsResult, startDsJob } from '../ds/jobs';
import { log } from '../core/log';
import { isDiskFull } from '@/db/sql';

const INVENTORY = 'inventory';
const INVENTORY_PATHS = ['./DevDetail/FwV', './DevDetail/SwV', './DevDetail/HwV', './Ext/Network/Bearer', './Ext/Network/Roaming', './Ext/Network/Operator'];

/** A job of kind 'dm-commands' carries engine work requests as-is (used by tests and operators' scripts). */
export interface DmCommandsPayload { work: WorkRequest[] }

type Ev = SessionEvent & { type: string; [k: string]: unknown };

export async function workForNewSession(ctx: AppContext, device: DeviceRow, sessionRowId: string, now: number): Promise<WorkRequest[]> {
  // Jobs still held by a session the handset never finished were interrupted there.
  for (const job of await runningElsewhere(ctx.db, device.id, sessionRowId)) {
    if (!job.sessionRef) continue; // waiting for a result alert, not bound to a session
    const old = await getSessionRow(ctx.db, job.sessionRef);
    if (old?.status === 'active') await failSession(ctx.db, old.id, 'the handset stopped answering');
    await interrupt(ctx, job, 'the session ended before the job finished', now);
  }
  await expireDsJobs(ctx.db, device.id, now);
  return [{ id: INVENTORY, kind: 'get', paths: INVENTORY_PATHS }];
}

function jobIdOf(workId: string): string | undefined {
  const i = workId.indexOf(':');
  return i > 0 ? workId.slice(0, i) : undefined;
}

/** Where handsets reach this server (package downloads): PUBLIC_URL, else the Host they used. */
export interface SessionOptions { baseUrl: string }

export async function handleSessionEvents(
  ctx: AppContext, deviceIn: DeviceRow, sessionRowId: string, events: readonly SessionEvent[], now: number, opts: SessionOptions,
): Promise<WorkRequest[]> {
  let device = deviceIn;
  const work: WorkRequest[] = [];
  const inventory: Record<string, string> = {};
  let inventoryDone = false;
  const byJob = new Map<string, SessionEvent[]>();
  let ended = false;

  for (const raw of events) {
    const e = raw as Ev;
    if (e.type === 'result' && e.workId === INVENTORY) {
      if (e.status === 200) inventory[String(e.path)] = valueText(e.value);
    } else if (e.type === 'work-done' && e.workId === INVENTORY) {
      inventoryDone = true;
    } else if (e.type === 'devinfo') {
      const info = e.values as Record<string, string>;
      await updateDevice(ctx.db, device.id, {
        deviceInfo: JSON.stringify(info),
        ...(info['./DevInfo/Man'] ? { manufacturer: info['./DevInfo/Man'] } : {}),
        ...(info['./DevInfo/Mod'] ? { model: info['./DevInfo/Mod'] } : {}),
      });
    } else if (e.type === 'generic-alert') {
      work.push(...(await onGenericAlert(ctx, device, sessionRowId, e as Extract<SessionEvent, { type: 'generic-alert' }>, now, opts)));
    } else if (e.type === 'session-end') {
      ended = true;
    }
    const wid = typeof e.workId === 'string' ? e.workId : undefined;
    const jobId = wid ? jobIdOf(wid) : undefined;
    if (jobId) (byJob.get(jobId) ?? byJob.set(jobId, []).get(jobId)!).push(raw);
  }

  if (Object.keys(inventory).length) {
    await updateDevice(ctx.db, device.id, {
      ...(inventory['./DevDetail/FwV'] ? { firmware: inventory['./DevDetail/FwV'] } : {}),
      networkState: JSON.stringify({
        bearer: inventory['./Ext/Network/Bearer'] ?? null,
        roaming: inventory['./Ext/Network/Roaming'] === 'true',
        operator: inventory['./Ext/Network/Operator'] ?? null,
      }),
    });
    device = (await getDevice(ctx.db, device.id)) ?? device;
  }

  let anEnd = false;
  for (const [jobId, list] of byJob) {
    const job = await getJob(ctx.db, jobId);
    // A job a newer session of the handset has taken over is that session's now.
    if (!job || job.deviceId !== device.id || job.status !== 'running' || job.sessionRef !== sessionRowId) continue;
    const step = await storageGuard(ctx, device, job, () => jobEvents(ctx, device, job, list, opts));
    work.push(...step.work);
    if (step.ended) anEnd = true;
  }

  if (inventoryDone && !ended) {
    await markSessionReady(ctx.db, sessionRowId, now);
    work.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: true, ...opts })));
  } else if (anEnd && !ended && (await getSessionRow(ctx.db, sessionRowId))?.readyAt) {
    // A job ended: what waited for it (a restore behind its safety backup) may start now.
    work.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, ...opts })));
  }
  if (ended) await endOfSession(ctx, sessionRowId, now);
  return work;
}

async function jobEvents(ctx: AppContext, device: DeviceRow, job: JobRow, events: SessionEvent[], opts: SessionOptions): Promise<JobStep> {
  switch (job.kind) {
    case 'backup': return onBackupEvents(ctx, device, job, events);
    case 'restore': {
      const step = await onRestoreEvents(ctx, device, job, events, opts.baseUrl);
      return { ...step, work: await withValues(ctx, job, step.work) };
    }
    case 'local-backup':
    case 'local-restore': return onLocalEvents(ctx, job, events);
    case 'dm-commands': await recordCommandEvents(ctx, job, events); return { work: [] };
    case 'ds-backup':
    case 'ds-restore': return onDsEvents(ctx, job, events);
    default: return { work: [] };
  }
}

/** Why storage refused a write, when it is full: the blob store or the database's disk. */
export function storageFull(err: unknown): string | undefined {
  if (err instanceof BlobStoreError && err.code === 'no-space') return 'the blob store is out of space';
  if (isDiskFull(err)) return 'the database disk is full';
  return undefined;
}

/**
 * A full store stops the job with that reason, where the handset's message would otherwise
 * fail as a whole: the handset gets its answer and the session goes on (or ends) normally.
 * A backup's attempt is failed, its snapshot with it (never restorable, nothing staged
 * kept); a restore is queued again from where it stands. Other errors propagate.
 */
async function storageGuard(ctx: AppContext, device: DeviceRow, job: JobRow, run: () => Promise<JobStep>): Promise<JobStep> {
  try {
    return await run();
  } catch (err) {
    const full = storageFull(err);
    if (!full) throw err;
    log.error({ err, devId: device.devId, jobId: job.id }, 'storage full');
    const latest = (await getJob(ctx.db, job.id)) ?? job;
    if (job.kind === 'backup') {
      const error = `${full}: the backup stopped and none of it was kept; free space, then back up again`;
      try {
        return { work: [], ...(await failBackup(ctx, device, latest, error)) };
      } catch (again) {
        // The database itself is full: say why on the job at least (a one-row update may
        // still fit), and let the message fail as a whole (dm-session answers it).
        if (!storageFull(again)) throw again;
        try { await updateJob(ctx.db, job.id, { error }); } catch { /* nothing more can be written */ }
        throw err;
      }
    }
    if (job.kind === 'restore') {
      await interruptRestore(ctx, latest, `${full}: the restore stopped and resumes when the handset next connects`, Date.now());
      return { work: [] };
    }
    await updateJob(ctx.db, job.id, { status: 'failed', error: full, sessionRef: null });
    return { work: [], ended: { status: 'failed', error: full } };
  }
}

/** Starts the handset's runnable jobs in this session. */
async function startJobs(ctx: AppContext, device: DeviceRow, sessionRowId: string, now: number, opts: { scheduleDue: boolean } & SessionOptions): Promise<WorkRequest[]> {
  for (const job of await blockedByFailure(ctx.db, device.id)) {
    // Its reason goes with it: "out of space" is what the operator must act on, not "a backup failed".
    const why = job.dependsOn ? (await getJob(ctx.db, job.dependsOn))?.error : undefined;
    await updateJob(ctx.db, job.id, { status: 'failed', error: `the safety backup it waited for failed${why ? `: ${why}` : ''}` });
  }
  if (opts.scheduleDue) await queueDueBackup(ctx, device, now);
  const out: WorkRequest[] = [];
  // The handset is here now: retries do not wait out their backoff.
  for (const job of await runnableJobs(ctx.db, device.id, now, { ignoreBackoff: true })) {
    switch (job.kind) {
      case 'backup': {
        const payload = JSON.parse(job.payload) as BackupPayload;
        if (payload.trigger === 'scheduled' || payload.trigger === 'device') {
          const allowed = networkAllows(await policyFor(ctx.db, device), parseNetwork(device.networkState));
          if (!allowed.ok) {
            // Deferred, not failed: the next session on an allowed network takes it.
            if (job.error !== allowed.reason) await updateJob(ctx.db, job.id, { error: allowed.reason, wakePending: false });
            continue;
          }
        }
        out.push(...(await storageGuard(ctx, device, job, () => startBackup(ctx, device, job, sessionRowId))).work);
        break;
      }
      case 'local-backup':
      case 'local-restore':
        out.push(...(await startLocalJob(ctx, job, sessionRowId)).work);
        break;
      case 'restore':
        out.push(...(await withValues(ctx, job, (await startRestore(ctx, device, job, sessionRowId, opts.baseUrl)).work)));
        break;
      case 'ds-backup':
      case 'ds-restore':
        out.push(...(await startDsJob(ctx, device, job, sessionRowId, opts.baseUrl)).work);
        break;
      case 'dm-commands': {
        const payload = JSON.parse(job.payload) as DmCommandsPayload;
        await updateJob(ctx.db, job.id, { status: 'running', attempts: job.attempts + 1, sessionRef: sessionRowId, wakePending: false });
        for (const w of payload.work) out.push({ ...w, id: `${job.id}:${w.id}` } as WorkRequest);
        break;
      }
      default:
        break;
    }
  }
  return out;
}

/** A handset that connects by itself while its policy's backup is due is backed up now. */
async function queueDueBackup(ctx: AppContext, device: DeviceRow, now: number): Promise<void> {
  const policy = await policyFor(ctx.db, device);
  const last = await lastCompleteSnapshot(ctx.db, device.id);
  const due = nextScheduledBackup(policy, { devId: device.devId, createdAt: device.createdAt, lastCompleteAt: last?.completedAt ?? null });
  if (due !== undefined && due <= now) await createBackupJob(ctx.db, device, { trigger: 'scheduled', actor: 'scheduler', reason: 'connected while due' });
}

async function onGenericAlert(
  ctx: AppContext, device: DeviceRow, sessionRowId: string, e: Extract<SessionEvent, { type: 'generic-alert' }>, now: number, opts: SessionOptions,
): Promise<WorkRequest[]> {
  const out: WorkRequest[] = [];
  for (const item of e.items) {
    let br;
    try {
      br = parseBrAlert({ ...item, type: item.type ?? '', format: item.format ?? 'chr' } as GenericAlertItem);
    } catch (err) {
      log.info({ devId: device.devId, type: item.type, err: (err as Error).message }, 'malformed B&R alert');
      await insertAudit(ctx.db, { actor: `device:${device.devId}`, action: 'dm.alert-rejected', deviceId: device.id, details: { type: item.type, error: (err as Error).message } });
      continue;
    }
    if (!br) {
      await insertAudit(ctx.db, { actor: `device:${device.devId}`, action: 'dm.generic-alert', deviceId: device.id, details: { correlator: e.correlator, item } });
      // A FUMO or SCOMO result for a restore: the Correlator is `<job id>:<item>`.
      const m = e.correlator ? /^([0-9a-f-]{36}):(\d+)$/.exec(e.correlator) : null;
      const job = m ? await getJob(ctx.db, m[1]!) : undefined;
      if (job && job.kind === 'restore' && job.deviceId === device.id) {
        const step = await onRestoreAlert(ctx, device, job, Number(m![2]), item, sessionRowId, opts.baseUrl);
        out.push(...(await withValues(ctx, job, step.work)));
        if (step.ended) out.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, ...opts })));
      }
      continue;
    }
    if (br.kind === 'backupRequest') {
      await createBackupJob(ctx.db, device, { trigger: 'device', categories: br.alert.categories, actor: `device:${device.devId}`, reason: br.alert.reason });
      // Answered in this same session once the inventory is in (it usually is not yet in Package #1).
      if ((await getSessionRow(ctx.db, sessionRowId))?.readyAt) out.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, ...opts })));
    } else if (br.kind === 'localBackupResult' || br.kind === 'localRestoreResult') {
      await onLocalResult(ctx, device, e.correlator, br);
    } else if (br.kind === 'dsResult') {
      await onDsResult(ctx, device, e.correlator, br.alert);
    }
  }
  return out;
}

/** The session is over: whatever it still held is done, or interrupted. */
async function endOfSession(ctx: AppContext, sessionRowId: string, now: number): Promise<void> {
  for (const job of await jobsInSession(ctx.db, sessionRowId)) await interrupt(ctx, job, 'the session ended before the job finished', now, true);
}

async function interrupt(ctx: AppContext, job: JobRow, reason: string, now: number, sessionEnded = false): Promise<void> {
  if (job.kind === 'backup') await interruptBackup(ctx, job, reason, now);
  else if (job.kind === 'restore') await interruptRestore(ctx, job, reason, now);
  else if (job.kind === 'dm-commands' && sessionEnded) await finishCommands(ctx, job);
  else await updateJob(ctx.db, job.id, { status: 'queued', sessionRef: null, error: reason });
}

/** Results and statuses of 'dm-commands' jobs are kept on the job; values as size and SHA-256. */
async function recordCommandEvents(ctx: AppContext, job: JobRow, events: readonly SessionEvent[]): Promise<void> {
  const list = events.map((raw) => {
    const e = raw as Ev;
    const value = e.value === undefined ? undefined : base64Decode(String(e.value));
    return { ...e, value: undefined, ...(value ? { size: value.length, sha256: createHash('sha256').update(value).digest('hex') } : {}) };
  });
  const prev = job.result ? (JSON.parse(job.result) as { events: unknown[] }).events : [];
  await updateJob(ctx.db, job.id, { result: JSON.stringify({ events: prev.concat(list) }) });
}

/** A 'dm-commands' job succeeded when every command it sent was answered with a 2xx. */
async function finishCommands(ctx: AppContext, jobIn: JobRow): Promise<void> {
  const job = (await getJob(ctx.db, jobIn.id)) ?? jobIn;
  const events = job.result ? (JSON.parse(job.result) as { events: Array<{ type: string; status?: number }> }).events : [];
  const answered = events.filter((e) => e.type === 'status' || e.type === 'result' || e.type === 'ui');
  const bad = answered.filter((e) => e.status === undefined || e.status < 200 || e.status > 299);
  await updateJob(ctx.db, job.id, bad.length || answered.length === 0
    ? { status: 'failed', error: answered.length ? `${bad.length} of ${answered.length} commands failed` : 'the session ended before any command was answered' }
    : { status: 'succeeded' });
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? utf8Decode(base64Decode(v), false) : '';
}
