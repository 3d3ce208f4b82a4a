/**
 * What the device page shows of a handset's backups and work, computed from rows: how
 * recently each category was backed up, why each unfinished job has not finished, the
 * points of the backup timeline, and which two snapshots "what changed since <date>"
 * compares. Pure (the page reads the rows), so each rule is tested on its own.
 */
import type { JobRow } from '@/db/queries/jobs';
import type { LocalBackupRow } from '@/db/queries/local-backups';
import type { PolicyRow } from '@/db/queries/policies';
import type { SnapshotRow } from '@/db/queries/snapshots';
import { isSafetyBackup, jobTitle, type JobRequestOf } from '../jobs/kinds';
import type { RestoreProgress } from '../restore/engine';
import { formatTime, plural } from '../core/format';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { json, jobProgress, type BackupProgressView } from '../backup/views';

export const CATEGORY_LABEL: Record<Category, string> = {
  settings: 'Settings',
  certificates: 'Certificates',
  appdata: 'App data (ringtones, wallpapers, screensavers)',
  applications: 'Applications',
  firmware: 'Firmware',
};

const DAY = 86_400_000;
/** A policy that schedules nothing still expects someone to back up now and then. */
const UNSCHEDULED_STALE_MS = 30 * DAY;

/**
 * When a category's last good backup counts as stale: two of the policy's intervals (one
 * late backup is ordinary, a handset switched off overnight misses its slot), or a month
 * when the policy schedules none.
 */
export function staleAfterMs(policy: Pick<PolicyRow, 'intervalMinutes'>): number {
  return policy.intervalMinutes > 0 ? 2 * policy.intervalMinutes * 60_000 : UNSCHEDULED_STALE_MS;
}

function every(minutes: number): string {
  if (minutes % 1440 === 0) return minutes === 1440 ? 'day' : `${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? 'hour' : `${minutes / 60} hours`;
  return `${minutes} min`;
}

/** "Standard: every day, Wi-Fi only, not while roaming". */
export function policySummary(p: Pick<PolicyRow, 'name' | 'intervalMinutes' | 'wifiOnly' | 'roamingAllowed'>): string {
  const parts = [p.intervalMinutes > 0 ? `every ${every(p.intervalMinutes)}` : 'on demand only'];
  if (p.wifiOnly) parts.push('Wi-Fi only');
  if (!p.roamingAllowed) parts.push('not while roaming');
  return `${p.name}: ${parts.join(', ')}`;
}

export type CoverageState = 'fresh' | 'stale' | 'never';

export interface CategoryCoverage {
  category: Category;
  label: string;
  /** Whether the handset's policy backs this category up. */
  inPolicy: boolean;
  /** When the newest complete snapshot holding the category completed; null: never. */
  lastAt: number | null;
  snapshotId: string | null;
  state: CoverageState;
}

function categoriesOf(s: Pick<SnapshotRow, 'categories'>): string[] {
  const v = json(s.categories);
  return Array.isArray(v) ? v.filter((c): c is string => typeof c === 'string') : [];
}

/** Per category, the last good (complete) backup that covered it, and whether that is recent enough. */
export function coverage(
  snapshots: readonly Pick<SnapshotRow, 'id' | 'status' | 'categories' | 'completedAt'>[],
  policy: Pick<PolicyRow, 'categories' | 'intervalMinutes'>,
  now: number,
): CategoryCoverage[] {
  const inPolicy = new Set(categoriesOf(policy));
  const stale = staleAfterMs(policy);
  const last = new Map<string, { at: number; id: string }>();
  for (const s of snapshots) {
    if (s.status !== 'complete' || s.completedAt === null) continue;
    for (const c of categoriesOf(s)) {
      const seen = last.get(c);
      if (!seen || s.completedAt > seen.at) last.set(c, { at: s.completedAt, id: s.id });
    }
  }
  return CATEGORIES.map((category) => {
    const l = last.get(category);
    return {
      category,
      label: CATEGORY_LABEL[category],
      inPolicy: inPolicy.has(category),
      lastAt: l?.at ?? null,
      snapshotId: l?.id ?? null,
      state: !l ? 'never' : now - l.at > stale ? 'stale' : 'fresh',
    };
  });
}

export type ReasonTone = 'info' | 'warn' | 'bad';

export interface PendingJobView {
  id: string;
  kind: string;
  /** "Backup (on-demand)", "Safety backup", "Restore"... */
  title: string;
  status: JobRow['status'];
  /** Why it has not finished, in plain words. */
  reason: string;
  /** What the last attempt said, or how far the running one got. */
  detail: string | null;
  tone: ReasonTone;
  attempts: number;
  createdAt: number;
}

/** Errors the dispatcher leaves on a job it holds back on purpose (lib/backup/policy.ts networkAllows, a user's "later on Wi-Fi"). */
function isDeferral(error: string): boolean {
  return error.startsWith('waiting for') || error.startsWith('deferred');
}

/**
 * Why a queued or running job has not finished, as the dispatcher (lib/gateway/dm-work.ts)
 * and the engines leave it: behind a safety backup, deferred by the network rule or the
 * user, backing off after an interrupted attempt, waking the handset, or at work.
 * `dependency` is the job it waits for (job.dependsOn), when it has one.
 */
export function pendingJobView(
  job: JobRow,
  dependency: (JobRequestOf & Pick<JobRow, 'status'>) | undefined,
  now: number,
): PendingJobView {
  const base = {
    id: job.id,
    kind: job.kind,
    title: jobTitle(job),
    status: job.status,
    attempts: job.attempts,
    createdAt: job.createdAt,
  };
  const r = (reason: string, tone: ReasonTone, detail: string | null = null): PendingJobView => ({
    ...base,
    reason,
    tone,
    detail,
  });
  const restore = job.kind === 'restore' ? (json(job.progress) as Partial<RestoreProgress> | null) : null;

  if (job.status === 'running') {
    if (!job.sessionRef) return r('waiting for the handset to report the result', 'info');
    if (restore?.consent === 'asked') return r("waiting for the user's answer on the handset", 'info');
    const p = job.kind === 'backup' ? (jobProgress(job) as BackupProgressView | null) : null;
    return r('running in a session with the handset', 'info', p ? `${p.nodes} nodes read so far` : null);
  }

  if (dependency && dependency.status !== 'succeeded') {
    const what = isSafetyBackup(dependency)
      ? 'the safety backup'
      : `the ${jobTitle(dependency).toLowerCase()} before it`;
    if (dependency.status === 'queued' || dependency.status === 'running') return r(`waiting for ${what}`, 'info');
    return r(`cannot run: ${what} ended ${dependency.status}`, 'bad');
  }
  if (restore?.consent === 'wifi-wait') return r('deferred by the user until the handset is on Wi-Fi', 'warn');
  if (job.notBefore !== null && job.notBefore > now) {
    return r(`retrying after ${formatTime(job.notBefore)}`, 'warn', job.error ? `last attempt: ${job.error}` : null);
  }
  if (job.error) {
    if (isDeferral(job.error)) return r(job.error, 'warn');
    return r("retrying in the handset's next session", 'warn', `last attempt: ${job.error}`);
  }
  if (job.wakePending) return r('waking the handset (connection request about to be sent)', 'info');
  return r('waiting for the handset to connect', 'info');
}

/** One point of the backup timeline; the shape components/charts.tsx TimeChart draws. */
export interface TimelinePoint {
  t: number;
  value: number;
  kind: string;
  label: string;
  href?: string;
}

/** Marker colours: a colour per trigger for good backups, red for attempts that failed. */
export const TIMELINE_TONES: Record<string, string> = {
  'on-demand': '#0284c7',
  scheduled: '#059669',
  safety: '#7c3aed',
  device: '#d97706',
  failed: '#dc2626',
  'in progress': '#94a3b8',
};

/** A snapshot's outcome as the timeline tells it: failed (or interrupted), in progress, or its trigger. */
export function timelineKind(s: Pick<SnapshotRow, 'status' | 'error' | 'trigger'>): string {
  if (s.status === 'complete') return s.trigger;
  return s.status === 'failed' || s.error ? 'failed' : 'in progress';
}

/**
 * Snapshot size over time: every attempt, failed ones as such. A good backup links to its
 * browser; a failed one to its row in the list (`#snapshot-<id>`), where its error is.
 */
export function timelinePoints(
  snapshots: readonly Pick<
    SnapshotRow,
    'id' | 'deviceId' | 'status' | 'error' | 'trigger' | 'bytes' | 'entries' | 'startedAt' | 'completedAt'
  >[],
  fmt: { bytes: (n: number) => string; time: (t: number) => string },
): TimelinePoint[] {
  return snapshots
    .map((s) => {
      const kind = timelineKind(s);
      const t = s.completedAt ?? s.startedAt;
      const complete = s.status === 'complete';
      return {
        t,
        value: s.bytes,
        kind,
        label: `${fmt.time(t)}: ${kind === s.trigger ? `${s.trigger} backup` : kind}, ${plural(s.entries, 'node')}, ${fmt.bytes(s.bytes)}`,
        href: complete ? `/devices/${s.deviceId}/snapshots/${s.id}` : `/devices/${s.deviceId}#snapshot-${s.id}`,
      };
    })
    .sort((a, b) => a.t - b.t);
}

type Completed<S> = S & { completedAt: number };

/** Complete snapshots, oldest first; those completed in the same millisecond by id, so every answer is stable. */
function completeInOrder<S extends Pick<SnapshotRow, 'id' | 'status' | 'completedAt'>>(
  snapshots: readonly S[],
): Completed<S>[] {
  return snapshots
    .filter((s): s is Completed<S> => s.status === 'complete' && s.completedAt !== null)
    .sort((a, b) => a.completedAt - b.completedAt || (a.id < b.id ? -1 : 1));
}

/** Midnight UTC starting `day` (YYYY-MM-DD), or undefined when it is not a real date. */
export function parseDay(day: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === day ? t : undefined;
}

export type SinceResult = { ok: true; from: string; to: string; note?: string } | { ok: false; error: string };

/**
 * "What changed since <day>": the handset as it was when the day began (its last complete
 * snapshot before then) against the newest complete one. With no backup from before the
 * day, the first backup stands in for the starting point, and the answer says so.
 */
export function resolveSince(
  snapshots: readonly Pick<SnapshotRow, 'id' | 'status' | 'completedAt'>[],
  day: string,
): SinceResult {
  const start = parseDay(day);
  if (start === undefined) return { ok: false, error: `"${day}" is not a date: give it as YYYY-MM-DD.` };
  const complete = completeInOrder(snapshots);
  if (complete.length === 0) return { ok: false, error: 'This handset has no complete backup to compare.' };
  const newest = complete.at(-1)!;
  const before = complete.filter((s) => s.completedAt < start).at(-1);
  if (before) {
    if (before.id === newest.id)
      return {
        ok: false,
        error: `Nothing was backed up since ${day}: the newest backup, from ${formatTime(newest.completedAt)}, is older.`,
      };
    return { ok: true, from: before.id, to: newest.id };
  }
  if (complete.length === 1)
    return { ok: false, error: 'This handset has only one complete backup: there is nothing to compare it with.' };
  return {
    ok: true,
    from: complete[0]!.id,
    to: newest.id,
    note: `No backup is older than ${day}: compared from the first backup, ${formatTime(complete[0]!.completedAt)}.`,
  };
}

/**
 * For each complete snapshot, the complete one before it in time (what "Diff with
 * previous" compares with); the oldest has none.
 */
export function previousComplete(
  snapshots: readonly Pick<SnapshotRow, 'id' | 'status' | 'completedAt'>[],
): Map<string, string> {
  const complete = completeInOrder(snapshots);
  const out = new Map<string, string>();
  for (let i = 1; i < complete.length; i++) out.set(complete[i]!.id, complete[i - 1]!.id);
  return out;
}

export interface LocalBackupView {
  localId: string;
  target: 'device' | 'smartcard';
  /** As the handset wrote it (ISO-8601). */
  takenAt: string;
  categories: string[];
  entries: number;
  size: number;
  reportedAt: number;
  /** When a later session found it gone from the handset. */
  goneAt: number | null;
}

export function localBackupView(
  r: Pick<
    LocalBackupRow,
    'localId' | 'target' | 'takenAt' | 'categories' | 'entries' | 'size' | 'reportedAt' | 'goneAt'
  >,
): LocalBackupView {
  return {
    localId: r.localId,
    target: r.target,
    takenAt: r.takenAt,
    categories: categoriesOf(r),
    entries: r.entries,
    size: r.size,
    reportedAt: r.reportedAt,
    goneAt: r.goneAt,
  };
}

export interface NetworkView {
  bearer: string | null;
  roaming: boolean;
  operator: string | null;
}

/** The network the handset was on in its last session (devices.networkState), or null before any. */
export function networkView(networkState: string | null): NetworkView | null {
  const v = json(networkState);
  if (!v || typeof v !== 'object') return null;
  const o = v as Record<string, unknown>;
  return {
    bearer: typeof o.bearer === 'string' ? o.bearer : null,
    roaming: o.roaming === true,
    operator: typeof o.operator === 'string' ? o.operator : null,
  };
}

export type PairChoice = { ok: true; from: string; to: string; note?: string } | { ok: false; error: string };

/**
 * Which two backups the diff view compares, from its query: `since` (see resolveSince),
 * or `from` and `to`, or by default the newest complete backup against the one before.
 * `own` is the handset's snapshots; an id not among them is looked up by `elsewhere`
 * (another handset's backup, or none the viewer may see), so the refusal can say which.
 */
export function choosePair(
  own: readonly Pick<SnapshotRow, 'id' | 'status' | 'completedAt'>[],
  q: { from?: string; to?: string; since?: string },
  elsewhere: (id: string) => 'other-device' | 'missing',
): PairChoice {
  if (q.since) return resolveSince(own, q.since);
  if (!q.from && !q.to) {
    const complete = completeInOrder(own);
    if (complete.length < 2)
      return { ok: false, error: 'This handset needs two complete backups before they can be compared.' };
    return { ok: true, from: complete.at(-2)!.id, to: complete.at(-1)!.id };
  }
  if (!q.from || !q.to) return { ok: false, error: 'Pick two backups to compare.' };
  for (const [side, id] of [
    ['first', q.from],
    ['second', q.to],
  ] as const) {
    const s = own.find((x) => x.id === id);
    if (!s) {
      return {
        ok: false,
        error:
          elsewhere(id) === 'other-device'
            ? `The ${side} backup belongs to another handset: pick two backups of this handset.`
            : `There is no such backup (the ${side} one): it may have been deleted by retention.`,
      };
    }
    if (s.status !== 'complete')
      return { ok: false, error: `The ${side} backup is ${s.status}: only complete backups can be compared.` };
  }
  return { ok: true, from: q.from, to: q.to };
}
