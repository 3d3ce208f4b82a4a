/**
 * What the server does with a handset in a session, and with the answers. Every session
 * first reads the handset's inventory (firmware, network state); once that is back the
 * session is "ready" and the handset's queued jobs start, so a job that depends on the
 * network (a backup on Wi-Fi only) decides on fresh facts. Each job kind turns session
 * events into more work or an end; nothing is kept in memory between messages.
 */
import type { AppContext } from '../core/context';
import type { DeviceRow } from '@/db/queries/devices';
import { getDevice, patchedDevice, updateDevice } from '@/db/queries/devices';
import type { Db } from '@/db/client';
import {
  blockedByFailure,
  getJob,
  jobsInSession,
  runnableJobs,
  runningElsewhere,
  updateJob,
  type JobRow,
} from '@/db/queries/jobs';
import { insertAudit } from '@/db/queries/audit';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import { markSessionReady, getSessionRow, failSession, noteSessionError } from '@/db/queries/sessions';
import type { SessionEvent, WorkRequest } from '../omadm/session/server';
import { parseBrAlert } from '../omadm/mo/backup-restore';
import type { GenericAlertItem } from '../omadm/mo/generic-alert';
import { base64Decode } from '../omadm/util/bytes';
import { readableText } from '../core/format';
import type { JobStep } from '../backup/engine';
import { createBackupJob } from '../backup/jobs';
import { onLocalResult } from '../backup/local';
import { nextScheduledBackup } from '../backup/policy';
import { atClose, flushClosing, flushEarlierWork, messagePolicy } from '../jobs/message-scope';
import { onRestoreAlert, withValues } from '../restore/engine';
import { expireDsJobs, onDsResult } from '../ds/jobs';
import { failForFullStorage, requeueInterrupted, type JobSession } from '../jobs/handler';
import { jobHandler } from '../jobs/registry';
import { storageFull } from '../jobs/storage';
import { KeyError } from '../backup/keyring';
import { BlobStoreError } from '../backup/blob-store';
import { log } from '../core/log';
import { STOPPED_ANSWERING } from '../devices/history-words';
import { noteFirmware } from '@/db/queries/firmware-runs';
import { noteJobEnds } from '../alerts/evaluate';

const INVENTORY = 'inventory';
/** What the session reads and keeps (SwV and HwV were read too, and kept nowhere: half a KB of XML a session). */
const INVENTORY_PATHS = ['./DevDetail/FwV', './Ext/Network/Bearer', './Ext/Network/Roaming', './Ext/Network/Operator'];

type Ev = SessionEvent & { type: string; [k: string]: unknown };

export async function workForNewSession(
  ctx: AppContext,
  device: DeviceRow,
  sessionRowId: string,
  now: number,
): Promise<WorkRequest[]> {
  // Jobs still held by a session the handset never finished were interrupted there.
  for (const job of await runningElsewhere(ctx.db, device.id, sessionRowId)) {
    if (!job.sessionRef) continue; // waiting for a result alert, not bound to a session
    const old = await getSessionRow(ctx.db, job.sessionRef);
    if (old?.status === 'active') await failSession(ctx.db, old.id, STOPPED_ANSWERING);
    await interrupt(ctx, job, 'the session ended before the job finished', now);
  }
  await expireDsJobs(ctx.db, device.id, now);
  // One Get of four items: one Status and one Results from a handset that has them all.
  return [
    { id: INVENTORY, kind: 'get', paths: INVENTORY_PATHS, together: true },
    ...(await earlyWork(ctx, device, sessionRowId, now)),
  ];
}

/**
 * Work the queued jobs send with the inventory, before they may start (JobHandler.early):
 * its answers come back with the inventory's, so an unchanged handset's backup needs no
 * round trip of its own. The first job that has some sends it (the answers are kept only
 * if that job starts in this session).
 */
async function earlyWork(
  ctx: AppContext,
  device: DeviceRow,
  sessionRowId: string,
  now: number,
): Promise<WorkRequest[]> {
  for (const job of await runnableJobs(ctx.db, device.id, now, { ignoreBackoff: true })) {
    const early = jobHandler(job).early;
    if (!early) continue;
    const work = await early(ctx, device, job, sessionRowId);
    if (work.length) return work;
  }
  return [];
}

function jobIdOf(workId: string): string | undefined {
  const i = workId.indexOf(':');
  return i > 0 ? workId.slice(0, i) : undefined;
}

/** Where handsets reach this server (package downloads): PUBLIC_URL, else the Host they used. */
export interface SessionOptions {
  baseUrl: string;
  /**
   * Whether the session is ready (its inventory is in, `ready_at`), as this message knows it:
   * from the session's row read when the message began, set when the message marks it. One
   * session's messages come one after another, so nothing else sets it meanwhile. Absent:
   * read from the database.
   */
  ready?: boolean;
}

/** Whether the session's inventory is in: jobs start only then. */
async function sessionReady(ctx: AppContext, sessionRowId: string, opts: SessionOptions): Promise<boolean> {
  return opts.ready ?? !!(await getSessionRow(ctx.db, sessionRowId))?.readyAt;
}

export async function handleSessionEvents(
  ctx: AppContext,
  deviceIn: DeviceRow,
  sessionRowId: string,
  events: readonly SessionEvent[],
  now: number,
  opts: SessionOptions,
): Promise<WorkRequest[]> {
  // What an earlier call in this message left for the close is read from here on (message-scope.ts).
  // A new session's row may wait on: below, only what flushes first reads it or writes to it.
  await flushEarlierWork(ctx);
  let device = deviceIn;
  const work: WorkRequest[] = [];
  const inventory: Record<string, string> = {};
  let inventoryDone = false;
  const byJob = new Map<string, SessionEvent[]>();
  let ended = false;
  /**
   * Whether a job may have ended in this call, for the alert rules (noteAlerts): a session's
   * first message (workForNewSession interrupts what an older session left), a generic alert
   * (results by alert), a job step that ended or failed, jobs started, the session's end.
   * A message that only brings answers to running jobs that go on ends none: no need to look.
   */
  const noted = { jobEnded: false };

  for (const raw of events) {
    const e = raw as Ev;
    if (e.type === 'authenticated' || e.type === 'generic-alert') noted.jobEnded = true;
    if (e.type === 'result' && e.workId === INVENTORY) {
      if (e.status === 200) inventory[String(e.path)] = valueText(e.value);
    } else if (e.type === 'work-done' && e.workId === INVENTORY) {
      inventoryDone = true;
    } else if (e.type === 'devinfo') {
      const info = e.values as Record<string, string>;
      // With the message's close: what reads the row back in this message flushes it first.
      await atClose(ctx, (tx) =>
        updateDevice(tx, deviceIn.id, {
          deviceInfo: JSON.stringify(info),
          ...(info['./DevInfo/Man'] ? { manufacturer: info['./DevInfo/Man'] } : {}),
          ...(info['./DevInfo/Mod'] ? { model: info['./DevInfo/Mod'] } : {}),
        }),
      );
    } else if (e.type === 'generic-alert') {
      await flushClosing(ctx); // its jobs may read what this message wrote
      work.push(
        ...(await onGenericAlert(
          ctx,
          device,
          sessionRowId,
          e as Extract<SessionEvent, { type: 'generic-alert' }>,
          now,
          opts,
        )),
      );
    } else if (e.type === 'session-end') {
      ended = true;
    }
    const wid = typeof e.workId === 'string' ? e.workId : undefined;
    const jobId = wid ? jobIdOf(wid) : undefined;
    if (jobId) (byJob.get(jobId) ?? byJob.set(jobId, []).get(jobId)!).push(raw);
  }

  /** The handset's facts and its firmware run, committed with the message's close (below). */
  let inventoryWrite: ((tx: Db) => Promise<void>) | undefined;
  if (Object.keys(inventory).length) {
    await flushClosing(ctx); // the row read back below has the DevInfo of this message too
    const id = device.id;
    const fw = inventory['./DevDetail/FwV'];
    const patch = {
      ...(fw ? { firmware: fw } : {}),
      networkState: JSON.stringify({
        bearer: inventory['./Ext/Network/Bearer'] ?? null,
        roaming: inventory['./Ext/Network/Roaming'] === 'true',
        operator: inventory['./Ext/Network/Operator'] ?? null,
      }),
    };
    // The jobs that start now decide on these facts (a backup on Wi-Fi only) as the row will hold them.
    device = patchedDevice((await getDevice(ctx.db, id)) ?? device, patch);
    inventoryWrite = async (tx) => {
      await updateDevice(tx, id, patch);
      // Which firmware it ran when: fault and recall tracing reads these runs.
      if (fw) await noteFirmware(tx, id, fw, now);
    };
  }

  let anEnd = false;
  /** Answers to the work queued jobs sent with the inventory (earlyWork), for them when they start. */
  const early = new Map<string, SessionEvent[]>();
  for (const [jobId, list] of byJob) {
    const job = await getJob(ctx.db, jobId);
    if (job?.status === 'queued' && job.deviceId === device.id) early.set(jobId, list);
    // A job a newer session of the handset has taken over is that session's now.
    if (!job || job.deviceId !== device.id || job.status !== 'running' || job.sessionRef !== sessionRowId) continue;
    const step = await jobGuard(
      ctx,
      device,
      job,
      sessionRowId,
      () => jobHandler(job).onEvents(ctx, device, job, list, { id: sessionRowId, baseUrl: opts.baseUrl }),
      noted,
    );
    work.push(...step.work);
    if (step.ended) anEnd = true;
  }

  // What this message left for its close is committed before jobs start or stop: they read
  // jobs, snapshots and the handset's row. (The alert rules read only ended jobs and defects.)
  if (inventoryDone || anEnd || ended) await flushClosing(ctx);
  // The inventory goes with the close, not before the jobs start: none reads the handset's row
  // back (they are given `device`), and a crash before the close leaves the session not ready,
  // its jobs interrupted by the next one, which reads the inventory again.
  if (inventoryWrite) await atClose(ctx, inventoryWrite);
  if (inventoryDone && !ended) {
    // Recorded with the message's close (the state that has the inventory in); this message knows it now.
    await atClose(ctx, (tx) => markSessionReady(tx, sessionRowId, now));
    opts.ready = true;
    noted.jobEnded = true;
    work.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: true, early, ...opts })));
  } else if (anEnd && !ended && (await sessionReady(ctx, sessionRowId, opts))) {
    // A job ended: what waited for it (a restore behind its safety backup) may start now.
    work.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, ...opts })));
  }
  if (ended) await endOfSession(ctx, sessionRowId, now);
  if (anEnd || ended || noted.jobEnded) await noteAlerts(ctx, device.id, now);
  return work;
}

/**
 * Jobs this message ended go to the alert rules and webhooks now; a failure there is logged
 * and never fails the session (the periodic pass looks at the same job ends again).
 */
async function noteAlerts(ctx: AppContext, deviceId: string, since: number): Promise<void> {
  try {
    await noteJobEnds(ctx.db, deviceId, since);
  } catch (err) {
    log.error({ err, deviceId }, 'alert rules on job end failed');
  }
}

/**
 * Why the infrastructure beneath a job failed it, in the words the job and the session keep;
 * `retry` when another attempt may succeed (the store unreachable now), not when it cannot
 * (a data key that does not open with this master key). Undefined: not the infrastructure's.
 */
function infrastructureFailure(err: unknown): { reason: string; retry: boolean } | undefined {
  if (err instanceof KeyError) return { reason: err.message, retry: false };
  if (err instanceof BlobStoreError && err.code !== 'no-space')
    return { reason: `the blob store failed: ${err.message}`, retry: err.code === 'io' };
  return undefined;
}

/**
 * Stops a job whose storage failed, where the handset's message would otherwise fail as a
 * whole (an HTTP error for the handset, the job left running and its snapshot open with no
 * reason): the handset gets its answer and the session goes on (or ends) normally.
 *
 * A full store: how the job stops is its kind's (a backup's attempt is failed, its snapshot
 * with it; a restore is queued again from where it stands); a kind that does not say fails.
 * Another infrastructure error (a key that does not open, the store unreachable): the job is
 * interrupted with the reason, as when its session ends under it (a backup's snapshot closed
 * as incomplete with it, the job queued again with backoff), and fails at once when another
 * attempt cannot help; the session's history keeps the reason. Other errors propagate.
 */
async function jobGuard(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow,
  sessionRowId: string,
  run: () => Promise<JobStep>,
  noted?: { jobEnded: boolean },
): Promise<JobStep> {
  try {
    return await run();
  } catch (err) {
    const full = storageFull(err);
    const failure = full ? undefined : infrastructureFailure(err);
    if (!full && !failure) throw err;
    if (noted) noted.jobEnded = true;
    log.error({ err, devId: device.devId, jobId: job.id }, full ?? 'storage failed under a job');
    const handler = jobHandler(job);
    // The same job as stored now (same id, so same kind): the run may have moved it on.
    const latest = ((await getJob(ctx.db, job.id)) ?? job) as typeof job;
    if (full)
      return handler.onStorageFull
        ? handler.onStorageFull(ctx, device, latest, full, err)
        : failForFullStorage(ctx, latest, full);
    const { reason, retry } = failure!;
    await noteSessionError(ctx.db, sessionRowId, reason);
    if (latest.status === 'running' && latest.sessionRef === sessionRowId)
      await interrupt(ctx, latest, reason, Date.now(), false);
    if (retry) return { work: [] };
    await updateJob(ctx.db, job.id, { status: 'failed', error: reason, sessionRef: null, wakePending: false });
    return { work: [], ended: { status: 'failed', error: reason } };
  }
}

/** Starts the handset's runnable jobs in this session. */
async function startJobs(
  ctx: AppContext,
  device: DeviceRow,
  sessionRowId: string,
  now: number,
  opts: { scheduleDue: boolean; early?: ReadonlyMap<string, SessionEvent[]> } & SessionOptions,
): Promise<WorkRequest[]> {
  for (const job of await blockedByFailure(ctx.db, device.id)) {
    // Its reason goes with it: "out of space" is what the operator must act on, not "a backup failed".
    const why = job.dependsOn ? (await getJob(ctx.db, job.dependsOn))?.error : undefined;
    await updateJob(ctx.db, job.id, {
      status: 'failed',
      error: `the safety backup it waited for failed${why ? `: ${why}` : ''}`,
    });
  }
  if (opts.scheduleDue) await queueDueBackup(ctx, device, now);
  const out: WorkRequest[] = [];
  let anEnd = false;
  // The handset is here now: retries do not wait out their backoff.
  for (const job of await runnableJobs(ctx.db, device.id, now, { ignoreBackoff: true })) {
    const early = opts.early?.get(job.id);
    const session: JobSession = { id: sessionRowId, baseUrl: opts.baseUrl, ...(early ? { early } : {}) };
    const handler = jobHandler(job);
    const deferred = await handler.deferral?.(ctx, device, job);
    if (deferred) {
      // Deferred, not failed: the next session on an allowed network takes it.
      if (job.error !== deferred) await updateJob(ctx.db, job.id, { error: deferred, wakePending: false });
      continue;
    }
    const start = () => handler.start(ctx, device, job, session);
    const step = await (handler.startsWriting ? jobGuard(ctx, device, job, sessionRowId, start) : start());
    out.push(...step.work);
    if (step.ended) anEnd = true;
  }
  // A job that ended as it started (its early answers were all it needed): what waited for it may start now.
  if (anEnd)
    out.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, baseUrl: opts.baseUrl })));
  return out;
}

/** A handset that connects by itself while its policy's backup is due is backed up now. */
async function queueDueBackup(ctx: AppContext, device: DeviceRow, now: number): Promise<void> {
  const policy = await messagePolicy(ctx, device);
  const last = await lastCompleteSnapshot(ctx.db, device.id);
  const due = nextScheduledBackup(policy, {
    devId: device.devId,
    createdAt: device.createdAt,
    lastCompleteAt: last?.completedAt ?? null,
  });
  if (due !== undefined && due <= now)
    await createBackupJob(ctx.db, device, { trigger: 'scheduled', actor: 'scheduler', reason: 'connected while due' });
}

async function onGenericAlert(
  ctx: AppContext,
  device: DeviceRow,
  sessionRowId: string,
  e: Extract<SessionEvent, { type: 'generic-alert' }>,
  now: number,
  opts: SessionOptions,
): Promise<WorkRequest[]> {
  const out: WorkRequest[] = [];
  for (const item of e.items) {
    let br;
    try {
      br = parseBrAlert({ ...item, type: item.type ?? '', format: item.format ?? 'chr' } as GenericAlertItem);
    } catch (err) {
      log.info({ devId: device.devId, type: item.type, err: (err as Error).message }, 'malformed B&R alert');
      await insertAudit(ctx.db, {
        actor: `device:${device.devId}`,
        action: 'dm.alert-rejected',
        deviceId: device.id,
        details: { type: item.type, error: (err as Error).message },
      });
      continue;
    }
    if (!br) {
      await insertAudit(ctx.db, {
        actor: `device:${device.devId}`,
        action: 'dm.generic-alert',
        deviceId: device.id,
        details: { correlator: e.correlator, item },
      });
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
      await createBackupJob(ctx.db, device, {
        trigger: 'device',
        categories: br.alert.categories,
        actor: `device:${device.devId}`,
        reason: br.alert.reason,
      });
      // Answered in this same session once the inventory is in (it usually is not yet in Package #1).
      if (await sessionReady(ctx, sessionRowId, opts))
        out.push(...(await startJobs(ctx, device, sessionRowId, now, { scheduleDue: false, ...opts })));
    } else if (br.kind === 'localBackupResult' || br.kind === 'localRestoreResult') {
      await onLocalResult(ctx, device, e.correlator, br);
    } else if (br.kind === 'dsResult') {
      await onDsResult(ctx, device, e.correlator, br.alert);
    }
  }
  return out;
}

/**
 * The session is over (the handset ended it, or the process handling it stopped): whatever
 * it still held is done, or interrupted with `reason`.
 */
export async function endOfSession(
  ctx: AppContext,
  sessionRowId: string,
  now: number,
  reason = 'the session ended before the job finished',
): Promise<void> {
  for (const job of await jobsInSession(ctx.db, sessionRowId)) await interrupt(ctx, job, reason, now, true);
}

async function interrupt(
  ctx: AppContext,
  job: JobRow,
  reason: string,
  now: number,
  sessionEnded = false,
): Promise<void> {
  const handler = jobHandler(job);
  if (handler.interrupt) await handler.interrupt(ctx, job, reason, now, sessionEnded);
  else await requeueInterrupted(ctx, job, reason);
}

/** An inventory value as text; one a person could not read (binary, control characters, too long) is none. */
function valueText(v: unknown): string {
  return typeof v === 'string' ? (readableText(base64Decode(v)) ?? '') : '';
}
