/**
 * What happened to a handset, for the agent with its subscriber on the phone: every DM and DS
 * session, every failed or refused attempt, every Package #0 sent, in one list newest first,
 * each with what started it, how it ended and why (in the words of history-words.ts); every
 * job, not only pending ones; the consents its user gave; and which firmware it ran when.
 * Computed from rows at one instant (`now`), so the ages and "still waiting" agree.
 */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { deviceAttemptsOf } from '@/db/queries/device-attempts';
import { firmwareRunsOf } from '@/db/queries/firmware-runs';
import { jobsForDevice, type JobRow } from '@/db/queries/jobs';
import { listConsents } from '@/db/queries/restore';
import { dmSessionHistory, dsSessionHistory } from '@/db/queries/session-history';
import { jobTitle } from '../jobs/kinds';
import { wakeAttemptsOf } from '../jobs/wakes';
import { json } from '../backup/views';
import {
  HISTORY_KINDS,
  HISTORY_OUTCOMES,
  type HistoryKind,
  type HistoryOutcome,
  attemptWords,
  consentWords,
  initiatorWords,
  jobOutcomeWords,
  sessionEndWords,
  subscriberWords,
  timedOutWords,
  wakeWords,
} from './history-words';

/** An active session quiet this long has timed out, whatever the reapers have done yet. */
export const SESSION_QUIET_MS = 5 * 60_000;
/** A delivered Package #0 with no session within this long went unanswered. */
export const WAKE_ANSWER_MS = 10 * 60_000;
/** Who made a failed DS attempt. */
const DS_ATTEMPT_BY = "the handset's contacts and calendar sync (DS)";
/** Rows of each kind read (the newest). */
const HISTORY_MAX = 200;

/** The history's filter, from the page's query string or the API's; anything else is ignored. */
export const historyFilterSchema = z.object({
  kind: z.enum(HISTORY_KINDS).optional().catch(undefined),
  outcome: z.enum(HISTORY_OUTCOMES).optional().catch(undefined),
});
export type HistoryFilter = z.infer<typeof historyFilterSchema>;

function matches(filter: HistoryFilter) {
  return (e: HistoryEntry) =>
    (!filter.kind || e.kind === filter.kind) && (!filter.outcome || e.outcome === filter.outcome);
}

export interface HistoryEntry {
  key: string;
  kind: HistoryKind;
  /** When it started (a coalesced attempt: the last of them). */
  at: number;
  /** When it last moved (the session's last message); null for a single moment. */
  until: number | null;
  startedBy: string;
  outcome: HistoryOutcome;
  /** Why, in plain words; null when there is nothing to say. */
  reason: string | null;
  messages: number | null;
  bytes: number | null;
  /** The job it was for (a Package #0). */
  jobId: string | null;
  /** A failed attempt's reason code (device_attempts.reason), for wording it again elsewhere. */
  code: string | null;
}

function jobActor(j: JobRow): string | undefined {
  const a = (j.payload as { actor?: unknown }).actor;
  return typeof a === 'string' ? a : undefined;
}

function wakeOrigin(j: JobRow): string {
  const actor = jobActor(j);
  return `${jobTitle(j)}${actor ? ` asked by ${actor}` : ''}`;
}

/** Every session, attempt and Package #0 of the handset, newest first, filtered. */
export async function deviceHistory(
  db: Db,
  deviceId: string,
  filter: HistoryFilter = {},
  now = Date.now(),
  jobs?: JobRow[],
): Promise<HistoryEntry[]> {
  const out: HistoryEntry[] = [];
  const dm = await dmSessionHistory(db, deviceId, HISTORY_MAX);
  for (const s of dm) {
    const quiet = s.status === 'active' && now - s.updatedAt > SESSION_QUIET_MS;
    const why = quiet ? timedOutWords(s.messages) : sessionEndWords(s);
    const failed = s.status === 'failed' || quiet || (s.endReason !== null && s.endReason !== 'complete');
    out.push({
      key: `dm-${s.id}`,
      kind: 'dm',
      at: s.createdAt,
      until: s.updatedAt,
      startedBy: initiatorWords(s.initiator),
      outcome: s.status === 'active' && !quiet ? 'in-progress' : failed ? 'failed' : 'ok',
      reason: [why, s.authChange ? `authentication: ${s.authChange}` : null].filter(Boolean).join('; ') || null,
      messages: s.messages,
      bytes: s.bytesIn + s.bytesOut,
      jobId: null,
      code: null,
    });
  }
  for (const s of await dsSessionHistory(db, deviceId, HISTORY_MAX)) {
    const quiet = s.status === 'active' && now - s.updatedAt > SESSION_QUIET_MS;
    out.push({
      key: `ds-${s.id}`,
      kind: 'ds',
      at: s.createdAt,
      until: s.updatedAt,
      startedBy: "the handset's sync client",
      outcome: s.status === 'complete' ? 'ok' : s.status === 'active' && !quiet ? 'in-progress' : 'failed',
      reason:
        s.status === 'failed' || quiet
          ? 'ended before the sync was done: the client dropped or stopped answering'
          : null,
      messages: null,
      bytes: null,
      jobId: null,
      code: null,
    });
  }
  for (const a of await deviceAttemptsOf(db, deviceId)) {
    out.push({
      key: `attempt-${a.id}`,
      kind: 'attempt',
      at: a.lastAt,
      until: a.count > 1 ? a.firstAt : null,
      startedBy: a.channel === 'dm' ? 'the handset (DM)' : DS_ATTEMPT_BY,
      outcome: a.reason === 'rate-limited' ? 'refused' : 'failed',
      reason: attemptWords(a.reason, a.count, a.channel),
      messages: null,
      bytes: null,
      jobId: null,
      code: a.reason,
    });
  }
  // A Package #0 is answered by a session the server asked for that started after it.
  const serverStarts = dm.filter((s) => s.initiator === 'server').map((s) => s.createdAt);
  for (const j of jobs ?? (await jobsForDevice(db, deviceId, undefined, HISTORY_MAX))) {
    wakeAttemptsOf(j).forEach((w, i) => {
      const answered = serverStarts.some((t) => t >= w.at && t - w.at <= WAKE_ANSWER_MS);
      const waiting = !answered && now - w.at <= WAKE_ANSWER_MS;
      out.push({
        key: `wake-${j.id}-${i}`,
        kind: 'wake',
        at: w.at,
        until: null,
        startedBy: wakeOrigin(j),
        outcome: !w.delivered ? 'failed' : answered ? 'ok' : waiting ? 'in-progress' : 'no-answer',
        reason: wakeWords({ ...w, answered, waiting }),
        messages: null,
        bytes: null,
        jobId: j.id,
        code: null,
      });
    });
  }
  return out.filter(matches(filter)).sort((a, b) => b.at - a.at || (a.key < b.key ? -1 : 1));
}

/** The newest entry that is not a Package #0 (what the handset itself last did), for the page's header. */
export function lastAttempt(entries: readonly HistoryEntry[]): HistoryEntry | undefined {
  return entries.find((e) => e.kind === 'dm' || e.kind === 'attempt' || e.kind === 'ds');
}

export interface JobHistoryEntry {
  id: string;
  kind: string;
  title: string;
  status: string;
  createdAt: number;
  updatedAt: number;
  actor: string | null;
  attempts: number;
  wakes: number;
  reason: string | null;
}

/** Every job of the handset, newest first. */
export function jobHistory(jobs: readonly JobRow[]): JobHistoryEntry[] {
  return jobs.map((j) => ({
    id: j.id,
    kind: j.kind,
    title: jobTitle(j),
    status: j.status,
    createdAt: j.createdAt,
    updatedAt: j.updatedAt,
    actor: jobActor(j) ?? null,
    attempts: j.attempts,
    wakes: wakeAttemptsOf(j).length,
    reason: jobOutcomeWords(j) ?? null,
  }));
}

export interface ConsentEntry {
  id: string;
  at: number;
  jobId: string | null;
  prompt: string;
  answer: string;
  words: string;
  cost: string | null;
  roaming: boolean;
  reason: string | null;
}

/** The handset's consent prompts and their answers, newest first. */
export async function deviceConsents(db: Db, deviceId: string): Promise<ConsentEntry[]> {
  return (await listConsents(db, { deviceId }, 100)).map((c) => {
    const n = json(c.network) as { roaming?: unknown } | null;
    const roaming = n?.roaming === true;
    return {
      id: c.id,
      at: c.at,
      jobId: c.jobId,
      prompt: c.prompt,
      answer: c.answer,
      words: consentWords(c.answer, roaming),
      cost: c.cost,
      roaming,
      reason: c.reason,
    };
  });
}

export interface FirmwareRunEntry {
  firmware: string;
  from: number;
  to: number;
  current: boolean;
}

/** Which firmware the handset ran when, newest first (the first is what it runs now). */
export async function firmwareHistory(db: Db, deviceId: string): Promise<FirmwareRunEntry[]> {
  return (await firmwareRunsOf(db, deviceId)).map((r, i) => ({
    firmware: r.firmware,
    from: r.firstSeenAt,
    to: r.lastSeenAt,
    current: i === 0,
  }));
}

/** Everything the device page's history panels show, read at `now`. */
export async function deviceHistoryData(db: Db, deviceId: string, filter: HistoryFilter, now = Date.now()) {
  const jobs = await jobsForDevice(db, deviceId, undefined, HISTORY_MAX);
  const all = await deviceHistory(db, deviceId, {}, now, jobs);
  const shown = all.filter(matches(filter));
  return {
    last: lastAttempt(all) ?? null,
    sessions: shown,
    total: all.length,
    filter,
    jobs: jobHistory(jobs),
    consents: await deviceConsents(db, deviceId),
    firmware: await firmwareHistory(db, deviceId),
  };
}

/** What each handset last did (for the subscriber page's list of handsets). */
export async function lastAttempts(db: Db, deviceIds: readonly string[], now = Date.now()) {
  const out = new Map<string, HistoryEntry>();
  for (const id of deviceIds) {
    const last = lastAttempt(await deviceHistory(db, id, {}, now));
    if (last) out.set(id, last);
  }
  return out;
}

/** The handset's newest entries as its subscriber reads them in the portal, in their words. */
export async function subscriberHistory(db: Db, deviceId: string, limit = 10, now = Date.now()) {
  return (await deviceHistory(db, deviceId, {}, now)).slice(0, limit).map((e) => ({
    key: e.key,
    at: e.at,
    ok: e.outcome === 'ok' || e.outcome === 'in-progress',
    text: subscriberWords({
      ...e,
      serverAsked: e.startedBy === initiatorWords('server'),
      channel: e.startedBy === DS_ATTEMPT_BY ? 'ds' : 'dm',
    }),
  }));
}
