/** Alerts and their rules (db/schema.ts `alerts`, `alert_rules`); evaluated in lib/alerts. */
import { and, asc, count, desc, eq, gte, inArray, isNotNull, ne, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { alertRules, alerts, devices, jobs, snapshots } from '../schema';
import { rows } from '../sql';
import { prepared } from '../prepared';
import { newestFirst, olderThan, type TimeKey } from './keyset';

export type AlertRow = typeof alerts.$inferSelect;
export type AlertRuleRow = typeof alertRules.$inferSelect;
export type AlertStatus = AlertRow['status'];

const allRules = prepared((db) => db.select().from(alertRules).orderBy(asc(alertRules.kind)));

export async function listAlertRules(db: Db): Promise<AlertRuleRow[]> {
  return allRules(db, {});
}

export async function upsertAlertRule(db: Db, r: AlertRuleRow): Promise<void> {
  await db
    .insert(alertRules)
    .values(r)
    .onConflictDoUpdate({
      target: alertRules.kind,
      set: { threshold: r.threshold, enabled: r.enabled, updatedAt: r.updatedAt },
    });
}

/** Raises an alert unless its condition raised one already; the new row, or undefined. */
export async function insertAlert(
  db: Db,
  a: Pick<AlertRow, 'kind' | 'conditionKey' | 'deviceId' | 'message' | 'details' | 'raisedAt'>,
): Promise<AlertRow | undefined> {
  return (await db.insert(alerts).values(a).onConflictDoNothing({ target: alerts.conditionKey }).returning())[0];
}

export async function getAlert(db: Db, id: string): Promise<AlertRow | undefined> {
  return (await db.select().from(alerts).where(eq(alerts.id, id)).limit(1))[0];
}

/** A handset's alerts of one kind that are not resolved. */
export async function unresolvedAlerts(db: Db, deviceId: string, kind: string): Promise<AlertRow[]> {
  return unresolved(db, { deviceId, kind });
}

const unresolved = prepared((db, v: { deviceId: string; kind: string }) =>
  db
    .select()
    .from(alerts)
    .where(and(eq(alerts.deviceId, v.deviceId), eq(alerts.kind, v.kind), ne(alerts.status, 'resolved'))),
);

/** Moves an alert on, only from a status it may leave (no acknowledging a resolved one); the row when it moved. */
export async function setAlertStatus(
  db: Db,
  id: string,
  from: readonly AlertStatus[],
  patch: Partial<Pick<AlertRow, 'status' | 'acknowledgedAt' | 'acknowledgedBy' | 'resolvedAt' | 'resolvedBy'>>,
): Promise<AlertRow | undefined> {
  return (
    await db
      .update(alerts)
      .set(patch)
      .where(and(eq(alerts.id, id), inArray(alerts.status, [...from])))
      .returning()
  )[0];
}

export type AlertListRow = AlertRow & { devId: string | null };

/** Alerts newest first, optionally of some statuses, with the handset's DevId. */
export async function listAlerts(
  db: Db,
  opts: { statuses?: readonly AlertStatus[]; limit: number; after?: TimeKey },
): Promise<AlertListRow[]> {
  const r = await db
    .select({ alert: alerts, devId: devices.devId })
    .from(alerts)
    .leftJoin(devices, eq(devices.id, alerts.deviceId))
    .where(
      and(
        opts.statuses?.length ? inArray(alerts.status, [...opts.statuses]) : undefined,
        olderThan(alerts.raisedAt, alerts.id, opts.after),
      ),
    )
    .orderBy(...newestFirst(alerts.raisedAt, alerts.id))
    .limit(opts.limit);
  return r.map((x) => ({ ...x.alert, devId: x.devId }));
}

export async function countUnresolvedAlerts(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(alerts).where(ne(alerts.status, 'resolved')))[0]?.n ?? 0;
}

export type EndedJob = Pick<typeof jobs.$inferSelect, 'id' | 'deviceId' | 'kind' | 'status' | 'error' | 'updatedAt'>;

const ENDED = ['succeeded', 'failed', 'rejected'] as const;
const ENDED_JOB = {
  id: jobs.id,
  deviceId: jobs.deviceId,
  kind: jobs.kind,
  status: jobs.status,
  error: jobs.error,
  updatedAt: jobs.updatedAt,
};

/** Jobs that ended at or after `since`: of one handset, or (a catch-up pass) of every handset. */
export async function jobsEndedSince(db: Db, since: number, deviceId?: string): Promise<EndedJob[]> {
  return deviceId ? endedOfDevice(db, { since, deviceId }) : endedOfAll(db, { since });
}

const endedSince = (db: Db, since: number, deviceId?: string) =>
  db
    .select(ENDED_JOB)
    .from(jobs)
    .where(
      and(
        deviceId === undefined ? undefined : eq(jobs.deviceId, deviceId),
        inArray(jobs.status, [...ENDED]),
        gte(jobs.updatedAt, since),
      ),
    )
    .orderBy(asc(jobs.updatedAt), asc(jobs.id))
    .limit(10_000);
const endedOfDevice = prepared((db, v: { since: number; deviceId: string }) => endedSince(db, v.since, v.deviceId));
const endedOfAll = prepared((db, v: { since: number }) => endedSince(db, v.since));

/** A handset's ended backups, newest first: the failures in a row are the run before the first success. */
export async function recentBackupOutcomes(db: Db, deviceId: string, limit: number): Promise<EndedJob[]> {
  return backupOutcomes(db, { deviceId, limit });
}

const backupOutcomes = prepared((db, v: { deviceId: string; limit: number }) =>
  db
    .select(ENDED_JOB)
    .from(jobs)
    .where(and(eq(jobs.deviceId, v.deviceId), eq(jobs.kind, 'backup'), inArray(jobs.status, ['succeeded', 'failed'])))
    .orderBy(desc(jobs.updatedAt), desc(jobs.id))
    .limit(v.limit),
);

/** Snapshots whose verification walk found the handset's digests wrong, completed at or after `since`. */
export async function defectsSince(
  db: Db,
  since: number,
  deviceId?: string,
): Promise<Array<{ id: string; deviceId: string; digestDefect: string; completedAt: number | null }>> {
  const r = deviceId ? await defectsOfDevice(db, { since, deviceId }) : await defectsOfAll(db, { since });
  return r.map((x) => ({ ...x, digestDefect: x.digestDefect ?? '' }));
}

const defects = (db: Db, since: number, deviceId?: string) =>
  db
    .select({
      id: snapshots.id,
      deviceId: snapshots.deviceId,
      digestDefect: snapshots.digestDefect,
      completedAt: snapshots.completedAt,
    })
    .from(snapshots)
    .where(
      and(
        deviceId === undefined ? undefined : eq(snapshots.deviceId, deviceId),
        isNotNull(snapshots.digestDefect),
        gte(snapshots.completedAt, since),
      ),
    )
    .limit(10_000);
const defectsOfDevice = prepared((db, v: { since: number; deviceId: string }) => defects(db, v.since, v.deviceId));
const defectsOfAll = prepared((db, v: { since: number }) => defects(db, v.since));

export interface AlertDeviceRow {
  id: string;
  devId: string;
  createdAt: number;
  lastSeenAt: number | null;
  policyId: string | null;
  manufacturer: string | null;
  model: string | null;
  lastCompleteAt: number | null;
  lastCompleteId: string | null;
}

/** A page of handsets in id order with what the time rules read: last seen, last good backup. */
export async function alertDevicesPage(db: Db, afterId: string, limit: number): Promise<AlertDeviceRow[]> {
  return rows<AlertDeviceRow>(
    db,
    sql`
    select d.id, d.dev_id as "devId", d.created_at as "createdAt", d.last_seen_at as "lastSeenAt",
      d.policy_id as "policyId", d.manufacturer, d.model,
      s.completed_at as "lastCompleteAt", s.id as "lastCompleteId"
    from devices d
    left join snapshots s on s.id = (
      select s2.id from snapshots s2 where s2.device_id = d.id and s2.status = 'complete'
      order by s2.completed_at desc, s2.id desc limit 1)
    where d.id > ${afterId} order by d.id limit ${limit}`,
  );
}
