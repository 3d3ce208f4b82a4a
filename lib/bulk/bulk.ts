/**
 * Bulk actions: one order for a selection of handsets or a whole filter of the device list
 * (back up now, DS backup now, assign a policy or a group). An order is counted first (the dry
 * run), then kept as a `bulk_operations` row that a server process's worker (worker.ts) walks
 * in pages of handset ids from its cursor, so it resumes where it stopped after a restart, and
 * a million handsets never hold one transaction. The jobs it queues carry its id, which is
 * what its progress counts (views.ts); their Package #0 go out at the wake budget's pace.
 */
import type { SQL } from 'drizzle-orm';
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import {
  cancelQueuedBulkJobs,
  countInStaticGroup,
  countWithOwnPolicy,
  countWithPendingJob,
  devicesByIds,
  failBulk,
  getBulk,
  insertBulk,
  markBulkCancelled,
  advanceBulk,
  selectionWhere,
  tagBulkJobs,
  type BulkRow,
} from '@/db/queries/bulk';
import type { DeviceRow } from '@/db/queries/devices';
import { updateDevice } from '@/db/queries/devices';
import { countDevices, deviceIdsAfter, deviceWhere } from '@/db/queries/device-list';
import { getGroupByName } from '@/db/queries/groups';
import { getPolicy } from '@/db/queries/policies';
import { AppError } from '../core/errors';
import { addMembers } from '../groups/groups';
import { createBackupJob } from '../backup/jobs';
import { createDsBackupJob } from '../ds/jobs';
import {
  BULK_ACTION_WORDS,
  storedBulkRequestSchema,
  type BulkActionName,
  type BulkOrder,
  type BulkPreview,
  type StoredBulkRequest,
} from './schemas';

/** Handsets per page of the walk: one page is one short burst of writes, then the cursor moves. */
export const BULK_PAGE = 200;

/** Why a handset was left as it was, by action. */
export const SKIP_REASON: Record<BulkActionName, string> = {
  backup: 'a backup was already queued or running',
  'ds-backup': 'a contacts and calendar backup was already queued or running',
  'assign-policy': 'the policy was already theirs',
  'assign-group': 'they were already in the group',
};

const JOB_KIND: Partial<Record<BulkActionName, 'backup' | 'ds-backup'>> = {
  backup: 'backup',
  'ds-backup': 'ds-backup',
};

export class BulkNotFound extends AppError {
  constructor(id: string) {
    super('not-found', `There is no bulk operation ${id}.`);
  }
}

type Target = Pick<BulkOrder, 'filter' | 'deviceIds'>;

/** The condition a target is over `devices d`, its relative times read at `at`. */
async function targetWhere(db: Db, t: Target, at: number): Promise<SQL> {
  return t.deviceIds ? selectionWhere(t.deviceIds) : deviceWhere(db, t.filter ?? {}, at);
}

/** The handsets among `where` the action would leave as they are. */
async function countSkipped(db: Db, order: Pick<BulkOrder, 'action' | 'params'>, where: SQL): Promise<number> {
  const kind = JOB_KIND[order.action];
  if (kind) return countWithPendingJob(db, kind, where);
  if (order.action === 'assign-policy' && order.params?.policyId)
    return countWithOwnPolicy(db, where, order.params.policyId);
  if (order.action === 'assign-group' && order.params?.group) {
    const g = await getGroupByName(db, order.params.group);
    return g ? countInStaticGroup(db, where, g.id) : 0;
  }
  return 0;
}

/** The dry run: how many handsets the order covers now, and how many it would leave as they are. */
export async function previewBulk(
  db: Db,
  order: Pick<BulkOrder, 'action' | 'filter' | 'deviceIds' | 'params'>,
  now = Date.now(),
): Promise<BulkPreview> {
  const where = await targetWhere(db, order, now);
  const total = await countDevices(db, where);
  const skipped = total === 0 ? 0 : await countSkipped(db, order, where);
  const handsets = (n: number) => `${n.toLocaleString('en-GB')} handset${n === 1 ? '' : 's'}`;
  const summary =
    total === 0
      ? 'No handset matches.'
      : `${BULK_ACTION_WORDS[order.action]}: ${handsets(total)}${skipped ? `; ${handsets(skipped)} will be skipped (${SKIP_REASON[order.action]})` : ''}.`;
  return { action: order.action, total, skipped, acting: total - skipped, summary };
}

/** What an assignment needs must exist when it is ordered. */
async function checkParams(db: Db, order: BulkOrder): Promise<void> {
  if (order.action === 'assign-policy') {
    const policy = order.params?.policyId ? await getPolicy(db, order.params.policyId) : undefined;
    if (!policy) throw AppError.invalid('That policy does not exist.', { 'params.policyId': ['Choose a policy.'] });
  }
  if (order.action === 'assign-group') {
    const g = order.params?.group ? await getGroupByName(db, order.params.group) : undefined;
    if (!g) throw AppError.invalid('That group does not exist.', { 'params.group': ['Choose a group.'] });
    if (g.kind !== 'static')
      throw AppError.invalid(`${g.name} is a rule group: its handsets are those its rule matches.`, {
        'params.group': ['Choose a static group.'],
      });
  }
}

/**
 * Orders the action on every handset of the target: the dry run's count becomes its total,
 * and the worker takes it from there. Audited (`bulk.ordered`); each job or assignment it
 * makes is audited as its own kind is. Refused when nothing matches.
 */
export async function orderBulk(ctx: { db: Db }, actor: string, order: BulkOrder, now = Date.now()): Promise<BulkRow> {
  await checkParams(ctx.db, order);
  const preview = await previewBulk(ctx.db, order, now);
  if (preview.total === 0) throw AppError.invalid('No handset matches: there is nothing to do.', { filter: [] });
  const request: StoredBulkRequest = {
    ...(order.filter ? { filter: order.filter } : {}),
    ...(order.deviceIds ? { deviceIds: [...new Set(order.deviceIds)] } : {}),
    params: order.params ?? {},
    at: now,
  };
  const op = await insertBulk(ctx.db, {
    action: order.action,
    request: JSON.stringify(request),
    actor,
    total: preview.total,
  });
  await insertAudit(ctx.db, {
    actor,
    action: 'bulk.ordered',
    details: {
      bulkId: op.id,
      action: order.action,
      total: preview.total,
      ...(order.filter ? { filter: order.filter } : { devices: request.deviceIds!.length }),
      ...(order.params ? { params: order.params } : {}),
    },
  });
  return op;
}

/**
 * Cancels an operation: its walk stops, and its jobs not yet started are cancelled (also once
 * the walk is over: 100,000 backups queued may still wait for the wake budget). Audited.
 */
export async function cancelBulk(db: Db, id: string, actor: string): Promise<BulkRow> {
  const op = await getBulk(db, id);
  if (!op) throw new BulkNotFound(id);
  if (!(await markBulkCancelled(db, id)))
    throw new AppError('conflict', `This bulk operation is over already (${op.status}).`, { code: 'bulk-over' });
  const jobs = await cancelQueuedBulkJobs(db, id, `cancelled with its bulk operation by ${actor}`);
  await insertAudit(db, { actor, action: 'bulk.cancelled', details: { bulkId: id, jobsCancelled: jobs } });
  return (await getBulk(db, id))!;
}

export function bulkRequestOf(op: BulkRow): StoredBulkRequest {
  return storedBulkRequestSchema.parse(JSON.parse(op.request));
}

type Outcome = { acted: true; jobId?: string } | { acted: false };

/** The action on one handset. */
async function actOn(db: Db, op: BulkRow, req: StoredBulkRequest, device: DeviceRow): Promise<Outcome> {
  const reason = `bulk operation ${op.id}`;
  switch (op.action) {
    case 'backup': {
      const r = await createBackupJob(db, device, { trigger: 'on-demand', actor: op.actor, reason, wake: true });
      // A backup this operation queued before a restart is its own, not one it found.
      if (r.created || r.job.bulkId === op.id) return { acted: true, jobId: r.job.id };
      return { acted: false };
    }
    case 'ds-backup': {
      const r = await createDsBackupJob(db, device, { actor: op.actor, wake: true });
      if (r.created || r.job.bulkId === op.id) return { acted: true, jobId: r.job.id };
      return { acted: false };
    }
    case 'assign-policy': {
      const policyId = req.params.policyId!;
      if (device.policyId === policyId) return { acted: false };
      await updateDevice(db, device.id, { policyId });
      await insertAudit(db, {
        actor: op.actor,
        action: 'device.policy-set',
        deviceId: device.id,
        details: { devId: device.devId, policyId, before: device.policyId, bulkId: op.id },
      });
      return { acted: true };
    }
    case 'assign-group':
      throw new Error('a group is assigned a page at a time (workBulkPage)');
  }
}

/** A page of handsets into the static group: one write and one audit entry for the page. */
async function addPageToGroup(db: Db, op: BulkRow, req: StoredBulkRequest, devices: DeviceRow[]) {
  if (devices.length === 0) return { done: 0, skipped: 0 };
  const r = await addMembers(
    db,
    req.params.group!,
    devices.map((d) => d.devId),
    op.actor,
  );
  return { done: r.changed, skipped: devices.length - r.changed };
}

/**
 * Works one page of the operation from its cursor: the action on each handset, then the
 * counts and the cursor recorded together. A cancel that came in meanwhile wins: what the
 * page queued is cancelled too. 'more' while pages remain.
 */
export async function workBulkPage(
  db: Db,
  op: BulkRow,
  pageSize = BULK_PAGE,
): Promise<'more' | 'finished' | 'stopped'> {
  const req = bulkRequestOf(op);
  if (op.action === 'assign-policy' && !(await getPolicy(db, req.params.policyId!))) {
    await failBulk(db, op.id, 'The policy was removed before every handset had it.');
    return 'stopped';
  }
  if (op.action === 'assign-group') {
    const g = await getGroupByName(db, req.params.group!);
    if (!g || g.kind !== 'static') {
      await failBulk(db, op.id, 'The group was removed (or became a rule group) before every handset was in it.');
      return 'stopped';
    }
  }
  const where = await targetWhere(db, req, req.at);
  const ids = await deviceIdsAfter(db, where, op.cursor ?? undefined, pageSize);
  const devices = await devicesByIds(db, ids);
  let done = 0;
  let skipped = 0;
  if (op.action === 'assign-group') ({ done, skipped } = await addPageToGroup(db, op, req, devices));
  else
    for (const device of devices) {
      const r = await actOn(db, op, req, device);
      if (!r.acted) skipped++;
      else {
        done++;
        if (r.jobId) await tagBulkJobs(db, op.id, [r.jobId]);
      }
    }
  const finished = ids.length < pageSize;
  const recorded = await advanceBulk(db, op.id, {
    done,
    skipped,
    cursor: ids.at(-1) ?? op.cursor,
    error: skipped ? `Skipped where ${SKIP_REASON[op.action]}.` : null,
    finished,
  });
  if (!recorded) {
    await cancelQueuedBulkJobs(db, op.id, 'cancelled with its bulk operation');
    return 'stopped';
  }
  return finished ? 'finished' : 'more';
}
