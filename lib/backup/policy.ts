/**
 * Backup policies: what to back up, how often, on which networks. Every device follows one
 * policy: its own if it has one, else that of the first device group it is in now (lowest
 * priority number, then name) with a policy assigned, else its model's, else the default
 * (created on first use). The same order in SQL is db/queries/device-list.ts `appliedPolicyId`. The scheduler, backup jobs, the API and the console all resolve it
 * through `choosePolicy`, so they always agree.
 */
import type { Db } from '@/db/client';
import {
  getAssignment,
  getDefaultPolicy,
  getPolicy,
  insertPolicyIfAbsent,
  listAssignments,
  listPolicies,
  type PolicyRow,
} from '@/db/queries/policies';
import type { DeviceRow } from '@/db/queries/devices';
import { groupDeviceIds, groupsWithPolicies, isInGroup } from '@/db/queries/groups';
import { createHash } from 'node:crypto';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';

export const DEFAULT_POLICY = {
  name: 'Standard',
  categories: [...CATEGORIES] as Category[],
  intervalMinutes: 24 * 60,
  jitterMinutes: 60,
  wifiOnly: false,
  roamingAllowed: false,
  retention: { keepLast: 5, daily: 7, weekly: 4, monthly: 12 },
};

export async function ensureDefaultPolicy(db: Db): Promise<PolicyRow> {
  const existing = await getDefaultPolicy(db);
  if (existing) return existing;
  // Sessions starting together on a fresh database (in this process or another) all find none:
  // one insert wins, the others read what it made.
  const made = await insertPolicyIfAbsent(db, {
    name: DEFAULT_POLICY.name,
    categories: JSON.stringify(DEFAULT_POLICY.categories),
    intervalMinutes: DEFAULT_POLICY.intervalMinutes,
    jitterMinutes: DEFAULT_POLICY.jitterMinutes,
    wifiOnly: DEFAULT_POLICY.wifiOnly,
    roamingAllowed: DEFAULT_POLICY.roamingAllowed,
    retention: JSON.stringify(DEFAULT_POLICY.retention),
    isDefault: true,
  });
  const winner = made ?? (await getDefaultPolicy(db));
  if (!winner)
    throw new Error(
      `there is no default backup policy, and a policy named "${DEFAULT_POLICY.name}" that is not the default is in the way`,
    );
  return winner;
}

/** What resolution needs to know of a device. */
export type PolicyTarget = Pick<DeviceRow, 'id' | 'policyId' | 'manufacturer' | 'model'>;

/** Where a device's policy came from. */
export type PolicySource = 'device' | 'group' | 'model' | 'default';

/** The key a model's assignment is stored under. */
export function modelKey(manufacturer: string | null, model: string | null): string | undefined {
  return manufacturer && model ? `${manufacturer}/${model}` : undefined;
}

/** Lookups by id, group and model key; undefined when there is none (or it names a policy since deleted). */
export interface PolicyLookup {
  byId(id: string): PolicyRow | undefined;
  /** The first group (in priority order) the device is in now that has a policy, with that policy. */
  group(deviceId: string): { name: string; policy: PolicyRow } | undefined;
  model(key: string): PolicyRow | undefined;
  fallback(): PolicyRow;
}

/** A device's policy and where it came from (the group's name when from a group). */
export interface Resolution {
  policy: PolicyRow;
  source: PolicySource;
  group?: string;
}

/** The resolution order, in one place: the device's own, its group's, its model's, the default. */
export function choosePolicy(device: PolicyTarget, look: PolicyLookup): Resolution {
  const own = device.policyId ? look.byId(device.policyId) : undefined;
  if (own) return { policy: own, source: 'device' };
  const group = look.group(device.id);
  if (group) return { policy: group.policy, source: 'group', group: group.name };
  const key = modelKey(device.manufacturer, device.model);
  const model = key ? look.model(key) : undefined;
  if (model) return { policy: model, source: 'model' };
  return { policy: look.fallback(), source: 'default' };
}

/** One device's policy, read from the database (a few indexed lookups, one per group with a policy at most). */
export async function resolvePolicy(db: Db, device: PolicyTarget, now = Date.now()): Promise<Resolution> {
  const own = device.policyId ? await getPolicy(db, device.policyId) : undefined;
  let group: { name: string; policy: PolicyRow } | undefined;
  if (!own)
    for (const g of await groupsWithPolicies(db)) {
      if (!(await isInGroup(db, g, device.id, now))) continue;
      const policy = await getPolicy(db, g.policyId);
      if (policy) group = { name: g.name, policy };
      break;
    }
  const key = modelKey(device.manufacturer, device.model);
  const assigned = !own && !group && key ? await getAssignment(db, 'model', key) : undefined;
  const model = assigned ? await getPolicy(db, assigned.policyId) : undefined;
  // The default only when nothing else applies (it is created on first use).
  const fallback = own || group || model ? undefined : await ensureDefaultPolicy(db);
  return choosePolicy(device, {
    byId: () => own,
    group: () => group,
    model: () => model,
    fallback: () => fallback!,
  });
}

export async function policyFor(db: Db, device: PolicyTarget): Promise<PolicyRow> {
  return (await resolvePolicy(db, device)).policy;
}

/**
 * Every policy and assignment read once, for resolving many devices (a scheduler pass, a
 * preview): the same order as `policyFor`, without queries per device. Each group with a
 * policy is evaluated once for the pass (its handsets' ids), not once per device.
 */
export async function policyResolver(db: Db, now = Date.now()): Promise<(device: PolicyTarget) => Resolution> {
  const fallback = await ensureDefaultPolicy(db);
  const byId = new Map((await listPolicies(db)).map((p) => [p.id, p]));
  const models = new Map<string, PolicyRow>();
  for (const a of await listAssignments(db)) {
    const p = byId.get(a.policyId);
    if (p && a.kind === 'model') models.set(a.key, p);
  }
  // In resolution order, so the first group holding a device is the one that decides.
  const groups: Array<{ name: string; policy: PolicyRow; members: Set<string> }> = [];
  for (const g of await groupsWithPolicies(db)) {
    const policy = byId.get(g.policyId);
    if (policy) groups.push({ name: g.name, policy, members: new Set(await groupDeviceIds(db, g, now)) });
  }
  const look: PolicyLookup = {
    byId: (id) => byId.get(id),
    group: (deviceId) => groups.find((g) => g.members.has(deviceId)),
    model: (k) => models.get(k),
    fallback: () => fallback,
  };
  return (device) => choosePolicy(device, look);
}

export function policyCategories(p: PolicyRow): Category[] {
  const list = JSON.parse(p.categories) as string[];
  return CATEGORIES.filter((c) => list.includes(c));
}

/** A device's fixed place within the jitter window, so its wake-ups do not drift or bunch. */
export function jitterMs(devId: string, jitterMinutes: number): number {
  if (jitterMinutes <= 0) return 0;
  const h = createHash('sha256').update(devId).digest().readUInt32BE(0);
  return h % (jitterMinutes * 60_000);
}

/** When the next scheduled backup is due (undefined when the policy schedules none). */
export function nextDueAt(
  p: Pick<PolicyRow, 'intervalMinutes' | 'jitterMinutes'>,
  devId: string,
  since: number,
): number | undefined {
  if (p.intervalMinutes <= 0) return undefined;
  return since + p.intervalMinutes * 60_000 + jitterMs(devId, p.jitterMinutes);
}

/**
 * When the scheduler will queue a device's next backup, as it decides it: the interval
 * and jitter counted from the last complete backup, or from when the device was
 * registered if it has none. A time already past means the next pass (within a minute)
 * queues it, or the handset's next session if one is already pending.
 */
export function nextScheduledBackup(
  p: Pick<PolicyRow, 'intervalMinutes' | 'jitterMinutes'>,
  device: { devId: string; createdAt: number; lastCompleteAt: number | null },
): number | undefined {
  return nextDueAt(p, device.devId, device.lastCompleteAt ?? device.createdAt);
}

export interface NetworkState {
  bearer: string | null;
  roaming: boolean;
}

export function parseNetwork(json: string | null): NetworkState | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as { bearer?: unknown; roaming?: unknown };
    return { bearer: typeof v.bearer === 'string' ? v.bearer : null, roaming: v.roaming === true };
  } catch {
    return undefined;
  }
}

/** Whether the policy lets a backup run on this network now; the reason when not. */
export function networkAllows(
  p: Pick<PolicyRow, 'wifiOnly' | 'roamingAllowed'>,
  n: NetworkState | undefined,
): { ok: true } | { ok: false; reason: string } {
  if (!n) return { ok: true };
  if (n.roaming && !p.roamingAllowed)
    return { ok: false, reason: 'waiting for the home network: the policy does not allow backups while roaming' };
  if (p.wifiOnly && n.bearer !== 'wifi')
    return { ok: false, reason: 'waiting for Wi-Fi: the policy backs up on Wi-Fi only' };
  return { ok: true };
}
