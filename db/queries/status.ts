import { count, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dmSessions, snapshots } from '../schema';
import { blobStats } from './snapshots';

export function fleetStatus(db: Db) {
  const n = (status: 'active' | 'complete') =>
    db.select({ n: count() }).from(dmSessions).where(eq(dmSessions.status, status)).get()?.n ?? 0;
  return {
    devices: db.select({ n: count() }).from(devices).get()?.n ?? 0,
    sessionsComplete: n('complete'),
    sessionsActive: n('active'),
    snapshotsComplete: db.select({ n: count() }).from(snapshots).where(eq(snapshots.status, 'complete')).get()?.n ?? 0,
    stored: blobStats(db),
    recentBackups: db.select({
      id: snapshots.id, devId: devices.devId, trigger: snapshots.trigger, status: snapshots.status, entries: snapshots.entries,
      bytes: snapshots.bytes, newBytes: snapshots.newBytes, startedAt: snapshots.startedAt,
    }).from(snapshots).innerJoin(devices, eq(devices.id, snapshots.deviceId)).orderBy(desc(snapshots.startedAt)).limit(10).all(),
    recent: db.select({
      devId: devices.devId, manufacturer: devices.manufacturer, model: devices.model,
      firmware: devices.firmware, lastSeenAt: devices.lastSeenAt,
    }).from(devices).where(isNotNull(devices.lastSeenAt)).orderBy(desc(devices.lastSeenAt)).limit(10).all(),
  };
}
