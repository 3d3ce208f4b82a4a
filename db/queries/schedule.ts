import type { Db } from '../client';

export interface ScheduleRow {
  id: string;
  devId: string;
  createdAt: number;
  policyId: string | null;
  groupName: string | null;
  manufacturer: string | null;
  model: string | null;
  lastCompleteAt: number | null;
  pendingBackup: number;
}

/** Every device with its last complete backup and whether a backup job is already pending. */
export function scheduleCandidates(db: Db, afterId: string, limit: number): ScheduleRow[] {
  return db.$client.prepare(`
    select d.id, d.dev_id as devId, d.created_at as createdAt, d.policy_id as policyId,
      d.group_name as groupName, d.manufacturer, d.model,
      (select max(s.completed_at) from snapshots s where s.device_id = d.id and s.status = 'complete') as lastCompleteAt,
      exists (select 1 from jobs j where j.device_id = d.id and j.kind = 'backup' and j.status in ('queued', 'running')) as pendingBackup
    from devices d where d.id > ? order by d.id limit ?`).all(afterId, limit) as ScheduleRow[];
}
