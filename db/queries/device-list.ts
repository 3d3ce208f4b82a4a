/**
 * The device list's SQL: a filter (lib/devices/filter.ts) becomes one WHERE clause over
 * `devices d`, the same on SQLite and PostgreSQL, used by the list, its count, its CSV, group
 * rules and bulk actions. Pages are keyset pages on (sort column, id), each read from the
 * index of its column, so a deep page of a million handsets costs what the first one does.
 */
import { sql, type SQL } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import type { deviceGroups } from '../schema';
import { exec, row, rows, value } from '../sql';
import { preparedSql } from '../prepared';
import {
  firmwareKey,
  ruleFilter,
  type DeviceFilter,
  type DeviceListKey,
  type DeviceSort,
  type GroupRule,
} from '@/lib/devices/filter';

const DAY_MS = 86_400_000;

/** The column each sort reads, with the index it pages on. */
const SORT_COLUMN: Record<DeviceSort, SQL> = {
  devId: sql`d.dev_id`,
  model: sql`d.model`,
  firmware: sql`d.firmware_key`,
  lastBackup: sql`d.last_good_backup_at`,
  lastSeen: sql`d.last_seen_at`,
};

/** A group as its condition needs it. */
export interface GroupDefinition {
  id: string;
  kind: string;
  rule: string | null;
}

/** The condition a group's membership is: its static list, or its rule now. */
export function groupMembership(g: GroupDefinition, now: number, pageBy?: DeviceSort): SQL {
  if (g.kind === 'static')
    return sql`exists (select 1 from device_group_members m where m.group_id = ${g.id} and m.device_id = d.id)`;
  return conditions(ruleFilter(JSON.parse(g.rule ?? '{}') as GroupRule), now, undefined, undefined, pageBy);
}

async function groupCondition(db: Db, groupName: string, now: number, pageBy: DeviceSort | undefined): Promise<SQL> {
  const g = await row<GroupDefinition>(db, sql`select id, kind, rule from device_groups where name = ${groupName}`);
  return g ? groupMembership(g, now, pageBy) : sql`1 = 0`;
}

const groupPolicies = preparedSql(
  () => sql`select g.id, g.name, g.kind, g.rule, g.priority, g.created_at as "createdAt", pa.policy_id as "policyId"
      from device_groups g
      join policy_assignments pa on pa.kind = 'group' and pa.key = g.name
      join policies p on p.id = pa.policy_id
      order by g.priority, g.name`,
);

/** The groups that have a policy assigned (to a policy that exists), in resolution order, with it. */
export async function groupsWithPolicies(
  db: Db,
): Promise<Array<typeof deviceGroups.$inferSelect & { policyId: string }>> {
  const r = await groupPolicies.rows<typeof deviceGroups.$inferSelect & { policyId: string }>(db, {});
  return r.map((g) => ({ ...g, priority: Number(g.priority), createdAt: Number(g.createdAt) }));
}

/**
 * The id of the policy that applies to each handset of `devices d`, in the resolution order of
 * lib/backup/policy.ts: its own (while that policy exists), else the policy of the first group
 * it is in now (lowest priority number, then name) that has one assigned, else its model's,
 * else the default. Null only while no default policy exists yet.
 */
export async function appliedPolicyId(db: Db, now: number): Promise<SQL> {
  const groups = await groupsWithPolicies(db);
  const whens = groups.map((g) => sql` when ${groupMembership(g, now)} then ${g.policyId}`);
  return sql`(case when d.policy_id is not null and exists (select 1 from policies p where p.id = d.policy_id) then d.policy_id${sql.join(whens, sql``)}
    else coalesce(
      (select pa.policy_id from policy_assignments pa join policies p on p.id = pa.policy_id
        where pa.kind = 'model' and pa.key = d.manufacturer || '/' || d.model),
      (select p.id from policies p where p.is_default = 1 order by p.id limit 1))
    end)`;
}

/**
 * The WHERE clause of a filter over `devices d` (true for an empty filter). `pageBy`: the
 * clause reads a page in that sort's order (deviceListPage), not a count.
 */
export async function deviceWhere(
  db: Db,
  f: DeviceFilter,
  now = Date.now(),
  opts: { pageBy?: DeviceSort } = {},
): Promise<SQL> {
  const pageBy = opts.pageBy !== undefined && !isPg(db) ? opts.pageBy : undefined;
  const group = f.group !== undefined ? await groupCondition(db, f.group, now, pageBy) : undefined;
  const policy = f.policy !== undefined ? await appliedPolicyId(db, now) : undefined;
  return conditions(f, now, group, policy, pageBy);
}

/** The device columns a filter compares, as SORT_COLUMN names them. */
const FILTER_SORT: Record<string, DeviceSort | undefined> = {
  model: 'model',
  manufacturer: undefined,
  firmware: 'firmware',
  firmware_key: 'firmware',
  last_good_backup_at: 'lastBackup',
  last_seen_at: 'lastSeen',
};

function conditions(
  f: DeviceFilter,
  now: number,
  group: SQL | undefined,
  policy: SQL | undefined,
  pageBy: DeviceSort | undefined,
): SQL {
  // A page of 50 is found soonest by walking its sort column's index and testing each handset,
  // unless the filter is on that very column. SQLite has no statistics to know that a broad
  // filter ("no backup for a week": most of the fleet) is worse to start from than the sort's
  // index, and picks the filter's index, then sorts every match: seconds at a million handsets.
  // A unary + keeps it from using a column's index (PostgreSQL's planner weighs this itself).
  const col = (name: keyof typeof FILTER_SORT) =>
    sql.raw(pageBy !== undefined && FILTER_SORT[name] !== pageBy ? `+d.${name}` : `d.${name}`);
  const c: SQL[] = [];
  if (f.q) {
    const q = f.q.toLowerCase();
    // A bare IMEI finds its `IMEI:` DevId too.
    c.push(
      sql`(lower(d.dev_id) like ${`${escapeLike(q)}%`} escape '\\' or lower(d.dev_id) like ${`imei:${escapeLike(q)}%`} escape '\\')`,
    );
  }
  if (f.manufacturer) c.push(sql`${col('manufacturer')} = ${f.manufacturer}`);
  if (f.model) c.push(sql`${col('model')} = ${f.model}`);
  if (f.firmware) c.push(sql`${col('firmware')} = ${f.firmware}`);
  if (f.firmwareFrom) c.push(sql`${col('firmware_key')} >= ${firmwareKey(f.firmwareFrom)}`);
  if (f.firmwareTo) c.push(sql`${col('firmware_key')} <= ${firmwareKey(f.firmwareTo)}`);
  if (f.msisdnPrefix)
    c.push(
      // The matching numbers first (a range of msisdns' key), then their owners' handsets by index:
      // a correlated EXISTS would test every handset of the fleet.
      sql`d.subscriber_id in (select m.subscriber_id from msisdns m where m.msisdn >= ${f.msisdnPrefix} and m.msisdn < ${`${f.msisdnPrefix}:`})`,
    );
  if (f.subscriber) c.push(sql`d.subscriber_id = ${f.subscriber}`);
  if (group) c.push(group);
  if (f.policy && policy) c.push(sql`${policy} = ${f.policy}`);
  const backupBefore = minOf(
    f.lastBackupBefore,
    f.noBackupForDays === undefined ? undefined : now - f.noBackupForDays * DAY_MS,
  );
  if (backupBefore !== undefined)
    c.push(sql`(${col('last_good_backup_at')} is null or ${col('last_good_backup_at')} < ${backupBefore})`);
  if (f.lastBackupAfter !== undefined) c.push(sql`${col('last_good_backup_at')} >= ${f.lastBackupAfter}`);
  const seenBefore = minOf(
    f.lastSeenBefore,
    f.notSeenForDays === undefined ? undefined : now - f.notSeenForDays * DAY_MS,
  );
  if (seenBefore !== undefined) c.push(sql`(${col('last_seen_at')} is null or ${col('last_seen_at')} < ${seenBefore})`);
  const seenAfter = maxOf(
    f.lastSeenAfter,
    f.seenWithinDays === undefined ? undefined : now - f.seenWithinDays * DAY_MS,
  );
  if (seenAfter !== undefined) c.push(sql`${col('last_seen_at')} >= ${seenAfter}`);
  if (f.coverage === 'never') c.push(sql`${col('last_good_backup_at')} is null`);
  if (f.coverage === 'day') c.push(sql`${col('last_good_backup_at')} >= ${now - DAY_MS}`);
  if (f.coverage === 'week')
    c.push(
      sql`${col('last_good_backup_at')} < ${now - DAY_MS} and ${col('last_good_backup_at')} >= ${now - 7 * DAY_MS}`,
    );
  if (f.coverage === 'older') c.push(sql`${col('last_good_backup_at')} < ${now - 7 * DAY_MS}`);
  if (f.alert)
    c.push(
      // Open alerts are few: read them, then their handsets, rather than test every handset.
      sql`d.id in (select a.device_id from alerts a where a.status <> 'resolved'${f.alert === 'any' ? sql`` : sql` and a.kind = ${f.alert}`})`,
    );
  return c.length ? sql.join(c, sql` and `) : sql`1 = 1`;
}

function minOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.min(a, b);
}
function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}
function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => `\\${ch}`);
}

/** One row of the device list. */
export interface DeviceListRow {
  id: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  subscriberId: string | null;
  subscriberName: string | null;
  policyId: string | null;
  lastGoodBackupAt: number | null;
  lastSeenAt: number | null;
  openAlerts: number;
}

const SELECT = sql`select d.id, d.dev_id as "devId", d.manufacturer, d.model, d.firmware,
  d.subscriber_id as "subscriberId", s.name as "subscriberName", d.policy_id as "policyId",
  d.last_good_backup_at as "lastGoodBackupAt", d.last_seen_at as "lastSeenAt",
  (select count(*) from alerts a where a.device_id = d.id and a.status <> 'resolved') as "openAlerts"
  from devices d left join subscribers s on s.id = d.subscriber_id`;

/**
 * A page of the filtered list in (sort, id) order, `limit` rows after `after`. Rows without a
 * value of the sort column (never backed up, never seen) count as the lowest: first ascending,
 * last descending. They are read as their own segment (`col is null`, by id), so both segments
 * walk an index on either database, whose NULL orders differ.
 */
export async function deviceListPage(
  db: Db,
  q: { where: SQL; sort: DeviceSort; dir: 'asc' | 'desc'; after?: DeviceListKey; limit: number },
): Promise<DeviceListRow[]> {
  const col = SORT_COLUMN[q.sort];
  const desc = q.dir === 'desc';
  const ord = desc ? sql`desc` : sql`asc`;
  const valued = async (after: DeviceListKey | undefined, limit: number) => {
    const key =
      after === undefined
        ? sql``
        : desc
          ? sql` and (${col} < ${after.v} or (${col} = ${after.v} and d.id < ${after.id}))`
          : sql` and (${col} > ${after.v} or (${col} = ${after.v} and d.id > ${after.id}))`;
    return rows<DeviceListRow>(
      db,
      sql`${SELECT} where ${q.where} and ${col} is not null${key} order by ${col} ${ord}, d.id ${ord} limit ${limit}`,
    );
  };
  const empty = async (afterId: string | undefined, limit: number) =>
    rows<DeviceListRow>(
      db,
      sql`${SELECT} where ${q.where} and ${col} is null${afterId === undefined ? sql`` : desc ? sql` and d.id < ${afterId}` : sql` and d.id > ${afterId}`} order by d.id ${ord} limit ${limit}`,
    );
  const after = q.after;
  // Ascending: the empty segment, then the valued one; descending the other way round.
  const inEmpty = after !== undefined && after.v === null;
  const out: DeviceListRow[] = [];
  if (desc) {
    if (!inEmpty) out.push(...(await valued(after, q.limit)));
    if (out.length < q.limit) out.push(...(await empty(inEmpty ? after!.id : undefined, q.limit - out.length)));
  } else {
    if (after === undefined || inEmpty) out.push(...(await empty(after?.id, q.limit)));
    if (out.length < q.limit) out.push(...(await valued(inEmpty ? undefined : after, q.limit - out.length)));
  }
  return out.map(normalise);
}

/** The sort key of a list row, as its page's cursor carries it. */
export function deviceListKey(r: DeviceListRow, sort: DeviceSort): DeviceListKey {
  const v =
    sort === 'devId'
      ? r.devId
      : sort === 'model'
        ? r.model
        : sort === 'firmware'
          ? firmwareKey(r.firmware)
          : sort === 'lastBackup'
            ? r.lastGoodBackupAt
            : r.lastSeenAt;
  return { v, id: r.id };
}

function normalise(r: DeviceListRow): DeviceListRow {
  return {
    ...r,
    lastGoodBackupAt: r.lastGoodBackupAt === null ? null : Number(r.lastGoodBackupAt),
    lastSeenAt: r.lastSeenAt === null ? null : Number(r.lastSeenAt),
    openAlerts: Number(r.openAlerts),
  };
}

/** How many handsets a filter matches (the dry run of a bulk action, the list's total). */
export async function countDevices(db: Db, where: SQL): Promise<number> {
  return Number((await value<number>(db, sql`select count(*) from devices d where ${where}`)) ?? 0);
}

/**
 * How many handsets a filter matches, counting no further than `cap` (answered as cap + 1 when
 * more match): the list says "more than 10,000" rather than count a million on every page.
 */
export async function countDevicesUpTo(db: Db, where: SQL, cap: number): Promise<number> {
  return Number(
    (await value<number>(db, sql`select count(*) from (select 1 from devices d where ${where} limit ${cap + 1}) c`)) ??
      0,
  );
}

/** The ids of matching handsets in id order after `afterId`: a bulk action walks the filter with these. */
export async function deviceIdsAfter(
  db: Db,
  where: SQL,
  afterId: string | undefined,
  limit: number,
): Promise<string[]> {
  const r = await rows<{ id: string }>(
    db,
    sql`select d.id from devices d where ${where}${afterId === undefined ? sql`` : sql` and d.id > ${afterId}`} order by d.id limit ${limit}`,
  );
  return r.map((x) => x.id);
}

/** Keeps devices.last_good_backup_at true after a snapshot of the device completed or was pruned. */
export async function refreshLastGoodBackup(db: Db, deviceId: string): Promise<void> {
  await exec(
    db,
    sql`update devices set last_good_backup_at = (select max(s.completed_at) from snapshots s where s.device_id = ${deviceId} and s.status = 'complete') where id = ${deviceId}`,
  );
}
