/** Alerts as the console, the API and the CLI see them; acknowledging and resolving, audited. */
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import {
  countUnresolvedAlerts,
  getAlert,
  listAlerts,
  setAlertStatus,
  type AlertListRow,
  type AlertStatus,
} from '@/db/queries/alerts';
import { getDevice } from '@/db/queries/devices';
import { AppError } from '../core/errors';
import { emitEvent } from './webhooks';
import type { AlertKind } from './schemas';
import type { alertListQuerySchema } from './schemas';
import type { z } from 'zod';

export function alertView(a: AlertListRow) {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(a.details) as Record<string, unknown>;
  } catch {
    // A row written by hand; the alert still shows.
  }
  return {
    id: a.id,
    kind: a.kind as AlertKind,
    status: a.status,
    devId: a.devId,
    deviceId: a.deviceId,
    message: a.message,
    details,
    raisedAt: a.raisedAt,
    acknowledgedAt: a.acknowledgedAt,
    acknowledgedBy: a.acknowledgedBy,
    resolvedAt: a.resolvedAt,
    resolvedBy: a.resolvedBy,
  };
}
export type AlertView = ReturnType<typeof alertView>;

export async function alertList(db: Db, q: z.output<typeof alertListQuerySchema>) {
  const statuses: AlertStatus[] | undefined =
    q.status === 'all' ? undefined : q.status === 'unresolved' ? ['open', 'acknowledged'] : [q.status];
  const [rows, unresolved] = await Promise.all([
    listAlerts(db, { statuses, limit: q.limit }),
    countUnresolvedAlerts(db),
  ]);
  return { alerts: rows.map(alertView), unresolved };
}

/** The bell's count. */
export async function unresolvedAlertCount(db: Db): Promise<number> {
  return countUnresolvedAlerts(db);
}

async function move(
  db: Db,
  id: string,
  actor: string,
  to: 'acknowledged' | 'resolved',
  now = Date.now(),
): Promise<AlertView> {
  const before = await getAlert(db, id);
  if (!before) throw new AppError('not-found', 'No such alert.');
  const from: AlertStatus[] = to === 'acknowledged' ? ['open'] : ['open', 'acknowledged'];
  const moved = await setAlertStatus(
    db,
    id,
    from,
    to === 'acknowledged'
      ? { status: 'acknowledged', acknowledgedAt: now, acknowledgedBy: actor }
      : { status: 'resolved', resolvedAt: now, resolvedBy: actor },
  );
  if (!moved)
    throw new AppError('conflict', `That alert is ${before.status} already.`, { code: `already-${before.status}` });
  await insertAudit(db, {
    actor,
    action: to === 'acknowledged' ? 'alert.acknowledged' : 'alert.resolved',
    deviceId: moved.deviceId,
    details: { id, kind: moved.kind, message: moved.message },
  });
  const devId = moved.deviceId ? ((await getDevice(db, moved.deviceId))?.devId ?? null) : null;
  const view = alertView({ ...moved, devId });
  await emitEvent(db, to === 'acknowledged' ? 'alert.acknowledged' : 'alert.resolved', id, { alert: view }, now);
  return view;
}

export function acknowledgeAlert(db: Db, id: string, actor: string): Promise<AlertView> {
  return move(db, id, actor, 'acknowledged');
}

export function resolveAlert(db: Db, id: string, actor: string): Promise<AlertView> {
  return move(db, id, actor, 'resolved');
}
