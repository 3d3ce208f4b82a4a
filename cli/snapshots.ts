/**
 * Reading backups from the command line: `rewind snapshots DEV_ID`, `rewind snapshot ID`
 * (its manifest, or one node's raw bytes with --content) and `rewind diff A B`. The same
 * reads as the REST API (lib/backup/read.ts), with the same JSON under --json.
 */
import { getContext } from '../lib/core/context';
import { getSnapshot, listSnapshots, type SnapshotRow } from '../db/queries/snapshots';
import { diffSnapshots, readManifest, readNode, SnapshotError } from '../lib/backup/read';
import type { ManifestEntry } from '../lib/backup/manifest';
import type { ChangedEntry, FirmwareField } from '../lib/backup/diff';
import { CATEGORIES, type Category } from '../lib/omadm/mo/backup-restore';
import { publicSnapshot } from '../lib/backup/views';
import { deviceArg, positionals } from './args';
import { formatBytes, formatTime, printJson, table, writeStdout } from './format';
import { UsageError, type Command } from './usage';

const short = (hash: string | null | undefined, n = 12) => (hash ? hash.slice(0, n) : '-');

export const snapshotsCommand: Command = {
  summary: "list a handset's snapshots, newest first",
  usage: 'DEV_ID [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [devId] = positionals(pos, ['DEV_ID']);
    const db = getContext().db;
    const rows = await listSnapshots(db, (await deviceArg(db, devId!)).id);
    if (v.json) return printJson(rows.map(publicSnapshot));
    if (!rows.length) return console.log(`no snapshots of ${devId}`);
    console.log(
      table(rows, [
        { header: 'id', value: (s) => s.id },
        { header: 'time (UTC)', value: (s) => formatTime(s.completedAt ?? s.startedAt) },
        { header: 'trigger', value: (s) => s.trigger },
        { header: 'status', value: (s) => s.status },
        { header: 'entries', value: (s) => String(s.entries), align: 'right' },
        { header: 'size', value: (s) => formatBytes(s.bytes), align: 'right' },
        { header: 'new', value: (s) => formatBytes(s.newBytes), align: 'right' },
        { header: 'root', value: (s) => short(s.rootHash) },
      ]),
    );
  },
};

function describeSnapshot(s: SnapshotRow): string {
  const cats = (JSON.parse(s.categories) as string[]).join(', ');
  return [
    `snapshot ${s.id} (${s.status}${s.legalHold ? ', legal hold' : ''})`,
    `  taken    ${formatTime(s.startedAt)} → ${formatTime(s.completedAt)} (${s.trigger})`,
    `  covers   ${cats}`,
    `  content  ${s.entries} entries, ${formatBytes(s.bytes)} (${formatBytes(s.newBytes)} new)`,
    `  root     ${s.rootHash ?? '-'}`,
    ...(s.error ? [`  error    ${s.error}`] : []),
  ].join('\n');
}

export const snapshotCommand: Command = {
  summary: "show a snapshot's entries, or write one node's raw bytes to stdout (--content)",
  usage: 'SNAPSHOT_ID [--json] [--content PATH]',
  options: { json: { type: 'boolean' }, content: { type: 'string' } },
  async run(v, pos) {
    const [id] = positionals(pos, ['SNAPSHOT_ID']);
    if (v.content !== undefined && v.json) throw new UsageError('--content and --json exclude each other');
    const { db, blobs } = getContext();
    if (typeof v.content === 'string') {
      if (!v.content) throw new UsageError('--content takes a node path such as ./DevDetail/FwV');
      const path = v.content.startsWith('./') || v.content === '.' ? v.content : `./${v.content.replace(/^\/+/, '')}`;
      const { entry, bytes } = await readNode(db, blobs, id!, path);
      if (entry.format === 'node') throw new Error(`${path} is an interior node: it has children, not content`);
      await writeStdout(bytes); // read whole before a byte is written: nothing half-written
      return 0;
    }
    let manifest;
    try {
      manifest = await readManifest(db, blobs, id!);
    } catch (err) {
      const row = err instanceof SnapshotError && err.code === 'not-complete' ? await getSnapshot(db, id!) : undefined;
      if (!row) throw err;
      if (v.json) printJson({ snapshot: publicSnapshot(row), entries: null });
      else console.log(describeSnapshot(row));
      throw err;
    }
    const { snapshot, entries } = manifest;
    if (v.json) return printJson({ snapshot: publicSnapshot(snapshot), entries });
    console.log(describeSnapshot(snapshot));
    console.log('');
    console.log(
      table(entries, [
        { header: 'path', value: (e) => e.path },
        { header: 'category', value: (e) => e.category },
        { header: 'format', value: (e) => e.format },
        { header: 'type', value: (e) => e.type ?? '-' },
        { header: 'size', value: (e) => String(e.size), align: 'right' },
        { header: 'hash', value: (e) => short(e.hash) },
      ]),
    );
  },
};

const FIRMWARE_LABEL: Record<FirmwareField, string> = {
  FwV: 'firmware version',
  SwV: 'software version',
  HwV: 'hardware version',
};
/** Lines per category before the rest is only counted (--json has everything). */
const PER_CATEGORY = 50;

export const diffCommand: Command = {
  summary: 'what changed from one snapshot to another, by category, firmware and app versions called out',
  usage: 'SNAPSHOT_A SNAPSHOT_B [--json]',
  options: { json: { type: 'boolean' } },
  async run(v, pos) {
    const [a, b] = positionals(pos, ['SNAPSHOT_A', 'SNAPSHOT_B']);
    const { db, blobs } = getContext();
    const { a: sa, b: sb, ...d } = await diffSnapshots(db, blobs, a!, b!);
    if (v.json) return printJson({ a: publicSnapshot(sa), b: publicSnapshot(sb), ...d });
    const out: string[] = [`${sa.id} (${formatTime(sa.completedAt)}) → ${sb.id} (${formatTime(sb.completedAt)})`];
    if (d.firmware.length) {
      out.push('', 'firmware:');
      for (const f of d.firmware)
        out.push(`  ${FIRMWARE_LABEL[f.field]}: ${f.before ?? '(none)'} → ${f.after ?? '(none)'}`);
    }
    if (d.apps.length) {
      out.push('', 'apps:');
      for (const app of d.apps) {
        const versions =
          app.before !== undefined || app.after !== undefined
            ? ` ${app.before ?? '(none)'} → ${app.after ?? '(none)'}`
            : '';
        out.push(
          `  ${app.name ?? app.id}${app.name && app.name !== app.id ? ` [${app.id}]` : ''}: ${app.change}${versions}`,
        );
      }
    }
    const lines = new Map<Category, string[]>(CATEGORIES.map((c) => [c, []]));
    const size = (e: ManifestEntry) => (e.format === 'node' ? 'node' : formatBytes(e.size));
    for (const e of d.added) lines.get(e.category)!.push(`  + ${e.path} (${size(e)})`);
    for (const e of d.removed) lines.get(e.category)!.push(`  - ${e.path} (${size(e)})`);
    for (const c of d.changed as ChangedEntry[])
      lines.get(c.category)!.push(`  ~ ${c.path} (${size(c.before)} → ${size(c.after)})`);
    for (const c of CATEGORIES) {
      const n = d.byCategory[c];
      if (!n.added && !n.removed && !n.changed) continue;
      const l = lines.get(c)!.sort((x, y) => (x.slice(4) < y.slice(4) ? -1 : x.slice(4) > y.slice(4) ? 1 : 0));
      out.push('', `${c}: ${n.added} added, ${n.removed} removed, ${n.changed} changed`);
      out.push(...l.slice(0, PER_CATEGORY));
      if (l.length > PER_CATEGORY) out.push(`  … and ${l.length - PER_CATEGORY} more (--json lists them all)`);
    }
    out.push('', `summary: ${d.summary}${d.unchanged ? ` (${d.unchanged} unchanged)` : ''}`);
    console.log(out.join('\n'));
  },
};
