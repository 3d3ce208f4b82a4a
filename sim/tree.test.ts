import { describe, expect, it } from 'vitest';
import { utf8Decode, utf8Encode } from '../lib/omadm/util/bytes';
import { ACCESS_EXEC, ACCESS_RO, canonicalPath, DmTree, parseUri } from './tree';

const t8 = (s: string) => utf8Encode(s);

function sample(opts: ConstructorParameters<typeof DmTree>[0] = {}): DmTree {
  const t = new DmTree(opts);
  t.mkdir('./DevInfo', { access: ACCESS_RO });
  t.set('./DevInfo/Mod', 'N1', { access: ACCESS_RO });
  t.set('./DevInfo/Man', 'Nimbus', { access: ACCESS_RO });
  t.mkdir('./Settings/Display');
  t.set('./Settings/Display/Brightness', '70', { format: 'int' });
  t.set('./Settings/Display/Theme', 'dark');
  t.set('./FUMO/Download', new Uint8Array(0), { format: 'null', access: ACCESS_EXEC });
  return t;
}

describe('paths', () => {
  it('treats ./A/B, A/B, ./A//B and A/B/ as the same node and refuses ..', () => {
    for (const p of ['./A/B', 'A/B', './A//B', 'A/B/', './A/B/']) expect(canonicalPath(p)).toBe('./A/B');
    expect(canonicalPath('.')).toBe('.');
    expect(canonicalPath('')).toBe('.');
    expect(parseUri('./A/../B')).toEqual({ ok: false, status: 400 });
    expect(parseUri('..')).toEqual({ ok: false, status: 400 });
    expect(parseUri('./A/./B')).toEqual({ ok: false, status: 400 });
    expect(parseUri('/abs')).toEqual({ ok: false, status: 400 });
    expect(parseUri('./A?list=Struct')).toEqual({ ok: true, segments: ['A'], query: 'list=Struct' });
  });

  it('enforces URI limits with 414', () => {
    const t = new DmTree({ maxDepth: 2, maxSegLen: 4, maxTotLen: 20 });
    expect(t.add('./A/B/C', { format: 'chr', value: t8('x') })).toBe(414);
    expect(t.add('./ABCDE', { format: 'chr', value: t8('x') })).toBe(414);
    expect(t.get('./AAAA/BBBB/CCCC/DDDD/EEEE')).toEqual({ status: 414 });
    expect(t.add('./A/B', { format: 'chr', value: t8('x') })).toBe(200);
  });
});

describe('get', () => {
  it('returns a leaf value with format and type, and 404 for a missing node', () => {
    const t = sample();
    t.set('./Cert', new Uint8Array([0x30, 0x82]), { format: 'bin', type: 'application/pkix-cert' });
    expect(t.get('DevInfo/Mod')).toEqual({
      status: 200,
      entries: [{ path: './DevInfo/Mod', format: 'chr', value: t8('N1') }],
    });
    expect(t.get('./Cert').entries?.[0]).toMatchObject({
      format: 'bin',
      type: 'application/pkix-cert',
      value: new Uint8Array([0x30, 0x82]),
    });
    expect(t.get('./DevInfo/Nope').status).toBe(404);
    expect(t.get('./DevInfo/Mod/Deeper').status).toBe(404);
  });

  it('gives an interior node its child names joined by / with format node', () => {
    const t = sample();
    const r = t.get('./DevInfo');
    expect(r.status).toBe(200);
    expect(r.entries![0]!.format).toBe('node');
    expect(utf8Decode(r.entries![0]!.value!)).toBe('Mod/Man');
    expect(utf8Decode(t.get('.').entries![0]!.value!)).toBe('DevInfo/Settings/FUMO');
  });

  it('lists Struct (no values) and StructData (values), skipping nodes without Get', () => {
    const t = sample();
    t.set('./Settings/Secret', 'pw', { access: ['Replace'] });
    const s = t.get('./Settings?list=Struct');
    expect(s.status).toBe(200);
    expect(s.entries!.map((e) => [e.path, e.format, e.value])).toEqual([
      ['./Settings', 'node', undefined],
      ['./Settings/Display', 'node', undefined],
      ['./Settings/Display/Brightness', 'int', undefined],
      ['./Settings/Display/Theme', 'chr', undefined],
    ]);
    const d = t.get('./Settings?list=StructData');
    expect(d.entries!.filter((e) => e.value).map((e) => [e.path, utf8Decode(e.value!)])).toEqual([
      ['./Settings/Display/Brightness', '70'],
      ['./Settings/Display/Theme', 'dark'],
    ]);
    expect(t.get('./Settings?list=TNDS').status).toBe(406);
    expect(t.get('./Settings?prop=ACL').status).toBe(406);
  });

  it('refuses ?list= with 406 when the handset is configured like clients that do not support it', () => {
    const t = sample({ listStruct: false, listStructData: false });
    expect(t.get('./Settings?list=Struct').status).toBe(406);
    expect(t.get('./Settings?list=StructData').status).toBe(406);
    expect(t.get('./Settings').status).toBe(200);
    const only = sample({ listStruct: true, listStructData: false });
    expect(only.get('./Settings?list=Struct').status).toBe(200);
    expect(only.get('./Settings?list=StructData').status).toBe(406);
  });
});

describe('add, replace, delete, copy', () => {
  it('adds leaves and interior nodes; 418 when the node exists', () => {
    const t = sample();
    expect(t.add('./Settings/Display/Font', { format: 'chr', value: t8('Sans') })).toBe(200);
    expect(t.text('./Settings/Display/Font')).toBe('Sans');
    expect(t.add('./Settings/Sound', { format: 'node' })).toBe(200);
    expect(t.node('./Settings/Sound')?.kind).toBe('interior');
    expect(t.add('./Settings/Display/Font', { format: 'chr', value: t8('x') })).toBe(418);
    expect(t.add('./Settings', { format: 'node' })).toBe(418);
    expect(t.add('./Settings/Display/Theme/Child', { format: 'chr', value: t8('x') })).toBe(405);
    expect(t.add('./Settings/X', { format: 'weird', value: t8('x') })).toBe(415);
  });

  it('creates missing parents by default and answers 404 when configured not to', () => {
    const t = sample();
    expect(t.add('./Settings/Email/work/Address', { format: 'chr', value: t8('a@b') })).toBe(200);
    expect(t.node('./Settings/Email/work')?.kind).toBe('interior');
    const strict = sample({ autoCreateParents: false });
    expect(strict.add('./Settings/Email/work/Address', { format: 'chr', value: t8('a@b') })).toBe(404);
    expect(strict.has('./Settings/Email')).toBe(false);
    expect(strict.add('./Settings/Email', { format: 'node' })).toBe(200);
    expect(strict.add('./Settings/Email/Address', { format: 'chr', value: t8('a@b') })).toBe(200);
  });

  it('answers 405 where the access type is missing', () => {
    const t = sample();
    expect(t.add('./DevInfo/Extra', { format: 'chr', value: t8('x') })).toBe(405);
    expect(t.replace('./DevInfo/Mod', { value: t8('hacked') })).toBe(405);
    expect(t.text('./DevInfo/Mod')).toBe('N1');
    expect(t.delete('./DevInfo/Mod')).toBe(405);
    expect(t.delete('./DevInfo')).toBe(405);
    expect(t.get('./FUMO/Download').status).toBe(405);
    expect(t.checkExec('./FUMO/Download')).toBe(200);
    expect(t.checkExec('./Settings/Display/Theme')).toBe(405);
    expect(t.checkExec('./FUMO/Nope')).toBe(404);
    expect(t.delete('.')).toBe(405);
  });

  it('replaces leaf values, keeps the format unless given, 404 on missing and 405 on interior', () => {
    const t = sample();
    expect(t.replace('./Settings/Display/Brightness', { value: t8('90') })).toBe(200);
    expect(t.get('./Settings/Display/Brightness').entries![0]).toMatchObject({ format: 'int', value: t8('90') });
    expect(t.replace('./Settings/Display/Theme', { format: 'xml', value: t8('<t/>') })).toBe(200);
    expect(t.node('./Settings/Display/Theme')).toMatchObject({ format: 'xml' });
    expect(t.replace('./Settings/Nope', { value: t8('1') })).toBe(404);
    expect(t.replace('./Settings/Display', { value: t8('1') })).toBe(405);
  });

  it('deletes a whole subtree', () => {
    const t = sample();
    expect(t.delete('./Settings')).toBe(200);
    expect(t.has('./Settings/Display/Theme')).toBe(false);
    expect(t.delete('./Settings')).toBe(404);
  });

  it('copies leaves and subtrees, overwriting an existing leaf', () => {
    const t = sample();
    expect(t.copy('./Settings/Display', './Settings/Backup')).toBe(200);
    expect(t.text('./Settings/Backup/Theme')).toBe('dark');
    // A deep copy: changing the copy leaves the original alone.
    t.replace('./Settings/Backup/Theme', { value: t8('light') });
    expect(t.text('./Settings/Display/Theme')).toBe('dark');
    expect(t.copy('./Settings/Display/Brightness', './Settings/Backup/Theme')).toBe(200);
    expect(t.get('./Settings/Backup/Theme').entries![0]).toMatchObject({ format: 'int', value: t8('70') });
    expect(t.copy('./Settings/Nope', './Settings/X')).toBe(404);
    expect(t.copy('./Settings', './Settings/Inside')).toBe(400);
    expect(t.copy('./Settings/Display/Theme', './DevInfo/Theme')).toBe(405);
  });
});

describe('limits', () => {
  it('answers 413 for a value over the leaf limit and 420 when the device is full', () => {
    const t = new DmTree({ maxLeafBytes: 10, capacityBytes: 25 });
    expect(t.add('./A', { format: 'bin', value: new Uint8Array(11) })).toBe(413);
    expect(t.add('./A', { format: 'bin', value: new Uint8Array(10) })).toBe(200);
    expect(t.add('./B', { format: 'bin', value: new Uint8Array(10) })).toBe(200);
    expect(t.add('./C', { format: 'bin', value: new Uint8Array(10) })).toBe(420);
    expect(t.has('./C')).toBe(false);
    // Replacing counts the value it replaces.
    expect(t.replace('./B', { value: new Uint8Array(5) })).toBe(200);
    expect(t.add('./C', { format: 'bin', value: new Uint8Array(10) })).toBe(200);
    expect(t.replace('./A', { value: new Uint8Array(11) })).toBe(413);
    expect(t.usedBytes()).toBe(25);
  });
});

describe('atomic snapshots', () => {
  it('restores the tree exactly, including deleted subtrees and replaced values', () => {
    const t = sample();
    const before = JSON.stringify(t.walk().map((e) => [e.path, e.node.kind === 'leaf' ? [...e.node.value] : null]));
    const snap = t.snapshot();
    t.replace('./Settings/Display/Theme', { value: t8('light') });
    t.delete('./Settings/Display/Brightness');
    t.add('./Settings/New', { format: 'chr', value: t8('n') });
    t.restore(snap);
    const after = JSON.stringify(t.walk().map((e) => [e.path, e.node.kind === 'leaf' ? [...e.node.value] : null]));
    expect(after).toBe(before);
    // The snapshot stays usable: changes after a restore do not leak into it.
    t.delete('./Settings');
    t.restore(snap);
    expect(t.text('./Settings/Display/Theme')).toBe('dark');
  });
});

describe('node properties (TND ?prop=VerNo, ?prop=TStamp)', () => {
  const prop = (t: DmTree, uri: string) => {
    const r = t.get(uri);
    return r.status === 200 ? new TextDecoder().decode(r.entries![0]!.value) : r.status;
  };

  it('VerNo changes on the node changed and every node above it, never elsewhere, and is never given twice', () => {
    const t = new DmTree({ props: ['VerNo'] });
    t.set('./A/B/x', '1');
    t.set('./A/C/y', '2');
    const before = { a: prop(t, './A?prop=VerNo'), b: prop(t, './A/B?prop=VerNo'), c: prop(t, './A/C?prop=VerNo') };
    const y = prop(t, './A/C/y?prop=VerNo');
    expect(t.replace('./A/B/x', { value: new TextEncoder().encode('3') })).toBe(200);
    expect(prop(t, './A?prop=VerNo')).not.toBe(before.a);
    expect(prop(t, './A/B?prop=VerNo')).not.toBe(before.b);
    expect(prop(t, './A/C?prop=VerNo')).toBe(before.c);
    expect(prop(t, './A/C/y?prop=VerNo')).toBe(y);
    // Deleted and made again: a number the server never saw for that path.
    const old = prop(t, './A/C/y?prop=VerNo');
    expect(t.delete('./A/C/y')).toBe(200);
    expect(prop(t, './A/C?prop=VerNo')).not.toBe(before.c);
    t.set('./A/C/y', '2');
    expect(prop(t, './A/C/y?prop=VerNo')).not.toBe(old);
    // A property the model does not keep, or one that is not a TND property: 406.
    expect(prop(t, './A?prop=TStamp')).toBe(406);
    expect(prop(t, './A?prop=Nonsense')).toBe(406);
    expect(new DmTree().get('./?prop=VerNo').status).toBe(406);
  });

  it('TStamp is the last change below a node, strictly later for each change even within a millisecond', () => {
    const t = new DmTree({ props: ['TStamp'] });
    t.now = () => Date.UTC(2026, 0, 1);
    t.set('./A/x', '1');
    const first = prop(t, './A?prop=TStamp');
    expect(first).toMatch(/^2026-01-01T00:00:00\.00\dZ$/);
    t.set('./A/x', '2');
    expect(prop(t, './A?prop=TStamp')).not.toBe(first);
    expect(prop(t, './A/x?prop=TStamp')).toBe(prop(t, './A?prop=TStamp'));
    // A Get of a node's property answers with the property's URI as its source.
    expect(t.get('./A?prop=TStamp').entries![0]!.path).toBe('./A?prop=TStamp');
  });

  it('a subtree grafted or copied in is new in every node; an unchanged mkdir is no change', () => {
    const t = new DmTree({ props: ['VerNo'] });
    t.set('./A/x', '1');
    const a = prop(t, './A?prop=VerNo');
    t.mkdir('./A');
    expect(prop(t, './A?prop=VerNo')).toBe(a);
    t.graft('./B', t.cloneAt('./A')!);
    expect(prop(t, './B/x?prop=VerNo')).not.toBe(prop(t, './A/x?prop=VerNo'));
    expect(t.copy('./A', './C')).toBe(200);
    expect(prop(t, './C/x?prop=VerNo')).toBe(prop(t, './C?prop=VerNo'));
  });
});
