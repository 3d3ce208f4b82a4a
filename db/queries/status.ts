import { count, desc, eq, isNotNull } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, dmSessions } from '../schema';

export function fleetStatus(db: Db) {
  const n = (status: 'active' | 'complete') =>
    db.select({ n: count() }).from(dmSessions).where(eq(dmSessions.status, status)).get()?.n ?? 0;
  return {
    devices: db.select({ n: count() }).from(devices).get()?.n ?? 0,
    sessionsComplete: n('complete'),
    sessionsActive: n('active'),
    recent: db.select({
      devId: devices.devId, manufacturer: devices.manufacturer, model: devices.model,
      firmware: devices.firmware, lastSeenAt: devices.lastSeenAt,
    }).from(devices).where(isNotNull(devices.lastSeenAt)).orderBy(desc(devices.lastSeenAt)).limit(10).all(),
  };
}
