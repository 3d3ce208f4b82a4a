/**
 * Every job's state in one read, for a watcher of many jobs at once (the soak's thousand
 * handsets): one query a second instead of one per job per poll.
 */
import { gte } from 'drizzle-orm';
import type { Db } from '../client';
import { jobs } from '../schema';

export interface JobState {
  id: string;
  deviceId: string;
  kind: string;
  status: string;
  updatedAt: number;
}

/** The jobs created at or after `since` (ms), with their state now. */
export async function jobStatesSince(db: Db, since: number): Promise<JobState[]> {
  return db
    .select({ id: jobs.id, deviceId: jobs.deviceId, kind: jobs.kind, status: jobs.status, updatedAt: jobs.updatedAt })
    .from(jobs)
    .where(gte(jobs.createdAt, since));
}
