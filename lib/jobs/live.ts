/**
 * A job as a person follows it live (the console's and the portal's job pages, and the
 * JSON they poll): the job's detail (lib/restore/views.ts), how far along it is, what it
 * is waiting for in plain words, and the safety backup a restore waits on.
 */
import type { Db } from '@/db/client';
import { getDevice } from '@/db/queries/devices';
import { getJob, type JobRow } from '@/db/queries/jobs';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import { jobDetail, type JobDetail } from '../restore/views';
import { json, publicJob, type BackupProgressView, type PublicJob } from '../backup/views';
import type { RestoreProgress } from '../restore/engine';
import { wakeAttemptsOf, wakeView } from './wakes';
import { env } from '../core/env';
import { budgetWait, wakeBudgetView } from './wake-budget';

const FINISHED: ReadonlyArray<JobRow['status']> = ['succeeded', 'failed', 'cancelled', 'rejected'];

export function isFinished(status: string): boolean {
  return (FINISHED as readonly string[]).includes(status);
}

export interface LiveJob {
  job: JobDetail;
  device: { id: string; devId: string; label: string };
  finished: boolean;
  /** 0–100; null when there is nothing to measure against yet. */
  percent: number | null;
  /** One line for people: "Waiting for Wi-Fi: …", "Writing 12 of 40 items". */
  summary: string;
  /** Why a queued job has not started or has stopped for now; null while it runs or once it is over. */
  waiting: string | null;
  /** A restore's consent state, in words. */
  consent: string | null;
  /** The job this one waits for (a restore's safety backup). */
  dependsOn: (PublicJob & { finished: boolean }) | null;
  /** The Package #0 sent for the job, in words ("3 sent: …; next at …; until …"); null when none was. */
  wakes: string | null;
  /** Backups: nodes fetched, content new to the store. */
  backup: { nodes: number; newBytes: number; expectedNodes: number | null; snapshotId: string | null } | null;
}

const CONSENT_WORDS: Record<RestoreProgress['consent'], string> = {
  needed: 'not asked yet',
  asked: 'asked on the handset; waiting for the answer',
  given: 'accepted on the handset',
  'wifi-wait': 'the user chose "Later on Wi-Fi"',
};

function waitingReason(
  job: JobRow,
  dep: JobRow | undefined,
  progress: Partial<RestoreProgress> | null,
  now: number,
): string | null {
  if (job.status !== 'queued') return null;
  if (dep && !isFinished(dep.status)) return 'Waiting for the safety backup of the handset to finish first.';
  if (progress?.consent === 'wifi-wait') return 'Waiting for Wi-Fi: the user chose to restore later, on Wi-Fi.';
  const later =
    job.notBefore && job.notBefore > now
      ? ` Next try after ${new Date(job.notBefore).toISOString().slice(11, 16)} UTC.`
      : '';
  if (job.error) return `${job.error.charAt(0).toUpperCase()}${job.error.slice(1)}.${later}`.replace(/\.\./g, '.');
  return `Waiting for the handset to connect.${later}`;
}

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;

/** Each Package #0 sent for the job, and what comes next, in one line for people. */
function wakeWords(job: JobRow): string | null {
  const w = wakeView(job);
  if (w.attempts.length === 0) return null;
  const shown = w.attempts.slice(-6).map((a) => `${hhmm(a.at)}${a.delivered ? '' : ' (not delivered)'}`);
  const earlier = w.attempts.length > shown.length ? `… ${w.attempts.length - shown.length} earlier, ` : '';
  const next = w.next !== null ? `; next at ${hhmm(w.next)}` : '';
  const until =
    w.next !== null && w.deadline !== null
      ? `, sent again until ${new Date(w.deadline).toISOString().slice(0, 16).replace('T', ' ')} UTC`
      : '';
  return `${w.attempts.length} sent: ${earlier}${shown.join(', ')}${next}${until}`;
}

/**
 * A queued job whose first Package #0 has not gone out while this minute's wake budget is
 * spent waits for the budget, not for its handset: said so, with the budget.
 */
async function budgetReason(db: Db, job: JobRow, now: number): Promise<string | null> {
  if (job.status !== 'queued' || !job.wakePending || wakeAttemptsOf(job).length > 0) return null;
  const budget = await wakeBudgetView(db, env(), now);
  return budgetWait(1, budget) === null
    ? null
    : `Waiting for the wake budget (${budget.perMinute.toLocaleString('en-GB')} per minute): its Package #0 goes out in a later minute.`;
}

/** The live view of a job (already checked against the viewer). */
export async function liveJob(db: Db, job: JobRow, now = Date.now()): Promise<LiveJob> {
  const detail = await jobDetail(db, job);
  const device = (await getDevice(db, job.deviceId))!;
  const dep = job.dependsOn ? await getJob(db, job.dependsOn) : undefined;
  const finished = isFinished(job.status);
  const progress = job.kind === 'restore' ? (json(job.progress) as Partial<RestoreProgress> | null) : null;
  let percent: number | null = null;
  let summary: string;
  let backup: LiveJob['backup'] = null;

  if ('counts' in detail) {
    const c = detail.counts;
    const done = c.verified + c.failed + c.mismatch + c.skipped;
    percent = c.total ? Math.round(((done + c.written * 0.5) / c.total) * 100) : 0;
    summary = finished
      ? `${c.verified} of ${c.total} items restored${c.failed + c.mismatch ? `, ${c.failed + c.mismatch} not` : ''}${c.skipped ? `, ${c.skipped} skipped` : ''}`
      : `${done} of ${c.total} items done${c.written ? `, ${c.written} written and being read back` : ''}`;
  } else if (job.kind === 'backup') {
    const p = detail.progress as BackupProgressView | null;
    const result = detail.result as { entries?: number; newBytes?: number; snapshotId?: string } | null;
    // A handset's previous backup says roughly how many nodes this one will fetch.
    const expected = (await lastCompleteSnapshot(db, job.deviceId))?.entries ?? null;
    backup = {
      nodes: p?.nodes ?? result?.entries ?? 0,
      newBytes: p?.newBytes ?? result?.newBytes ?? 0,
      expectedNodes: expected,
      snapshotId: p?.snapshotId ?? result?.snapshotId ?? null,
    };
    if (job.status === 'succeeded') percent = 100;
    else if (job.status === 'running' && expected) percent = Math.min(95, Math.round((backup.nodes / expected) * 100));
    summary =
      job.status === 'succeeded' ? `Backup complete: ${backup.nodes} nodes` : `${backup.nodes} nodes fetched so far`;
  } else {
    summary = job.status;
  }
  if (job.status === 'succeeded') percent = 100;

  return {
    job: detail,
    device: {
      id: device.id,
      devId: device.devId,
      label: [device.manufacturer, device.model].filter(Boolean).join(' ') || device.devId,
    },
    finished,
    percent,
    summary,
    waiting: (await budgetReason(db, job, now)) ?? waitingReason(job, dep, progress, now),
    consent: progress?.consent ? CONSENT_WORDS[progress.consent] : null,
    wakes: wakeWords(job),
    dependsOn: dep ? { ...publicJob(dep), finished: isFinished(dep.status) } : null,
    backup,
  };
}
