import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rows } from '../sql';

export interface ScheduleRow {
  id: string;
  devId: string;
  createdAt: number;
  policyId: string | null;
  manufacturer: string | null;
  model: string | null;
  lastCompleteAt: number | null;
  pendingBackup: number;
}

/** Every device with its last complete backup and whether a backup job is already pending. */
export async function scheduleCandidates(db: Db, afterId: string, limit: number): Promise<ScheduleRow[]> {
  // pendingBackup as 0/1 on both (PostgreSQL's exists is a boolean).
  return rows<ScheduleRow>(
    db,
    sql`
    select d.id, d.dev_id as "devId", d.created_at as "createdAt", d.policy_id as "policyId",
      d.manufacturer, d.model,
      (select max(s.completed_at) from snapshots s where s.device_id = d.id and s.status = 'complete') as "lastCompleteAt",
      case when exists (select 1 from jobs j where j.device_id = d.id and j.kind = 'backup' and j.status in ('queued', 'running')) then 1 else 0 end as "pendingBackup"
    from devices d where d.id > ${afterId} order by d.id limit ${limit}`,
  );
}
