import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { compareVersions, diffManifests, type DiffOptions } from './diff';
import type { ManifestEntry } from './manifest';

/** A fake content hash: the value's text, hex-encoded and padded to 64 digits. */
function hashOf(value: string): string {
  const hex = [...new TextEncoder().encode(value)].map((b) => b.toString(16).padStart(2, '0')).join('');
  return hex.padEnd(64, '0').slice(0, 64);
}

/** Blob store stand-in: hash -> text, for leafValue. */
const values = new Map<string, string>();

function leaf(path: string, category: Category, value: string, format = 'chr'): ManifestEntry {
  const hash = hashOf(value);
  values.set(hash, value);
  return { path, category, format, size: value.length, hash };
}

function node(path: string, category: Category): ManifestEntry {
  return { path, category, format: 'node', size: 0 };
}

const leafValue: DiffOptions['leafValue'] = (_side, e) => (e.hash ? values.get(e.hash) : undefined);

function app(x: string, id: string, name: string, version: string, state = '20'): ManifestEntry[] {
  const b = `./SCOMO/Inventory/Deployed/${x}`;
  return [
    node(b, 'applications'),
    leaf(`${b}/ID`, 'applications', id),
    leaf(`${b}/Name`, 'applications', name),
    leaf(`${b}/State`, 'applications', state, 'int'),
    leaf(`${b}/Version`, 'applications', version),
  ];
}

function handset(
  over: { fw?: string; sw?: string; brightness?: string; apps?: ManifestEntry[] } = {},
): ManifestEntry[] {
  return [
    node('./AppData', 'appdata'),
    node('./AppData/Ringtones', 'appdata'),
    leaf('./AppData/Ringtones/Aurora', 'appdata', 'ogg bytes', 'bin'),
    leaf('./Certificates/RootCA', 'certificates', 'der bytes', 'b64'),
    leaf('./DevDetail/FwV', 'firmware', over.fw ?? '1.0.3'),
    leaf('./DevDetail/SwV', 'firmware', over.sw ?? '7.1'),
    ...(over.apps ?? [
      ...app('a1', 'com.shieldsec.shieldav', 'ShieldAV', '3.2.1'),
      ...app('a2', 'com.notes', 'Notes', '2.0'),
    ]),
    node('./Settings', 'settings'),
    node('./Settings/Display', 'settings'),
    leaf('./Settings/Display/Brightness', 'settings', over.brightness ?? '70', 'int'),
  ].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

const zero = { added: 0, removed: 0, changed: 0 };

describe('diffManifests', () => {
  it('finds nothing between identical manifests', () => {
    const a = handset();
    const d = diffManifests(a, structuredClone(a), { leafValue });
    expect(d).toEqual({
      added: [],
      removed: [],
      changed: [],
      byCategory: Object.fromEntries(CATEGORIES.map((c) => [c, zero])),
      firmware: [],
      apps: [],
      unchanged: a.length,
      summary: 'no changes',
    });
  });

  it('counts added, removed and changed entries per category, each list sorted by path', () => {
    const a = [
      node('./Settings', 'settings'),
      leaf('./Settings/A', 'settings', '1'),
      leaf('./Settings/B', 'settings', '2'),
      leaf('./Settings/C', 'settings', '3'),
      leaf('./Certificates/X', 'certificates', 'x'),
      leaf('./AppData/Ringtones/Aurora', 'appdata', 'ogg'),
    ];
    const b = [
      node('./Settings', 'settings'),
      leaf('./Settings/A', 'settings', '10'), // value
      { ...leaf('./Settings/B', 'settings', '2'), type: 'text/plain' }, // type only
      leaf('./Settings/C', 'settings', '3', 'int'), // format only
      leaf('./Settings/D', 'settings', '4'),
      leaf('./Certificates/Y', 'certificates', 'y'),
      leaf('./AppData/Ringtones/Aurora', 'appdata', 'ogg'),
      leaf('./AppData/Ringtones/Borealis', 'appdata', 'ogg2'),
    ].reverse(); // out of order on purpose
    const d = diffManifests(a, b);
    expect(d.added.map((e) => e.path)).toEqual(['./AppData/Ringtones/Borealis', './Certificates/Y', './Settings/D']);
    expect(d.removed.map((e) => e.path)).toEqual(['./Certificates/X']);
    expect(d.changed.map((c) => c.path)).toEqual(['./Settings/A', './Settings/B', './Settings/C']);
    expect(d.changed[0]).toMatchObject({ category: 'settings', before: { size: 1 }, after: { size: 2 } });
    expect(d.byCategory).toEqual({
      settings: { added: 1, removed: 0, changed: 3 },
      certificates: { added: 1, removed: 1, changed: 0 },
      appdata: { added: 1, removed: 0, changed: 0 },
      applications: zero,
      firmware: zero,
    });
    expect(d.unchanged).toBe(2);
    expect(d.summary).toBe('3 added, 1 removed, 3 changed');
  });

  it('a size change alone is a change', () => {
    const e = leaf('./Settings/A', 'settings', 'x');
    expect(diffManifests([e], [{ ...e, size: 99 }]).changed).toHaveLength(1);
  });

  it('handles interior nodes: identical ones are unchanged, new subtrees count them, node to leaf is a change', () => {
    const a = [
      node('./Settings', 'settings'),
      node('./Settings/Display', 'settings'),
      node('./Settings/Sound', 'settings'),
    ];
    const b = [
      node('./Settings', 'settings'),
      leaf('./Settings/Display', 'settings', 'flat now'),
      node('./Settings/Sound', 'settings'),
      node('./Settings/Sound/Profiles', 'settings'),
      leaf('./Settings/Sound/Profiles/Quiet', 'settings', '1'),
    ];
    const d = diffManifests(a, b);
    expect(d.unchanged).toBe(2);
    expect(d.added.map((e) => [e.path, e.format])).toEqual([
      ['./Settings/Sound/Profiles', 'node'],
      ['./Settings/Sound/Profiles/Quiet', 'chr'],
    ]);
    expect(d.changed.map((c) => [c.path, c.before.format, c.after.format])).toEqual([
      ['./Settings/Display', 'node', 'chr'],
    ]);
    expect(d.byCategory.settings).toEqual({ added: 2, removed: 0, changed: 1 });
  });

  it('calls out a firmware update with the values leafValue gives', () => {
    const d = diffManifests(handset(), handset({ fw: '1.1.0' }), { leafValue });
    expect(d.firmware).toEqual([{ field: 'FwV', before: '1.0.3', after: '1.1.0' }]);
    expect(d.byCategory.firmware).toEqual({ added: 0, removed: 0, changed: 1 });
    expect(d.apps).toEqual([]);
    expect(d.summary).toBe('1 changed; firmware 1.0.3 → 1.1.0');
  });

  it('passes each side to leafValue, and reports firmware without values when there is no leafValue', () => {
    const seen: Array<[string, string]> = [];
    diffManifests(handset(), handset({ sw: '7.2' }), {
      leafValue: (side, e) => {
        seen.push([side, e.path]);
        return leafValue(side, e);
      },
    });
    expect(seen).toEqual([
      ['a', './DevDetail/SwV'],
      ['b', './DevDetail/SwV'],
    ]);
    const d = diffManifests(handset(), handset({ sw: '7.2' }));
    expect(d.firmware).toEqual([{ field: 'SwV' }]);
    expect(d.summary).toBe('1 changed; software changed');
  });

  it('reports a firmware leaf that appears or disappears, and HwV', () => {
    const hw = leaf('./DevDetail/HwV', 'firmware', 'rev B');
    const a = handset().filter((e) => e.path !== './DevDetail/SwV');
    const d = diffManifests(a, [...handset(), hw], { leafValue });
    expect(d.firmware).toEqual([
      { field: 'SwV', after: '7.1' },
      { field: 'HwV', after: 'rev B' },
    ]);
    expect(d.summary).toBe('2 added; software now 7.1; hardware now rev B');
    expect(diffManifests([hw], [], { leafValue }).firmware).toEqual([{ field: 'HwV', before: 'rev B' }]);
  });

  it('calls out an app upgrade by name, comparing versions numerically', () => {
    const a = handset();
    const b = handset({
      apps: [...app('a1', 'com.shieldsec.shieldav', 'ShieldAV', '4.0.2'), ...app('a2', 'com.notes', 'Notes', '2.0')],
    });
    const d = diffManifests(a, b, { leafValue });
    expect(d.apps).toEqual([
      { id: 'com.shieldsec.shieldav', name: 'ShieldAV', change: 'upgraded', before: '3.2.1', after: '4.0.2' },
    ]);
    expect(d.summary).toBe('1 changed; ShieldAV 3.2.1 → 4.0.2');
    // 3.10 is newer than 3.9, though it sorts first as text.
    const c = diffManifests([...app('a1', 'av', 'AV', '3.9')], [...app('a1', 'av', 'AV', '3.10')], { leafValue });
    expect(c.apps[0]).toMatchObject({ change: 'upgraded', before: '3.9', after: '3.10' });
  });

  it('calls out a downgrade, an install, a removal and a state-only change', () => {
    const a = handset({
      apps: [
        ...app('a1', 'av', 'ShieldAV', '4.0.2'),
        ...app('a2', 'notes', 'Notes', '2.0'),
        ...app('a3', 'maps', 'Maps', '5.1'),
      ],
    });
    const b = handset({
      fw: '1.1.0',
      apps: [
        ...app('a1', 'av', 'ShieldAV', '3.2.1'),
        ...app('a3', 'maps', 'Maps', '5.1', '10'),
        ...app('a4', 'chat', 'Chat', '1.0.0'),
      ],
    });
    const d = diffManifests(a, b, { leafValue });
    expect(d.apps).toEqual([
      { id: 'av', name: 'ShieldAV', change: 'downgraded', before: '4.0.2', after: '3.2.1' },
      { id: 'notes', name: 'Notes', change: 'removed', before: '2.0' },
      { id: 'maps', name: 'Maps', change: 'changed', before: '5.1', after: '5.1' },
      { id: 'chat', name: 'Chat', change: 'installed', after: '1.0.0' },
    ]);
    expect(d.byCategory.applications).toEqual({ added: 5, removed: 5, changed: 2 });
    expect(d.summary).toBe(
      '5 added, 5 removed, 3 changed; firmware 1.0.3 → 1.1.0; ShieldAV 4.0.2 → 3.2.1 (downgrade); Notes 2.0 removed; Maps changed; 1 more app',
    );
  });

  it('without leafValue, names apps by their Deployed node and leaves versions out', () => {
    const d = diffManifests(app('a1', 'av', 'AV', '1'), [
      ...app('a1', 'av', 'AV', '2'),
      node('./SCOMO/Inventory/Deployed/a9', 'applications'),
    ]);
    expect(d.apps).toEqual([
      { id: 'a1', change: 'changed' },
      { id: 'a9', change: 'installed' },
    ]);
    // An options object without its own leafValue (the inherited Object.prototype.leafValue is no lookup).
    expect(diffManifests(app('a1', 'av', 'AV', '1'), app('a1', 'av', 'AV', '2'), {} as DiffOptions).apps).toEqual([
      { id: 'a1', change: 'changed' },
    ]);
  });

  it('treats equal-ranking versions as changed, not upgraded', () => {
    const d = diffManifests(app('a1', 'av', 'AV', '1.0'), app('a1', 'av', 'AV', '1.0.0'), { leafValue });
    expect(d.apps).toEqual([{ id: 'av', name: 'AV', change: 'changed', before: '1.0', after: '1.0.0' }]);
    expect(d.summary).toBe('1 changed; AV 1.0 → 1.0.0');
  });

  it('takes input in any order, and the last entry of a repeated path', () => {
    const a = [
      leaf('./Settings/B', 'settings', '1'),
      leaf('./Settings/A', 'settings', '1'),
      leaf('./Settings/A', 'settings', '2'),
    ];
    const b = [
      leaf('./Settings/A', 'settings', '2'),
      leaf('./Settings/B', 'settings', '3'),
      leaf('./Settings/B', 'settings', '1'),
    ];
    const d = diffManifests(a, b);
    expect([d.added, d.removed, d.changed, d.unchanged]).toEqual([[], [], [], 2]);
    expect(a.map((e) => e.path)).toEqual(['./Settings/B', './Settings/A', './Settings/A']); // not sorted in place
  });

  it('ignores the Deployed root itself and paths that only share its prefix', () => {
    const d = diffManifests(
      [],
      [node('./SCOMO/Inventory/Deployed', 'applications'), leaf('./SCOMO/Inventory/DeployedX', 'applications', 'x')],
    );
    expect(d.apps).toEqual([]);
    expect(d.added).toHaveLength(2);
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.0', '1.0', 0],
    ['1.0', '1.0.0', 0],
    ['1.2', '1.10', -1],
    ['2', '1.99', 1],
    ['1.0.1', '1.0', 1],
    ['01.2', '1.2', 0],
    ['1.2a', '1.2b', -1],
    ['12345678901234567890', '12345678901234567891', -1],
  ] as const)('%s vs %s is %i', (x, y, want) => {
    expect(compareVersions(x, y)).toBe(want);
    expect(compareVersions(y, x)).toBe(-want || 0);
  });
});

describe('diffManifests properties', () => {
  const paths = [
    './Settings',
    './Settings/Display',
    './Settings/Display/Brightness',
    './Settings/Sound/Volume',
    './Certificates/RootCA',
    './AppData/Ringtones/Aurora',
    './AppData/Wallpapers/Dunes',
    './DevDetail/FwV',
    './DevDetail/SwV',
    './DevDetail/HwV',
    './SCOMO/Inventory/Deployed',
    './SCOMO/Inventory/Deployed/a1',
    './SCOMO/Inventory/Deployed/a1/ID',
    './SCOMO/Inventory/Deployed/a1/Version',
    './SCOMO/Inventory/Deployed/a2/Version',
    './SCOMO/Inventory/Deployed/a2/Name',
    './FUMO/Update/PkgURL',
  ];
  const hashes = ['1', '2', '3'].map(hashOf);
  const arbEntry: fc.Arbitrary<ManifestEntry> = fc.oneof(
    fc.record({
      path: fc.constantFrom(...paths),
      category: fc.constantFrom(...CATEGORIES),
      format: fc.constant('node'),
      size: fc.constant(0),
    }),
    fc.record(
      {
        path: fc.constantFrom(...paths),
        category: fc.constantFrom(...CATEGORIES),
        format: fc.constantFrom('chr', 'int', 'b64'),
        type: fc.constantFrom('text/plain', 'image/png'),
        size: fc.integer({ min: 0, max: 2 }),
        hash: fc.constantFrom(...hashes),
      },
      { requiredKeys: ['path', 'category', 'format', 'size', 'hash'] },
    ),
  );
  const arbManifest = fc.uniqueArray(arbEntry, { selector: (e) => e.path, maxLength: paths.length });
  const toMap = (es: readonly ManifestEntry[]) => new Map(es.map((e) => [e.path, e]));
  const someValues: DiffOptions['leafValue'] = (side, e) =>
    e.hash ? `${e.hash.slice(0, 2)}.${side === 'a' ? 1 : 2}` : undefined;

  it('applying diff(a, b) to a gives b', () => {
    fc.assert(
      fc.property(arbManifest, arbManifest, fc.boolean(), (a, b, withValues) => {
        const d = diffManifests(a, b, withValues ? { leafValue: someValues } : undefined);
        const m = toMap(a);
        for (const e of d.removed) expect(m.delete(e.path)).toBe(true);
        for (const e of d.added) {
          expect(m.has(e.path)).toBe(false);
          m.set(e.path, e);
        }
        for (const c of d.changed) {
          expect(m.get(c.path)).toBe(c.before);
          m.set(c.path, c.after);
        }
        expect(m).toEqual(toMap(b));
        expect(d.unchanged + d.changed.length + d.removed.length).toBe(a.length);
        expect(d.unchanged + d.changed.length + d.added.length).toBe(b.length);
        const totals = Object.values(d.byCategory).reduce((t, c) => t + c.added + c.removed + c.changed, 0);
        expect(totals).toBe(d.added.length + d.removed.length + d.changed.length);
        for (const list of [d.added, d.removed, d.changed]) {
          const ps = list.map((e) => e.path);
          expect(ps).toEqual([...ps].sort());
        }
        expect(d.summary).not.toContain('\n');
      }),
      { numRuns: 500 },
    );
  });

  it('diff(a, a) is empty', () => {
    fc.assert(
      fc.property(arbManifest, (a) => {
        const d = diffManifests(a, [...a].reverse(), { leafValue: someValues });
        expect([d.added, d.removed, d.changed, d.firmware, d.apps]).toEqual([[], [], [], [], []]);
        expect(d.unchanged).toBe(a.length);
        expect(d.summary).toBe('no changes');
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same diff for sorted and unsorted input', () => {
    const sorted = (es: ManifestEntry[]) => [...es].sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
    fc.assert(
      fc.property(arbManifest, arbManifest, (a, b) => {
        expect(diffManifests(a, b, { leafValue: someValues })).toEqual(
          diffManifests(sorted(a), sorted(b), { leafValue: someValues }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('diff(b, a) is diff(a, b) turned around', () => {
    fc.assert(
      fc.property(arbManifest, arbManifest, (a, b) => {
        const ab = diffManifests(a, b);
        const ba = diffManifests(b, a);
        expect(ba.added).toEqual(ab.removed);
        expect(ba.removed).toEqual(ab.added);
        expect(ba.changed.map((c) => [c.path, c.before, c.after])).toEqual(
          ab.changed.map((c) => [c.path, c.after, c.before]),
        );
      }),
      { numRuns: 300 },
    );
  });
});
