/**
 * Looking after the backup store from the command line: `rewind retention` (a device's
 * policy applied, or with --dry-run only shown), `rewind gc`, `rewind verify` and
 * `rewind hold` (legal hold). The same domain code the scheduler runs (lib/backup/*).
 */
import { getContext } from '../lib/core/context';
import { insertAudit } from '../db/queries/audit';
import { getDevice } from '../db/queries/devices';
import { allDeviceSnapshots } from '../db/queries/retention';
import { getSnapshot, updateSnapshot, type SnapshotRow } from '../db/queries/snapshots';
import { applyRetention, hasRules, parseRetention, type RetentionRules } from '../lib/backup/retention';
import { policyFor } from '../lib/backup/policy';
import { collectGarbage, type GcResult } from '../lib/backup/gc';
import { verifyAll, verifySnapshot, type VerifyResult } from '../lib/backup/verify';
import { deviceArg, positionals } from './args';
import { formatBytes, formatTime, table } from './format';
import { UsageError, type Command } from './usage';

function rulesText(r: RetentionRules): string {
  const parts = [
    r.keepLast ? `the last ${r.keepLast}` : '',
    r.daily ? `${r.daily} daily` : '',
    r.weekly ? `${r.weekly} weekly` : '',
    r.monthly ? `${r.monthly} monthly` : '',
  ].filter(Boolean);
  return parts.length ? `keeps ${parts.join(', ')}` : 'has no retention rules';
}

function gcLine(gc: GcResult, dryRun: boolean): string {
  const what = `${gc.removed} blob${gc.removed === 1 ? '' : 's'} (${formatBytes(gc.bytes)})`;
  return dryRun ? `garbage collection would sweep ${what}` : `garbage collection swept ${what}`;
}

const snapshotTime = (s: SnapshotRow | undefined) => formatTime(s ? (s.completedAt ?? s.startedAt) : undefined);

export const retentionCommand: Command = {
  summary: "apply a handset's retention rules (its policy's); --dry-run shows what would go, and what GC would sweep",
  usage: 'DEV_ID [--dry-run]',
  options: { 'dry-run': { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const { db, blobs } = getContext();
    const device = await deviceArg(db, devId!);
    const policy = await policyFor(db, device);
    const rules = parseRetention(policy.retention);
    const dryRun = v['dry-run'] === true;
    const rows = new Map((await allDeviceSnapshots(db, device.id)).map((s) => [s.id, s])); // read before any is deleted
    const r = await applyRetention(db, blobs, device.id, rules, { dryRun });
    const out = [
      `${device.devId}: policy ${JSON.stringify(policy.name)} ${rulesText(rules)}${hasRules(rules) ? '' : ': every snapshot is kept'}${dryRun ? ' (dry run: nothing deleted)' : ''}`,
    ];
    out.push('', `kept (${r.keep.length}):`);
    if (r.keep.length) {
      out.push(
        table(r.keep, [
          { header: 'snapshot', value: (k) => k.id },
          { header: 'time (UTC)', value: (k) => snapshotTime(rows.get(k.id)) },
          { header: 'status', value: (k) => rows.get(k.id)?.status ?? '-' },
          { header: 'why', value: (k) => k.reasons.join(', ') },
        ]),
      );
    }
    out.push('', `${dryRun ? 'would remove' : 'removed'} (${r.remove.length}):`);
    if (r.remove.length) {
      out.push(
        table(r.remove, [
          { header: 'snapshot', value: (k) => k.id },
          { header: 'time (UTC)', value: (k) => snapshotTime(rows.get(k.id)) },
          { header: 'status', value: (k) => rows.get(k.id)?.status ?? '-' },
          { header: 'why', value: (k) => k.reason },
        ]),
      );
    }
    out.push('', gcLine(r.gc, dryRun));
    if (!dryRun && r.remove.length)
      await insertAudit(db, {
        actor: 'cli',
        action: 'retention.applied',
        deviceId: device.id,
        details: { removed: r.remove.map((x) => x.id), blobs: r.gc.removed, bytes: r.gc.bytes },
      });
    console.log(out.join('\n'));
  },
};

export const gcCommand: Command = {
  summary: 'sweep content no snapshot, backup in progress or package needs from the blob store',
  usage: '[--dry-run]',
  options: { 'dry-run': { type: 'boolean' } },
  async run(v, pos) {
    positionals(pos, []);
    const { db, blobs } = getContext();
    const dryRun = v['dry-run'] === true;
    const gc = await collectGarbage(db, blobs, { dryRun });
    if (!dryRun && gc.removed)
      await insertAudit(db, { actor: 'cli', action: 'gc.swept', details: { blobs: gc.removed, bytes: gc.bytes } });
    console.log(gcLine(gc, dryRun));
  },
};

function verifyLine(id: string, r: VerifyResult): string {
  if (r.ok) return `${id}: ok (${r.checked} value${r.checked === 1 ? '' : 's'} checked)`;
  if (r.manifest !== 'ok') return `${id}: DAMAGED: the manifest is ${r.manifest}`;
  return `${id}: DAMAGED: ${r.missing.length} missing, ${r.damaged.length} damaged of ${r.checked} values`;
}

function verifyDetail(r: VerifyResult): string[] {
  return [...r.missing.map((p) => `  missing  ${p}`), ...r.damaged.map((p) => `  damaged  ${p}`)];
}

export const verifyCommand: Command = {
  summary: 'check snapshots against their hashes, re-reading every value from the store; exit 1 when any is damaged',
  usage: 'SNAPSHOT_ID | --device DEV_ID | --all',
  options: { device: { type: 'string' }, all: { type: 'boolean' } },
  async run(v, pos) {
    const given = [pos.length > 0, v.device !== undefined, v.all === true].filter(Boolean).length;
    if (given !== 1) throw new UsageError('give one of SNAPSHOT_ID, --device DEV_ID or --all');
    const { db, blobs } = getContext();
    if (pos.length) {
      const [id] = positionals(pos, ['SNAPSHOT_ID']);
      if (!(await getSnapshot(db, id!))) throw new Error(`no snapshot ${id}`);
      const r = await verifySnapshot(db, blobs, id!);
      (r.ok ? console.log : console.error)([verifyLine(id!, r), ...verifyDetail(r)].join('\n'));
      return r.ok ? 0 : 1;
    }
    if (v.device !== undefined && (typeof v.device !== 'string' || !v.device.trim()))
      throw new UsageError('--device takes a DevId');
    const device = typeof v.device === 'string' ? await deviceArg(db, v.device.trim()) : undefined;
    const all = await verifyAll(db, blobs, device ? { deviceId: device.id } : {});
    const devIds = new Map<string, string>();
    for (const r of all.results) {
      if (!devIds.has(r.deviceId)) devIds.set(r.deviceId, (await getDevice(db, r.deviceId))?.devId ?? r.deviceId);
      const line = `${verifyLine(r.snapshotId, r)}${device ? '' : ` [${devIds.get(r.deviceId)}]`}`;
      (r.ok ? console.log : console.error)([line, ...verifyDetail(r)].join('\n'));
    }
    const summary = `${all.snapshots} snapshot${all.snapshots === 1 ? '' : 's'} verified${device ? ` of ${device.devId}` : ''}: ${all.failed ? `${all.failed} DAMAGED` : 'all ok'}`;
    (all.ok ? console.log : console.error)(summary);
    return all.ok ? 0 : 1;
  },
};

export const holdCommand: Command = {
  summary: 'put a snapshot under legal hold (retention and deletion leave it alone), or --release it',
  usage: 'SNAPSHOT_ID [--release]',
  options: { release: { type: 'boolean' } },
  async run(v, pos) {
    const [id] = positionals(pos, ['SNAPSHOT_ID']);
    const db = getContext().db;
    const snap = await getSnapshot(db, id!);
    if (!snap) throw new Error(`no snapshot ${id}`);
    const hold = v.release !== true;
    if (snap.legalHold === hold) {
      console.log(
        hold ? `snapshot ${snap.id} is already under legal hold` : `snapshot ${snap.id} is not under legal hold`,
      );
      return 0;
    }
    await updateSnapshot(db, snap.id, { legalHold: hold });
    await insertAudit(db, {
      actor: 'cli',
      action: hold ? 'snapshot.hold' : 'snapshot.release',
      deviceId: snap.deviceId,
      details: { snapshotId: snap.id },
    });
    console.log(
      hold
        ? `snapshot ${snap.id} is under legal hold: retention keeps it until it is released`
        : `legal hold on snapshot ${snap.id} released`,
    );
  },
};
