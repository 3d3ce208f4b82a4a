/**
 * Retention: which of a device's snapshots to keep, with the rules of restic/borg `forget`.
 *
 * Complete snapshots are ordered newest first by completion time (the order
 * lastCompleteSnapshot uses). `keepLast` keeps the N newest; `daily`, `weekly` and
 * `monthly` keep the newest snapshot of each of the last N distinct UTC days, ISO weeks or
 * months that have one (a period without a snapshot does not use up a count). Each rule
 * runs on its own over every complete snapshot; a snapshot is kept when any rule keeps it.
 *
 * Whatever the rules: a snapshot under legal hold is kept; the newest complete snapshot is
 * kept; an incomplete or failed snapshot is removed once it is more than a day old (a
 * younger one may be a backup still running). With no rule at all, nothing is removed.
 */
import { z } from 'zod';
import type { Db } from '@/db/client';
import { restorePinned, allDeviceSnapshots, deleteUnheldSnapshots } from '@/db/queries/retention';
import { pruneSessionHistory } from '@/db/queries/session-history';
import type { SnapshotRow } from '@/db/queries/snapshots';
import type { BlobStore } from './blob-store';
import { collectGarbage, type GcResult } from './gc';

export interface RetentionRules {
  keepLast?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
}

export interface RetentionPlan {
  /** Newest first. */
  keep: Array<{ id: string; reasons: string[] }>;
  /** Newest first. */
  remove: Array<{ id: string; reason: string }>;
}

/** How long an incomplete or failed snapshot is left alone. */
export const INCOMPLETE_GRACE_MS = 24 * 60 * 60 * 1000;

const count = z.number().int().min(0).max(1_000_000).optional();

export const retentionSchema = z.object({ keepLast: count, daily: count, weekly: count, monthly: count }).strict();

/** A policy's `retention` column. Throws on bad JSON, unknown keys or counts that are not whole numbers ≥ 0. */
export function parseRetention(json: string): RetentionRules {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`retention is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const r = retentionSchema.parse(value);
  const out: RetentionRules = {};
  if (r.keepLast !== undefined) out.keepLast = r.keepLast;
  if (r.daily !== undefined) out.daily = r.daily;
  if (r.weekly !== undefined) out.weekly = r.weekly;
  if (r.monthly !== undefined) out.monthly = r.monthly;
  return out;
}

/** True when some rule keeps at least one snapshot (all counts 0 or absent means no policy). */
export function hasRules(rules: RetentionRules): boolean {
  return (rules.keepLast ?? 0) > 0 || (rules.daily ?? 0) > 0 || (rules.weekly ?? 0) > 0 || (rules.monthly ?? 0) > 0;
}

function snapshotTime(s: SnapshotRow): number {
  return s.status === 'complete' ? (s.completedAt ?? s.startedAt) : s.startedAt;
}

/** Newest first; a tie in time goes to the later start, then the greater id, so plans are stable. */
function newestFirst(a: SnapshotRow, b: SnapshotRow): number {
  return snapshotTime(b) - snapshotTime(a) || b.startedAt - a.startedAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function dayKey(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function monthKey(t: number): string {
  return new Date(t).toISOString().slice(0, 7);
}

/** ISO 8601 week, UTC: weeks start on Monday and belong to the year of their Thursday. */
export function isoWeekKey(t: number): string {
  const d = new Date(t);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - weekday + 3));
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * 86_400_000));
  return `${year}-W${pad(week)}`;
}

/** Pure: the plan for one device's snapshots at time `now` (ms). */
export function planRetention(
  snapshots: readonly SnapshotRow[],
  rules: RetentionRules,
  now: number,
  pinned: ReadonlySet<string> = new Set(),
): RetentionPlan {
  const sorted = [...snapshots].sort(newestFirst);
  const reasons = new Map<string, string[]>();
  const keep = (id: string, reason: string) => {
    const r = reasons.get(id);
    if (!r) reasons.set(id, [reason]);
    else if (!r.includes(reason)) r.push(reason);
  };
  const removeReason = new Map<string, string>();

  for (const s of sorted) if (s.legalHold) keep(s.id, 'legal hold');
  // A restore planned from a snapshot needs it until the restore is over.
  for (const s of sorted) if (pinned.has(s.id)) keep(s.id, 'used by a restore');

  if (!hasRules(rules)) {
    for (const s of sorted) keep(s.id, 'no retention rules');
  } else {
    const complete = sorted.filter((s) => s.status === 'complete');
    complete.slice(0, rules.keepLast ?? 0).forEach((s) => keep(s.id, 'last'));
    const buckets: Array<[string, number | undefined, (t: number) => string]> = [
      ['daily', rules.daily, dayKey],
      ['weekly', rules.weekly, isoWeekKey],
      ['monthly', rules.monthly, monthKey],
    ];
    for (const [reason, n, key] of buckets) {
      let left = n ?? 0;
      let last: string | undefined;
      for (const s of complete) {
        if (left <= 0) break;
        const k = key(snapshotTime(s));
        if (k === last) continue;
        keep(s.id, reason);
        last = k;
        left--;
      }
    }
    const newest = complete[0];
    if (newest && !reasons.has(newest.id)) keep(newest.id, 'newest complete');

    for (const s of sorted) {
      if (reasons.has(s.id)) continue;
      if (s.status === 'complete') removeReason.set(s.id, 'not kept by any rule');
      else if (now - s.startedAt > INCOMPLETE_GRACE_MS) removeReason.set(s.id, 'incomplete');
      else keep(s.id, s.status === 'failed' ? 'recent failure' : 'in progress');
    }
  }

  const plan: RetentionPlan = { keep: [], remove: [] };
  for (const s of sorted) {
    const r = reasons.get(s.id);
    if (r) plan.keep.push({ id: s.id, reasons: r });
    else plan.remove.push({ id: s.id, reason: removeReason.get(s.id)! });
  }
  return plan;
}

export interface ApplyRetentionOptions {
  /** Plan only: nothing is deleted, and `gc` lists what the real run would sweep. */
  dryRun: boolean;
  /** The clock for the plan (ms); default now. */
  now?: number;
  /** Passed to garbage collection. */
  graceMs?: number;
  /**
   * Collect garbage afterwards (default true). After every backup only the device's
   * snapshot rows are pruned; the store-wide sweep runs on its own schedule.
   */
  collect?: boolean;
}

export type RetentionResult = RetentionPlan & { gc: GcResult };

/** A handset's session history is kept at least this long, however few backups retention keeps. */
export const HISTORY_MIN_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Before when a handset's DM and DS sessions and failed attempts may go: the history covers
 * the window of the backups retention keeps (back to the oldest of them), and never less than
 * HISTORY_MIN_MS, so a handset kept to one backup still shows the month that led to it.
 */
export function historyCutoff(plan: RetentionPlan, snapshots: readonly SnapshotRow[], now: number): number {
  const kept = new Set(plan.keep.map((k) => k.id));
  const times = snapshots.filter((s) => kept.has(s.id)).map(snapshotTime);
  return Math.min(now - HISTORY_MIN_MS, ...times);
}

/**
 * Plans and applies retention for one device, then collects garbage. The plan is made
 * and its snapshots deleted in one transaction (immediate on SQLite), so no backup can change the
 * rows in between. A dry run makes the same plan from the same rows and asks garbage
 * collection what it would sweep were those snapshots gone.
 */
export async function applyRetention(
  db: Db,
  store: BlobStore,
  deviceId: string,
  rules: RetentionRules,
  opts: ApplyRetentionOptions,
): Promise<RetentionResult> {
  const now = opts.now ?? Date.now();
  let plan: RetentionPlan;
  if (opts.dryRun) {
    plan = planRetention(await allDeviceSnapshots(db, deviceId), rules, now, await restorePinned(db, deviceId));
  } else {
    plan = await db.transaction(async (tx) => {
      const p = planRetention(await allDeviceSnapshots(tx, deviceId), rules, now, await restorePinned(tx, deviceId));
      const ids = p.remove.map((r) => r.id);
      const n = await deleteUnheldSnapshots(tx, ids);
      // Cannot happen inside the transaction; if it does, roll back rather than report a wrong plan.
      if (n !== ids.length) throw new Error(`retention deleted ${n} snapshots, planned ${ids.length}`);
      return p;
    });
    await pruneSessionHistory(db, deviceId, historyCutoff(plan, await allDeviceSnapshots(db, deviceId), now));
  }
  if (opts.collect === false) return { ...plan, gc: { removed: 0, bytes: 0, hashes: [] } };
  const gc = await collectGarbage(db, store, {
    dryRun: opts.dryRun,
    graceMs: opts.graceMs,
    assumeDeleted: opts.dryRun ? plan.remove.map((r) => r.id) : undefined,
  });
  return { ...plan, gc };
}
