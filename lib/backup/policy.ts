/**
 * Backup policies: what to back up, how often, on which networks. Every device follows a
 * policy (its own, or the default one, created on first use).
 */
import type { Db } from '@/db/client';
import { getDefaultPolicy, getPolicy, insertPolicy, type PolicyRow } from '@/db/queries/policies';
import type { DeviceRow } from '@/db/queries/devices';
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

export function ensureDefaultPolicy(db: Db): PolicyRow {
  const existing = getDefaultPolicy(db);
  if (existing) return existing;
  return insertPolicy(db, {
    name: DEFAULT_POLICY.name, categories: JSON.stringify(DEFAULT_POLICY.categories), intervalMinutes: DEFAULT_POLICY.intervalMinutes,
    jitterMinutes: DEFAULT_POLICY.jitterMinutes, wifiOnly: DEFAULT_POLICY.wifiOnly, roamingAllowed: DEFAULT_POLICY.roamingAllowed,
    retention: JSON.stringify(DEFAULT_POLICY.retention), isDefault: true,
  });
}

export function policyFor(db: Db, device: Pick<DeviceRow, 'policyId'>): PolicyRow {
  return (device.policyId ? getPolicy(db, device.policyId) : undefined) ?? ensureDefaultPolicy(db);
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
export function nextDueAt(p: PolicyRow, devId: string, since: number): number | undefined {
  if (p.intervalMinutes <= 0) return undefined;
  return since + p.intervalMinutes * 60_000 + jitterMs(devId, p.jitterMinutes);
}

export interface NetworkState { bearer: string | null; roaming: boolean }

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
export function networkAllows(p: Pick<PolicyRow, 'wifiOnly' | 'roamingAllowed'>, n: NetworkState | undefined): { ok: true } | { ok: false; reason: string } {
  if (!n) return { ok: true };
  if (n.roaming && !p.roamingAllowed) return { ok: false, reason: 'waiting for the home network: the policy does not allow backups while roaming' };
  if (p.wifiOnly && n.bearer !== 'wifi') return { ok: false, reason: 'waiting for Wi-Fi: the policy backs up on Wi-Fi only' };
  return { ok: true };
}
