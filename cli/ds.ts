/**
 * Data Sync from the command line: `rewind ds-account add` (the DS credentials a handset's
 * contacts and calendar sync with), `ds-backup` and `ds-restore` (jobs ordered through DM,
 * like `backup`), `ds-snapshots` and `ds-diff` to see what was kept.
 */
import { getContext } from '../lib/core/context';
import { getDevice } from '../db/queries/devices';
import { dsSnapshotsOf, getDsSnapshot } from '../db/queries/ds';
import { diffDsManifests, readDsManifest, type DsItemChange } from '../lib/ds/snapshot';
import { deviceArg, positionals } from './args';
import { follow, queue } from './backups';
import { formatBytes, formatTime, printJson, table } from './format';
import { addDsAccountAs } from '../lib/ds/accounts';
import { AppError } from '../lib/core/errors';
import { intOption, required, UsageError, type Command } from './usage';

export const dsAccountAdd: Command = {
  summary: "create a handset's DS account for /ds (or set its password)",
  usage: '--dev-id ID --user U --pass P [--auth basic|md5]',
  options: {
    'dev-id': { type: 'string' },
    user: { type: 'string' },
    pass: { type: 'string' },
    auth: { type: 'string' },
  },
  async run(v) {
    const db = getContext().db;
    try {
      const { account, created } = await addDsAccountAs(
        db,
        {
          devId: required(v, 'dev-id'),
          user: required(v, 'user'),
          pass: required(v, 'pass'),
          ...(v.auth ? { auth: v.auth as 'basic' | 'md5' } : {}),
        },
        'cli',
      );
      console.log(
        `DS account ${account.username} ${created ? 'created' : 'updated'} (${account.auth}) for ${v['dev-id'] as string}`,
      );
    } catch (err) {
      if (err instanceof AppError)
        throw new UsageError(
          `${err.message}${
            Object.keys(err.fieldErrors ?? {}).length
              ? ` (${Object.entries(err.fieldErrors ?? {})
                  .map(([k, m]) => `${k}: ${m.join(', ')}`)
                  .join('; ')})`
              : ''
          }`,
        );
      throw err;
    }
  },
};

export const dsBackupCommand: Command = {
  summary: "back up a handset's contacts and calendar through Data Sync, ordered through DM; --wait follows the job",
  usage: 'DEV_ID [--wait] [--timeout S]',
  options: { wait: { type: 'boolean' }, timeout: { type: 'string' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const job = await queue(devId!, { kind: 'ds-backup' });
    return v.wait ? follow(job.id, intOption(v, 'timeout', 300, 1, 86_400)) : 0;
  },
};

export const dsRestoreCommand: Command = {
  summary: "restore a DS snapshot's contacts and calendar onto its handset, or --to another of the subscriber's",
  usage: 'SNAPSHOT_ID [--to DEV_ID] [--wait] [--timeout S]',
  options: { to: { type: 'string' }, wait: { type: 'boolean' }, timeout: { type: 'string' } },
  async run(v, pos) {
    const [snapshotId] = positionals(pos, ['SNAPSHOT_ID']);
    if (v.timeout !== undefined && !v.wait) throw new UsageError('--timeout goes with --wait');
    const db = getContext().db;
    const snapshot = await getDsSnapshot(db, snapshotId!);
    if (!snapshot) throw new Error(`no DS snapshot ${snapshotId}`);
    const target = typeof v.to === 'string' ? v.to : (await getDevice(db, snapshot.deviceId))?.devId;
    if (!target) throw new Error(`the handset of DS snapshot ${snapshotId} is gone; name one with --to`);
    const job = await queue(target, { kind: 'ds-restore', snapshotId: snapshot.id });
    return v.wait ? follow(job.id, intOption(v, 'timeout', 300, 1, 86_400)) : 0;
  },
};

export const dsSnapshotsCommand: Command = {
  summary: "list a handset's DS snapshots (contacts and calendar), newest first",
  usage: 'DEV_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const db = getContext().db;
    const rows = await dsSnapshotsOf(db, (await deviceArg(db, devId!)).id);
    if (v.json) return printJson(rows.map((r) => ({ ...r, changes: JSON.parse(r.changes) as unknown })));
    if (!rows.length) return console.log(`${devId} has no DS snapshot`);
    console.log(
      table(rows, [
        { header: 'id', value: (r) => r.id },
        { header: 'taken (UTC)', value: (r) => formatTime(r.createdAt) },
        { header: 'sync', value: (r) => r.syncType },
        { header: 'contacts', value: (r) => String(r.contacts), align: 'right' },
        { header: 'events', value: (r) => String(r.events), align: 'right' },
        { header: 'size', value: (r) => formatBytes(r.bytes), align: 'right' },
        { header: 'new', value: (r) => formatBytes(r.newBytes), align: 'right' },
        { header: 'job', value: (r) => r.jobId ?? '' },
      ]),
    );
  },
};

export const dsDiffCommand: Command = {
  summary: 'contacts and events added, removed and changed between two DS snapshots',
  usage: 'SNAP_A SNAP_B [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [a, b] = positionals(pos, ['SNAP_A', 'SNAP_B']);
    const { db, blobs } = getContext();
    const [before, after] = [await getDsSnapshot(db, a!), await getDsSnapshot(db, b!)];
    if (!before) throw new Error(`no DS snapshot ${a}`);
    if (!after) throw new Error(`no DS snapshot ${b}`);
    if (before.deviceId !== after.deviceId) console.error('note: the two snapshots are of different handsets');
    const diff = diffDsManifests(
      (await readDsManifest(db, blobs, before.id)).entries,
      (await readDsManifest(db, blobs, after.id)).entries,
    );
    if (v.json) {
      const slim = (list: DsItemChange[]) => list.map((c) => ({ store: c.store, key: c.key, summary: c.summary }));
      return printJson({
        added: slim(diff.added),
        removed: slim(diff.removed),
        changed: slim(diff.changed),
        unchanged: diff.unchanged,
        byStore: diff.byStore,
      });
    }
    for (const [store, n] of Object.entries(diff.byStore))
      console.log(`${store.padEnd(9)} ${n.added} added, ${n.removed} removed, ${n.changed} changed`);
    console.log(`${diff.unchanged} unchanged`);
    for (const [mark, list] of [
      ['+', diff.added],
      ['-', diff.removed],
      ['~', diff.changed],
    ] as const) {
      for (const c of list) console.log(`${mark} ${c.store.padEnd(9)} ${c.summary || '(no name)'}`);
    }
  },
};
