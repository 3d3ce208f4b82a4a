/** DS accounts across handsets, for the admin page: each with the handset it belongs to. */
import { desc, eq, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dsAccounts } from '../schema';

export interface DsAccountListRow {
  id: string;
  deviceId: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  username: string;
  auth: 'basic' | 'md5';
  createdAt: number;
}

/** Newest first; `q` narrows to a DevId or user name containing it (case-insensitive: both sides lower-cased, as PostgreSQL's LIKE is not). */
export async function listDsAccounts(db: Db, opts: { q?: string; limit?: number } = {}): Promise<DsAccountListRow[]> {
  const q = opts.q?.trim();
  const pattern = q ? `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  return db
    .select({
      id: dsAccounts.id,
      deviceId: dsAccounts.deviceId,
      devId: devices.devId,
      manufacturer: devices.manufacturer,
      model: devices.model,
      username: dsAccounts.username,
      auth: dsAccounts.auth,
      createdAt: dsAccounts.createdAt,
    })
    .from(dsAccounts)
    .innerJoin(devices, eq(devices.id, dsAccounts.deviceId))
    .where(
      pattern
        ? or(
            sql`lower(${devices.devId}) like ${pattern} escape '\\'`,
            sql`lower(${dsAccounts.username}) like ${pattern} escape '\\'`,
          )
        : undefined,
    )
    .orderBy(desc(dsAccounts.createdAt), dsAccounts.id)
    .limit(opts.limit ?? 200);
}
