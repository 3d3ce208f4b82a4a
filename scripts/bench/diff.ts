/**
 * Snapshot diff benchmark: diffManifests on two 10,000-node manifests of one handset, the
 * second a later backup with about 1% of the leaves changed (among them FwV and a few app
 * versions), 50 entries removed and 50 added. Both are generated from a fixed seed, so
 * every run diffs the same manifests. The figure is the median of many runs after a warm-up.
 *
 *   npx tsx scripts/bench/diff.ts
 */
import { pathToFileURL } from 'node:url';
import { diffManifests, type DiffOptions } from '../../lib/backup/diff';
import type { ManifestEntry } from '../../lib/backup/manifest';
import type { Category } from '../../lib/omadm/mo/backup-restore';
import { formatRows, type Row, timeMs } from './codec';
import { Rng } from '../../sim/random';

const NODES = 10_000;
const GOAL_MS = 20;

/** The handsets' own deterministic stream (mulberry32), as a function. */
function prng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

interface Workload {
  a: ManifestEntry[];
  b: ManifestEntry[];
  leafValue: NonNullable<DiffOptions['leafValue']>;
  changed: number;
  added: number;
  removed: number;
}

/** Two manifests of `nodes` entries each (a) and about that many (b), and the text of the small leaves. */
export function makeWorkload(nodes = NODES, seed = 1): Workload {
  const rand = prng(seed);
  const hex = () =>
    Math.floor(rand() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  const newHash = () => Array.from({ length: 8 }, hex).join('');
  // The blob store's small values, by hash (content-addressed, so either side reads the same).
  const texts = new Map<string, string>();
  const text = (s: string) => {
    const hash = newHash();
    texts.set(hash, s);
    return hash;
  };
  const a: ManifestEntry[] = [];
  const node = (path: string, category: Category) => a.push({ path, category, format: 'node', size: 0 });
  const leaf = (path: string, category: Category, format: string, size: number, hash = newHash()) =>
    a.push({ path, category, format, size, hash });

  node('./DevDetail', 'firmware');
  leaf('./DevDetail/FwV', 'firmware', 'chr', 5, text('1.0.3'));
  leaf('./DevDetail/SwV', 'firmware', 'chr', 3, text('7.1'));
  node('./SCOMO/Inventory/Deployed', 'applications');
  const apps = 200;
  /** Version leaf -> its value in b, for every 40th app. */
  const newVersions = new Map<string, string>();
  for (let i = 0; i < apps; i++) {
    const b = `./SCOMO/Inventory/Deployed/app${String(i).padStart(4, '0')}`;
    node(b, 'applications');
    leaf(`${b}/ID`, 'applications', 'chr', 16, text(`com.vendor.app${i}`));
    leaf(`${b}/Name`, 'applications', 'chr', 8, text(`App ${i}`));
    leaf(`${b}/State`, 'applications', 'int', 2, text('20'));
    leaf(`${b}/Version`, 'applications', 'chr', 5, text(`${1 + (i % 5)}.${i % 10}.0`));
    if (i % 40 === 0) newVersions.set(`${b}/Version`, `${2 + (i % 5)}.0.${i % 3}`);
  }
  node('./Certificates', 'certificates');
  for (let i = 0; i < 100; i++) leaf(`./Certificates/Cert${i}`, 'certificates', 'b64', 1200 + i, undefined);
  // The rest: settings and app data, in groups of 20 leaves under an interior node.
  const roots: Array<[string, Category]> = [
    ['./Settings', 'settings'],
    ['./AppData', 'appdata'],
  ];
  for (const [root] of roots) node(root, root === './Settings' ? 'settings' : 'appdata');
  for (let g = 0; a.length < nodes; g++) {
    const [root, category] = roots[g % 2]!;
    const group = `${root}/Group${String(g).padStart(4, '0')}`;
    node(group, category);
    for (let k = 0; k < 20 && a.length < nodes; k++) {
      leaf(
        `${group}/Item${String(k).padStart(2, '0')}`,
        category,
        category === 'settings' ? 'int' : 'bin',
        Math.floor(rand() * 4096),
      );
    }
  }
  a.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));

  // b: a later backup. About 1% of leaves get new values, including FwV and every 40th app's version.
  const b: ManifestEntry[] = [];
  let changed = 0;
  let removed = 0;
  for (const e of a) {
    if (e.path === './DevDetail/FwV') {
      b.push({ ...e, hash: text('1.1.0') });
      changed++;
    } else if (newVersions.has(e.path)) {
      b.push({ ...e, hash: text(newVersions.get(e.path)!) });
      changed++;
    } else if (e.hash && e.category !== 'applications' && e.category !== 'firmware' && rand() < 0.01) {
      b.push({ ...e, size: e.size + 1, hash: newHash() });
      changed++;
    } else if (e.hash && e.category === 'appdata' && removed < 50 && rand() < 0.02) {
      removed++;
    } else b.push(e);
  }
  const added = 50;
  for (let i = 0; i < added; i++)
    b.push({
      path: `./AppData/New/Item${String(i).padStart(2, '0')}`,
      category: 'appdata',
      format: 'bin',
      size: 100,
      hash: newHash(),
    });
  b.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));

  const leafValue = (_side: 'a' | 'b', e: ManifestEntry) => (e.hash ? texts.get(e.hash) : undefined);
  return { a, b, leafValue, changed, added, removed };
}

export async function benchDiff(): Promise<Row[]> {
  const w = makeWorkload();
  const d = diffManifests(w.a, w.b, { leafValue: w.leafValue });
  if (
    d.changed.length !== w.changed ||
    d.added.length !== w.added ||
    d.removed.length !== w.removed ||
    d.firmware.length !== 1
  ) {
    throw new Error(
      `diff bench: expected ${w.changed}/${w.added}/${w.removed} changed/added/removed, got ${d.summary}`,
    );
  }
  const ms = timeMs(() => diffManifests(w.a, w.b, { leafValue: w.leafValue }));
  return [
    {
      name: `diff of two ${NODES.toLocaleString('en-US')}-node snapshots`,
      value: Math.round(ms * 100) / 100,
      unit: 'ms',
      baseline: `goal < ${GOAL_MS} ms; ${d.changed.length} changed, ${d.added.length} added, ${d.removed.length} removed, ${d.apps.length} apps called out`,
    },
  ];
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchDiff().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
