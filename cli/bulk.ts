/**
 * `rewind bulk …`: a bulk action on a filter of the device list (the console's /devices
 * filters as flags) or on named handsets, counted with --dry-run; its progress; cancelling.
 * A running server (`npm start`) works the operation through and sends the Package #0.
 */
import { getContext } from '../lib/core/context';
import { AppError } from '../lib/core/errors';
import { cancelBulk, orderBulk, previewBulk } from '../lib/bulk/bulk';
import { bulkOrderSchema, type BulkActionName, type BulkProgress } from '../lib/bulk/schemas';
import { bulkProgress, bulkProgressById } from '../lib/bulk/views';
import { deviceFilterSchema } from '../lib/devices/filter';
import { splitList } from '../lib/backup/schemas';
import { positionals, type Values } from './args';
import { printJson } from './format';
import { UsageError, type Command } from './usage';

/** The filter's fields as flags: kebab-case, with a few shorter names. */
const RENAMED: Record<string, string> = {
  q: 'dev-id',
  policy: 'in-policy',
  noBackupForDays: 'no-backup-days',
  notSeenForDays: 'not-seen-days',
  seenWithinDays: 'seen-within-days',
};
const FILTER_FLAGS = Object.keys(deviceFilterSchema.shape).map((key) => ({
  key,
  flag: RENAMED[key] ?? key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`),
}));
const FILTER_USAGE = FILTER_FLAGS.map((f) => `[--${f.flag} V]`).join(' ');

const PARAM_USAGE: Record<BulkActionName, string> = {
  backup: '',
  'ds-backup': '',
  'assign-policy': ' --policy POLICY_ID',
  'assign-group': ' --group STATIC_GROUP (the filter flag --in-group selects by group)',
};

function orderFrom(action: BulkActionName, v: Values) {
  const filter: Record<string, string> = {};
  for (const f of FILTER_FLAGS)
    if (typeof v[f.flag] === 'string' && !(action === 'assign-group' && f.flag === 'group'))
      filter[f.key] = v[f.flag] as string;
  if (action === 'assign-group' && typeof v['in-group'] === 'string') filter.group = v['in-group'];
  const devices = typeof v.devices === 'string' ? splitList(v.devices) : undefined;
  if (devices && Object.keys(filter).length) throw new UsageError('give either --devices or filter flags, not both');
  if (!devices && !Object.keys(filter).length && !v.all)
    throw new UsageError('give filter flags, --devices, or --all for the whole fleet');
  const r = bulkOrderSchema.safeParse({
    action,
    ...(devices ? { deviceIds: devices } : { filter }),
    ...(typeof v.policy === 'string' ? { params: { policyId: v.policy } } : {}),
    ...(typeof v.group === 'string' && action === 'assign-group' ? { params: { group: v.group } } : {}),
  });
  if (!r.success) throw new UsageError(AppError.fromZod(r.error).message);
  return r.data;
}

function printProgress(p: BulkProgress): void {
  console.log(`bulk operation ${p.id} (${p.status})`);
  console.log(p.summary);
  if (p.waiting) console.log(p.waiting);
  console.log(`${p.percent}% done`);
}

function orderCommand(action: BulkActionName, what: string): Command {
  return {
    summary: `${what} on every handset of a filter of the device list, or on --devices; --dry-run counts them`,
    usage: `${FILTER_USAGE} [--devices DEV_ID,…] [--all]${PARAM_USAGE[action]} [--dry-run] [--json]`,
    options: {
      ...Object.fromEntries(FILTER_FLAGS.map((f) => [f.flag, { type: 'string' as const }])),
      ...(action === 'assign-group' ? { 'in-group': { type: 'string' as const } } : {}),
      devices: { type: 'string' },
      all: { type: 'boolean' },
      ...(action === 'assign-policy' ? { policy: { type: 'string' as const } } : {}),
      // assign-group's own --group replaces the filter's (the group the handsets are put in).
      ...(action === 'assign-group' ? { group: { type: 'string' as const } } : {}),
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    async run(v, pos) {
      positionals(pos, []);
      const { dryRun: _ignored, ...order } = orderFrom(action, v);
      const ctx = getContext();
      if (v['dry-run']) {
        const preview = await previewBulk(ctx.db, order);
        return v.json ? printJson(preview) : console.log(preview.summary);
      }
      const p = await bulkProgress(ctx, await orderBulk(ctx, 'cli', order));
      if (v.json) return printJson(p);
      console.log(`ordered bulk operation ${p.id} on ${p.total} handsets; follow it with: rewind bulk status ${p.id}`);
    },
  };
}

export const bulkBackupCommand = orderCommand('backup', 'back up now');
export const bulkDsBackupCommand = orderCommand('ds-backup', 'back up contacts and calendar now');
export const bulkAssignPolicyCommand = orderCommand('assign-policy', 'assign a policy');
export const bulkAssignGroupCommand = orderCommand('assign-group', 'add to a static group');

export const bulkStatusCommand: Command = {
  summary: "a bulk operation's progress: handsets worked through, jobs succeeded, failed and waiting",
  usage: 'BULK_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [id] = positionals(pos, ['BULK_ID']);
    const p = await bulkProgressById(getContext(), id!);
    if (v.json) return printJson(p);
    printProgress(p);
  },
};

export const bulkCancelCommand: Command = {
  summary: 'cancel a bulk operation: its walk stops and its jobs not yet started are cancelled',
  usage: 'BULK_ID',
  options: {},
  async run(_v, pos) {
    const [id] = positionals(pos, ['BULK_ID']);
    const ctx = getContext();
    printProgress(await bulkProgress(ctx, await cancelBulk(ctx.db, id!, 'cli')));
  },
};
