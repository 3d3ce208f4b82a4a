/**
 * Backup and restore of contacts and calendar through Data Sync, ordered through DM.
 *
 *   ds-backup   the job makes sure the handset has a DS account, sends Exec DataSync
 *               (two-way: the server answers 508 and a slow sync when the anchors do not
 *               match, which is what a first backup needs; later ones send only changes)
 *   ds-restore  the job loads a DS snapshot into the target's DS account (lib/ds/restore.ts)
 *               and sends Exec DataSync refresh-from-server
 *
 * Either way the handset answers 202, runs its DS session against /ds once the DM session
 * is over, and reports by the ds.result Generic Alert (Correlator = job id) in a DM session
 * of its own. The job is not bound to a DM session while it waits.
 *
 * Which DS snapshot is the job's: the DS server asks `dsJobAwaiting` when a session signs
 * in, and a session of an account whose device has a running DS job carries that job's id
 * into its snapshot. This holds whichever server process takes the DS session, and
 * survives clocks; a session of the same account that no job ordered (a real client syncing
 * by itself meanwhile) can be mistaken for the job's, which is harmless: it is a snapshot
 * of the same account at the same time.
 *
 * Credentials: a new account gets a random password, sent in the Exec (inside the
 * authenticated DM session) and never stored: the server keeps only the MD5 derived secret.
 * The handset keeps it as a DS account, so once a job has succeeded with it, later jobs send
 * only its passwordRef. If the account's secret has changed since (an admin set a password),
 * or the last job failed, the job sets a fresh password again.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '@/db/client';
import type { DeviceRow } from '@/db/queries/devices';
import {
  dsAccountsOfDevice,
  dsSnapshotsOf,
  getDsAccount,
  getDsAccountByUser,
  insertDsAccount,
  updateDsAccount,
  type DsAccountRow,
  type DsSnapshotRow,
} from '@/db/queries/ds';
import { getJob, insertJob, jobsForDevice, updateJob, type JobRow, type NewJob } from '@/db/queries/jobs';
import { insertAudit } from '@/db/queries/audit';
import type { AppContext } from '../core/context';
import type { JobStep } from '../backup/engine';
import type { JobHandler } from '../jobs/handler';
import type { DsBackupPayload, DsRestorePayload } from '../jobs/kinds';
import { md5Derived } from '../omadm/auth';
import {
  BR,
  JSON_TYPE,
  brResultText,
  dsAccountRef,
  isBrSuccess,
  type DsResultAlert,
  type DsSyncType,
} from '../omadm/mo/backup-restore';
import type { SessionEvent, WorkRequest } from '../omadm/session/work';
import { DS_STORE_NAMES, type DsStoreName } from './protocol';
import { countByStore, dsSnapshotForTarget, DsRestoreError, hashesByStore, loadDsSnapshot } from './restore';
import { readDsManifest } from './snapshot';

export const DS_JOB_KINDS = ['ds-backup', 'ds-restore'] as const;
export type DsJobKind = (typeof DS_JOB_KINDS)[number];

export function isDsJob(kind: string): kind is DsJobKind {
  return (DS_JOB_KINDS as readonly string[]).includes(kind);
}

/** Where a running DS job is: kept on the job so any server process can take the alert. */
interface DsProgress {
  phase: 'exec' | 'awaiting-result';
  accountId: string;
  user: string;
  startedAt: number;
  syncType: DsSyncType;
  /** The Exec named the handset's DS account instead of sending a password. */
  viaRef: boolean;
  /** ds-restore: items per store loaded for the handset. */
  expected?: Record<DsStoreName, number>;
}

/** What a finished DS job keeps (job.result). */
export interface DsJobResult {
  code: number;
  snapshotId?: string;
  contacts?: number;
  events?: number;
  stores?: DsResultAlert['stores'];
  restoredFrom?: string;
  dsUser: string;
  /** Set once the handset holds the account: later jobs send this instead of a password. */
  passwordRef?: string;
  /** Which secret the handset holds (a hash of the derived secret): a later change makes passwordRef stale. */
  secretTag?: string;
}

const ALL_STORES: DsStoreName[] = [...DS_STORE_NAMES];

/** A finished DS job in one line, e.g. "DS snapshot 1f…, 212 contacts, 48 events (contacts: 3 replaced)". */
export function describeDsResult(r: DsJobResult): string {
  const moved = (r.stores ?? [])
    .map((s) => {
      const parts = [
        ['added', s.added],
        ['replaced', s.replaced],
        ['deleted', s.deleted],
        ['failed', s.failed],
      ]
        .filter(([, n]) => Number(n) > 0)
        .map(([k, n]) => `${n} ${k}`);
      return parts.length ? `${s.store}: ${parts.join(', ')}` : undefined;
    })
    .filter(Boolean);
  return `${r.restoredFrom ? `restored from DS snapshot ${r.restoredFrom}; ` : ''}DS snapshot ${r.snapshotId ?? '?'}, ${r.contacts ?? 0} contacts, ${r.events ?? 0} events (${moved.length ? moved.join('; ') : 'nothing changed'})`;
}

function secretTag(account: DsAccountRow): string {
  return createHash('sha256').update(account.derived).digest('hex').slice(0, 16);
}

function progressOf(job: JobRow): DsProgress | undefined {
  return job.progress ? (JSON.parse(job.progress) as DsProgress) : undefined;
}

/** Queues a DS backup; one asked for while another is queued or running joins it. */
export async function createDsBackupJob(
  db: Db,
  device: DeviceRow,
  opts: { actor: string; wake?: boolean; stores?: DsStoreName[] },
): Promise<{ job: JobRow; created: boolean }> {
  const pending = (await jobsForDevice(db, device.id, ['queued', 'running'])).find((j) => j.kind === 'ds-backup');
  if (pending) return { job: pending, created: false };
  const payload: DsBackupPayload = { actor: opts.actor, stores: opts.stores?.length ? opts.stores : ALL_STORES };
  const job = await insertJob(db, { deviceId: device.id, kind: 'ds-backup', payload, wakePending: opts.wake ?? true });
  await insertAudit(db, {
    actor: opts.actor,
    action: 'ds-backup.requested',
    deviceId: device.id,
    details: { jobId: job.id, stores: payload.stores },
  });
  return { job, created: true };
}

/**
 * Queues a restore of a DS snapshot onto `target`: its own handset, or another of the same
 * subscriber's (a migration). Throws DsRestoreError for an unknown snapshot or another
 * subscriber's handset.
 */
export async function createDsRestoreJob(
  db: Db,
  target: DeviceRow,
  opts: { snapshotId: string; actor: string; wake?: boolean; stores?: DsStoreName[] },
): Promise<JobRow> {
  const snapshot = await dsSnapshotForTarget(db, opts.snapshotId, target);
  const payload: DsRestorePayload = {
    actor: opts.actor,
    snapshotId: snapshot.id,
    stores: opts.stores?.length ? opts.stores : ALL_STORES,
  };
  const job = await insertJob(db, { deviceId: target.id, kind: 'ds-restore', payload, wakePending: opts.wake ?? true });
  await insertAudit(db, {
    actor: opts.actor,
    action: 'ds-restore.requested',
    deviceId: target.id,
    details: {
      jobId: job.id,
      snapshotId: snapshot.id,
      ...(snapshot.deviceId !== target.id ? { migrationFrom: snapshot.deviceId } : {}),
    },
  });
  return job;
}

/** A failed DS job again, as a new job with the same request. */
export async function retryDsJob(db: Db, job: JobRow, actor: string): Promise<JobRow> {
  if (job.kind !== 'ds-backup' && job.kind !== 'ds-restore') throw new RangeError(`job ${job.id} is not a DS job`);
  if (job.status !== 'failed') throw new RangeError(`job ${job.id} is ${job.status}; only a failed job is retried`);
  // The same kind with the same request, asked for by `actor` now.
  const again = await insertJob(db, {
    deviceId: job.deviceId,
    kind: job.kind,
    payload: { ...job.payload, actor },
    wakePending: true,
  } as NewJob);
  await insertAudit(db, {
    actor,
    action: `${job.kind}.retried`,
    deviceId: job.deviceId,
    details: { jobId: again.id, retryOf: job.id },
  });
  return again;
}

/** A user name for the handset's DS account: printable, without ':' (basic credentials split on it). */
async function userNameFor(db: Db, device: DeviceRow): Promise<string> {
  const base = `rw-${device.devId.replace(/[^A-Za-z0-9._-]/g, '-')}`.slice(0, 56);
  if (!(await getDsAccountByUser(db, base))) return base;
  for (;;) {
    const name = `${base}-${randomBytes(3).toString('hex')}`;
    if (!(await getDsAccountByUser(db, name))) return name;
  }
}

/** How the Exec signs the handset in: the account's passwordRef when the handset holds it, else a fresh password. */
async function credentialsFor(
  db: Db,
  device: DeviceRow,
  actor: string,
): Promise<{ account: DsAccountRow; password?: string; passwordRef?: string }> {
  let account = (await dsAccountsOfDevice(db, device.id))[0];
  if (account) {
    const last = (await jobsForDevice(db, device.id, ['succeeded', 'failed'], 50))
      .filter((j) => isDsJob(j.kind) && j.result)
      .map((j) => ({ job: j, result: JSON.parse(j.result!) as DsJobResult }))
      .find((x) => x.result.dsUser === account!.username);
    if (last?.job.status === 'succeeded' && last.result.passwordRef && last.result.secretTag === secretTag(account)) {
      return { account, passwordRef: last.result.passwordRef };
    }
  }
  const password = randomBytes(18).toString('base64url');
  if (account) {
    const derived = md5Derived(account.username, password);
    await updateDsAccount(db, account.id, { derived });
    account = { ...account, derived };
  } else {
    const user = await userNameFor(db, device);
    account = await insertDsAccount(db, {
      deviceId: device.id,
      username: user,
      derived: md5Derived(user, password),
      auth: 'basic',
    });
    await insertAudit(db, {
      actor,
      action: 'ds-account.created',
      deviceId: device.id,
      details: { user, by: 'ds job' },
    });
  }
  return { account, password };
}

async function fail(ctx: AppContext, job: JobRow, error: string, result?: Partial<DsJobResult>): Promise<JobStep> {
  await updateJob(ctx.db, job.id, { status: 'failed', error, ...(result ? { result: JSON.stringify(result) } : {}) });
  return { work: [], ended: { status: 'failed', error } };
}

/** Starts a DS job in the DM session: the account, (for a restore) the snapshot loaded, the Exec. */
export async function startDsJob(
  ctx: AppContext,
  device: DeviceRow,
  job: JobRow<DsJobKind>,
  sessionRowId: string,
  baseUrl: string,
): Promise<JobStep> {
  const { payload } = job;
  await updateJob(ctx.db, job.id, {
    status: 'running',
    sessionRef: sessionRowId,
    attempts: job.attempts + 1,
    wakePending: false,
    error: null,
  });
  let expected: Record<DsStoreName, number> | undefined;
  let cred;
  try {
    // Checked again now: the target may have changed hands since the restore was asked for.
    if (job.kind === 'ds-restore') await dsSnapshotForTarget(ctx.db, job.payload.snapshotId, device);
    cred = await credentialsFor(ctx.db, device, payload.actor);
    if (job.kind === 'ds-restore')
      expected = await loadDsSnapshot(ctx, cred.account, job.payload.snapshotId, payload.stores);
  } catch (e) {
    if (e instanceof DsRestoreError) return fail(ctx, job, e.message);
    throw e;
  }
  const syncType: DsSyncType = job.kind === 'ds-restore' ? 'refresh-from-server' : 'two-way';
  const params = {
    serverUrl: new URL('/ds', baseUrl).href,
    user: cred.account.username,
    ...(cred.passwordRef ? { passwordRef: cred.passwordRef } : { password: cred.password! }),
    stores: payload.stores,
    syncType,
  };
  const progress: DsProgress = {
    phase: 'exec',
    accountId: cred.account.id,
    user: cred.account.username,
    startedAt: Date.now(),
    syncType,
    viaRef: !!cred.passwordRef,
    ...(expected ? { expected } : {}),
  };
  await updateJob(ctx.db, job.id, { progress: JSON.stringify(progress) });
  // Exec data is never logged or kept on the job: it may carry the password.
  const exec: WorkRequest = {
    id: `${job.id}:exec`,
    kind: 'exec',
    path: BR.DataSync,
    correlator: job.id,
    format: 'chr',
    type: JSON_TYPE,
    data: JSON.stringify(params),
  };
  return { work: [exec] };
}

/** The Exec's status: accepted (the result comes by alert, after the DS session) or refused. */
export async function onDsEvents(ctx: AppContext, job: JobRow, events: readonly SessionEvent[]): Promise<JobStep> {
  for (const e of events) {
    if (e.type !== 'status' || e.cmd !== 'Exec') continue;
    const p = progressOf(job);
    if (e.status === 200 || e.status === 202) {
      await updateJob(ctx.db, job.id, {
        sessionRef: null,
        progress: JSON.stringify({ ...p, phase: 'awaiting-result' }),
      });
      return { work: [] };
    }
    return fail(
      ctx,
      job,
      `the handset refused Exec DataSync with status ${e.status}`,
      p ? { code: e.status, dsUser: p.user } : undefined,
    );
  }
  return { work: [] };
}

/** How long a DS job waits for the handset's result before it is given up (the handset can retry it). */
export const DS_RESULT_WAIT_MS = 6 * 60 * 60_000;

/**
 * DS jobs of the device that have waited for their result longer than DS_RESULT_WAIT_MS:
 * failed with the reason, so they can be retried rather than stay running for ever (a
 * handset that lost its state or its alert). Returns how many.
 */
export async function expireDsJobs(db: Db, deviceId: string, now: number): Promise<number> {
  let n = 0;
  for (const job of await jobsForDevice(db, deviceId, ['running'])) {
    const p = isDsJob(job.kind) ? progressOf(job) : undefined;
    if (!p || p.phase !== 'awaiting-result' || now - job.updatedAt < DS_RESULT_WAIT_MS) continue;
    await updateJob(db, job.id, {
      status: 'failed',
      error: 'the handset never reported the Data Sync result',
      result: JSON.stringify({ code: 0, dsUser: p.user } satisfies DsJobResult),
    });
    n++;
  }
  return n;
}

/** For the DS server: the running DS job a session of this account belongs to. */
export async function dsJobAwaiting(
  db: Db,
  account: Pick<DsAccountRow, 'id' | 'deviceId'>,
): Promise<string | undefined> {
  return (await jobsForDevice(db, account.deviceId, ['running'])).find(
    (j) => isDsJob(j.kind) && progressOf(j)?.accountId === account.id,
  )?.id;
}

/** The DS snapshot the job's DS session produced. */
async function snapshotOfJob(db: Db, job: JobRow, p: DsProgress): Promise<DsSnapshotRow | undefined> {
  const recent = await dsSnapshotsOf(db, job.deviceId, 50);
  return (
    recent.find((s) => s.jobId === job.id) ??
    recent.find((s) => s.accountId === p.accountId && s.createdAt >= p.startedAt)
  );
}

/** The ds.result alert: the job ends here, with its snapshot, or with the reason it failed. */
export async function onDsResult(
  ctx: AppContext,
  device: DeviceRow,
  correlator: string | undefined,
  alert: DsResultAlert,
): Promise<void> {
  const found = correlator ? await getJob(ctx.db, correlator) : undefined;
  const job = found && found.deviceId === device.id && isDsJob(found.kind) ? found : undefined;
  const ok = isBrSuccess(alert.result);
  await insertAudit(ctx.db, {
    actor: `device:${device.devId}`,
    action: `${job?.kind ?? 'ds-sync'}.${ok ? 'completed' : 'failed'}`,
    deviceId: device.id,
    details: { jobId: job?.id ?? null, code: alert.result, stores: alert.stores },
  });
  if (!job || job.status !== 'running') return;
  const p = progressOf(job);
  if (!p) {
    await fail(ctx, job, 'the job has no record of its Exec');
    return;
  }
  const account = await getDsAccount(ctx.db, p.accountId);
  const base: DsJobResult = { code: alert.result, stores: alert.stores, dsUser: p.user };
  if (!ok) {
    await fail(ctx, job, `${alert.result} ${brResultText(alert.result)}`, base);
    return;
  }
  const snapshot = await snapshotOfJob(ctx.db, job, p);
  if (!snapshot || !account) {
    await fail(ctx, job, 'the handset reported success but the DS server recorded no session of its account', base);
    return;
  }
  const done: DsJobResult = {
    ...base,
    snapshotId: snapshot.id,
    contacts: snapshot.contacts,
    events: snapshot.events,
    passwordRef: dsAccountRef(account.username),
    secretTag: secretTag(account),
  };
  if (job.kind === 'ds-restore') {
    const problem = await verifyRestore(ctx, job.payload, p.expected ?? countByStore([]), alert, snapshot);
    if (problem) {
      await fail(ctx, job, problem, done);
      return;
    }
    done.restoredFrom = job.payload.snapshotId;
  }
  await updateJob(ctx.db, job.id, { status: 'succeeded', error: null, result: JSON.stringify(done) });
}

/**
 * The handset took every item loaded for it, and the server's copy after the session holds
 * the snapshot's content exactly: undefined, or what is wrong in words.
 */
async function verifyRestore(
  ctx: AppContext,
  payload: DsRestorePayload,
  expected: Record<DsStoreName, number>,
  alert: DsResultAlert,
  after: DsSnapshotRow,
): Promise<string | undefined> {
  for (const store of payload.stores) {
    const got = alert.stores.find((s) => s.store === store);
    const what = store === 'contacts' ? 'contacts' : 'events';
    if (!got) return `the handset reported nothing for its ${what}`;
    if (got.failed > 0) return `the handset could not take ${got.failed} of ${expected[store]} ${what}`;
    if (got.added !== expected[store]) return `the handset took ${got.added} of ${expected[store]} ${what}`;
  }
  const [source, now] = await Promise.all([
    readDsManifest(ctx.db, ctx.blobs, payload.snapshotId),
    readDsManifest(ctx.db, ctx.blobs, after.id),
  ]);
  const want = hashesByStore(source.entries, payload.stores);
  const have = hashesByStore(now.entries, payload.stores);
  for (const store of payload.stores) {
    if (JSON.stringify(want[store]) !== JSON.stringify(have[store]))
      return `the ${store} after the sync differ from the snapshot's`;
  }
  return undefined;
}

/** A DS backup or restore in a DM session: the Exec DataSync; the result comes later, by alert. */
export const dsBackupJob: JobHandler<'ds-backup'> = {
  start: (ctx, device, job, session) => startDsJob(ctx, device, job, session.id, session.baseUrl),
  onEvents: (ctx, _device, job, events) => onDsEvents(ctx, job, events),
};

export const dsRestoreJob: JobHandler<'ds-restore'> = {
  start: (ctx, device, job, session) => startDsJob(ctx, device, job, session.id, session.baseUrl),
  onEvents: (ctx, _device, job, events) => onDsEvents(ctx, job, events),
};
