/**
 * Where alerts come from. A job's end (a failed backup, a failed or rejected restore, a
 * verification walk that found a defect) is looked at as soon as the DM message that ended
 * it is handled (`noteJobEnds`, from lib/gateway/dm-work.ts); the time rules (no good
 * backup, not seen, a category's coverage gone stale) and a catch-up of job ends that
 * happened outside a session are looked at by a periodic pass (`evaluateAlerts`, run by one
 * process at a time: lib/alerts/worker.ts).
 *
 * Each condition has a key (the rule, the handset and what anchors it: the first failure of
 * a streak, the last good snapshot, the failed job), unique among alerts, so looking at it
 * again raises nothing new; a condition that clears resolves its alert (`system`).
 */
import type { Db } from '@/db/client';
import {
  alertDevicesPage,
  defectsSince,
  insertAlert,
  jobsEndedSince,
  recentBackupOutcomes,
  setAlertStatus,
  unresolvedAlerts,
  type AlertDeviceRow,
  type AlertRow,
  type EndedJob,
} from '@/db/queries/alerts';
import { getDevice } from '@/db/queries/devices';
import { listSnapshots } from '@/db/queries/snapshots';
import { policyResolver } from '../backup/policy';
import { coverage } from '../devices/views';
import { alertRules, type AlertRule } from './rules';
import { alertView } from './alerts';
import { emitEvent } from './webhooks';
import type { AlertKind } from './schemas';

const DAY = 86_400_000;
/** How far back the periodic pass looks for job ends and defects: over two of its periods. */
export const CATCH_UP_MS = 30 * 60_000;
const RESTORE_KINDS = new Set(['restore', 'ds-restore', 'local-restore']);
const BACKUP_STREAK_LOOKBACK = 200;

type Rules = Record<AlertKind, AlertRule>;
interface Handset {
  id: string;
  devId: string;
}

async function rulesByKind(db: Db): Promise<Rules> {
  return Object.fromEntries((await alertRules(db)).map((r) => [r.kind, r])) as Rules;
}

async function raise(
  db: Db,
  kind: AlertKind,
  device: Handset,
  key: string,
  message: string,
  details: Record<string, unknown>,
  now: number,
): Promise<AlertRow | undefined> {
  const a = await insertAlert(db, {
    kind,
    conditionKey: `${kind}:${key}`,
    deviceId: device.id,
    message,
    details: JSON.stringify(details),
    raisedAt: now,
  });
  if (a) await emitEvent(db, 'alert.raised', a.id, { alert: alertView({ ...a, devId: device.devId }) }, now);
  return a;
}

/** Resolves a handset's unresolved alerts of a kind whose condition cleared (all but `keep`). */
async function clear(db: Db, kind: AlertKind, device: Handset, now: number, keep?: ReadonlySet<string>): Promise<void> {
  for (const a of await unresolvedAlerts(db, device.id, kind)) {
    if (keep?.has(a.conditionKey)) continue;
    const r = await setAlertStatus(db, a.id, ['open', 'acknowledged'], {
      status: 'resolved',
      resolvedAt: now,
      resolvedBy: 'system',
    });
    if (r) await emitEvent(db, 'alert.resolved', r.id, { alert: alertView({ ...r, devId: device.devId }) }, now);
  }
}

/** The job ends of one handset since `since` (a DM message's start): events, and the alerts they raise or clear. */
export async function noteJobEnds(db: Db, deviceId: string, since: number, now = Date.now()): Promise<void> {
  const ended = await jobsEndedSince(db, since, deviceId);
  const defects = await defectsSince(db, since, deviceId);
  if (!ended.length && !defects.length) return;
  const device = await getDevice(db, deviceId);
  if (device) await judgeJobEnds(db, await rulesByKind(db), device, ended, defects, now);
}

async function judgeJobEnds(
  db: Db,
  rules: Rules,
  device: Handset,
  ended: readonly EndedJob[],
  defects: ReadonlyArray<{ id: string; digestDefect: string; completedAt: number | null }>,
  now: number,
): Promise<void> {
  const handset = { id: device.id, devId: device.devId };
  let backups = false;
  for (const j of ended) {
    const job = { id: j.id, kind: j.kind, status: j.status, error: j.error, endedAt: j.updatedAt };
    if (j.kind === 'backup') {
      backups = true;
      if (j.status === 'failed') await emitEvent(db, 'backup.failed', j.id, { job, device: handset }, now);
    } else if (RESTORE_KINDS.has(j.kind) && (j.status === 'failed' || j.status === 'rejected')) {
      await emitEvent(
        db,
        j.status === 'failed' ? 'restore.failed' : 'restore.rejected',
        j.id,
        { job, device: handset },
        now,
      );
      if (rules['restore-failed'].enabled)
        await raise(
          db,
          'restore-failed',
          handset,
          j.id,
          j.status === 'rejected'
            ? `The handset's user rejected a restore to ${device.devId}.`
            : `A restore to ${device.devId} failed: ${j.error ?? 'no reason given'}.`,
          { job },
          now,
        );
    }
  }
  if (backups) await judgeBackupStreak(db, rules['backup-failures'], handset, now);
  if (rules.defect.enabled)
    for (const s of defects)
      await raise(
        db,
        'defect',
        handset,
        s.id,
        `${device.devId} reported a defect: its backup digests disagreed with a full verification (${s.digestDefect}).`,
        { snapshotId: s.id, defect: s.digestDefect },
        now,
      );
}

/** Backups failed N times in a row: one alert per streak, resolved by the next good backup. */
async function judgeBackupStreak(db: Db, rule: AlertRule, device: Handset, now: number): Promise<void> {
  const outcomes = await recentBackupOutcomes(db, device.id, Math.max(rule.threshold, BACKUP_STREAK_LOOKBACK));
  if (outcomes[0]?.status === 'succeeded') return clear(db, 'backup-failures', device, now);
  const streak = outcomes.findIndex((o) => o.status !== 'failed');
  const failures = streak === -1 ? outcomes : outcomes.slice(0, streak);
  if (!rule.enabled || failures.length < rule.threshold) return;
  // A streak longer than the look-back has its first failure out of sight: the open alert stands for it.
  if ((await unresolvedAlerts(db, device.id, 'backup-failures')).length) return;
  const first = failures[failures.length - 1]!;
  await raise(
    db,
    'backup-failures',
    device,
    `${device.id}:${first.id}`,
    `${device.devId}: ${failures.length} backups failed in a row; the last said: ${failures[0]!.error ?? 'no reason given'}.`,
    { failures: failures.length, lastError: failures[0]!.error, firstJobId: first.id, lastJobId: failures[0]!.id },
    now,
  );
}

/** The time rules for one handset. */
async function judgeTimeRules(
  db: Db,
  rules: Rules,
  d: AlertDeviceRow,
  resolve: Awaited<ReturnType<typeof policyResolver>>,
  now: number,
): Promise<void> {
  const notSeen = rules['not-seen'];
  if (notSeen.enabled) {
    const seen = d.lastSeenAt ?? d.createdAt;
    if (now - seen > notSeen.threshold * DAY)
      await raise(
        db,
        'not-seen',
        d,
        `${d.id}:${d.lastSeenAt ?? 'never'}`,
        d.lastSeenAt
          ? `${d.devId} has not connected for ${Math.floor((now - seen) / DAY)} days.`
          : `${d.devId} has never connected since it was provisioned ${Math.floor((now - seen) / DAY)} days ago.`,
        { lastSeenAt: d.lastSeenAt, days: notSeen.threshold },
        now,
      );
    else await clear(db, 'not-seen', d, now);
  }
  const noGood = rules['no-good-backup'];
  if (noGood.enabled) {
    const last = d.lastCompleteAt ?? d.createdAt;
    if (now - last > noGood.threshold * DAY)
      await raise(
        db,
        'no-good-backup',
        d,
        `${d.id}:${d.lastCompleteId ?? 'none'}`,
        d.lastCompleteAt
          ? `${d.devId} has had no good backup for ${Math.floor((now - last) / DAY)} days.`
          : `${d.devId} has never had a good backup (provisioned ${Math.floor((now - last) / DAY)} days ago).`,
        { lastGoodSnapshotId: d.lastCompleteId, lastGoodAt: d.lastCompleteAt, days: noGood.threshold },
        now,
      );
    else await clear(db, 'no-good-backup', d, now);
  }
  // A category can only lose coverage it had: handsets without a good backup are the rule above's.
  if (rules['coverage-lost'].enabled && d.lastCompleteAt !== null) {
    const policy = resolve(d).policy;
    const snaps = await listSnapshots(db, d.id, { status: 'complete', limit: 200 });
    const stale = new Set<string>();
    for (const c of coverage(snaps, policy, now)) {
      if (!c.inPolicy || c.state !== 'stale') continue;
      const key = `${d.id}:${c.category}:${c.snapshotId}`;
      stale.add(`coverage-lost:${key}`);
      await raise(
        db,
        'coverage-lost',
        d,
        key,
        `${d.devId}: ${c.label} lost its coverage: its last good backup is too old for the policy.`,
        { category: c.category, lastAt: c.lastAt, snapshotId: c.snapshotId },
        now,
      );
    }
    await clear(db, 'coverage-lost', d, now, stale);
  }
}

/**
 * The periodic pass: job ends and defects of the last CATCH_UP_MS (those no DM message
 * looked at: a wake that ran out, a safety backup's failure holding back its restore), then
 * the time rules over every handset, a page at a time.
 */
export async function evaluateAlerts(db: Db, now = Date.now()): Promise<void> {
  const rules = await rulesByKind(db);
  const since = now - CATCH_UP_MS;
  const byDevice = new Map<string, { ended: EndedJob[]; defects: Awaited<ReturnType<typeof defectsSince>> }>();
  const of = (id: string) => byDevice.get(id) ?? byDevice.set(id, { ended: [], defects: [] }).get(id)!;
  for (const j of await jobsEndedSince(db, since)) of(j.deviceId).ended.push(j);
  for (const s of await defectsSince(db, since)) of(s.deviceId).defects.push(s);
  for (const [id, { ended, defects }] of byDevice) {
    const device = await getDevice(db, id);
    if (device) await judgeJobEnds(db, rules, device, ended, defects, now);
  }
  const resolve = await policyResolver(db);
  let after = '';
  for (;;) {
    const page = await alertDevicesPage(db, after, 500);
    if (!page.length) break;
    after = page[page.length - 1]!.id;
    for (const d of page) await judgeTimeRules(db, rules, d, resolve, now);
    // Yield between pages so the DM endpoint keeps answering during a large pass.
    await new Promise((r) => setImmediate(r));
  }
}
