/** The snapshot browser's and the diff view's reading of manifests: groups, texts, previews, and a real diff of two seeded backups. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionDevice } from '@/lib/devices/devices';
import { AFTER, BEFORE, seedSnapshot } from '@/test/support/fixtures';
import { tempContext, type TempContext } from '@/test/support/as-viewer';
import { readManifest } from './read';
import { insertSnapshot } from '@/db/queries/snapshots';
import { diffPageData } from '../devices/page';
import { snapshotBrowser } from './browse';
import { bareType, groupByCategory, mediaUrl, previewKind, readTexts } from './snapshot-views';

let t: TempContext;
let device: Awaited<ReturnType<typeof provisionDevice>>;
let other: Awaited<ReturnType<typeof provisionDevice>>;
let before: string;
let after: string;
let theirs: string;

const base = {
  manufacturer: 'Nimbus',
  model: 'N1',
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'u',
  clientPass: 'p',
  serverPass: 's',
};

beforeAll(async () => {
  t = await tempContext();
  device = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada',
    msisdn: '447700900123',
  });
  other = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:490154203237518',
    subscriber: 'Bob',
    msisdn: '447700900456',
  });
  const now = Date.now();
  before = (await seedSnapshot(t.ctx.db, t.ctx.blobs, device.id, BEFORE, { at: now - 86_400_000 })).id;
  after = (
    await seedSnapshot(
      t.ctx.db,
      t.ctx.blobs,
      device.id,
      { ...AFTER, './Settings/Note': { category: 'settings', value: 'x'.repeat(300) } },
      { at: now },
    )
  ).id;
  theirs = (await seedSnapshot(t.ctx.db, t.ctx.blobs, other.id, AFTER)).id;
});
afterAll(() => t.close());

describe('previews', () => {
  it('previews only allow-listed pictures and sounds', () => {
    expect(previewKind({ format: 'bin', type: 'image/png' })).toBe('image');
    expect(previewKind({ format: 'bin', type: 'IMAGE/JPEG; q=1' })).toBe('image');
    expect(previewKind({ format: 'bin', type: 'audio/mpeg' })).toBe('audio');
    for (const type of [
      'image/svg+xml',
      'text/html',
      'audio/midi',
      'application/octet-stream',
      'constructor',
      '__proto__',
      undefined,
    ]) {
      expect(previewKind({ format: 'bin', type }), String(type)).toBeUndefined();
    }
    expect(previewKind({ format: 'node', type: 'image/png' })).toBeUndefined();
    expect(bareType(' Audio/WAV ;x=1')).toBe('audio/wav');
    expect(mediaUrl('s 1', './AppData/My Tune&x')).toBe('/media/s%201?path=.%2FAppData%2FMy%20Tune%26x');
  });
});

describe('the snapshot browser', () => {
  it('groups the manifest by category in their order, with small text values read back and binaries left as bytes', async () => {
    const { entries } = await readManifest(t.ctx.db, t.ctx.blobs, before);
    const groups = groupByCategory(entries, await readTexts(t.ctx.blobs, entries));
    expect(groups.map((g) => g.category)).toEqual(['settings', 'applications', 'firmware']);
    const settings = groups[0]!;
    expect(settings.entries.map((e) => e.path)).toEqual([
      './DevInfo',
      './DevInfo/Lang',
      './DevInfo/Man',
      './Settings/Ringtone',
    ]);
    expect(settings.entries[1]).toMatchObject({
      name: 'Lang',
      depth: 1,
      text: 'en-GB',
      interior: false,
      preview: null,
    });
    expect(settings.entries[0]).toMatchObject({ interior: true, depth: 0, text: null });
    // 512 bytes that are not UTF-8, typed audio: no text, a player.
    expect(settings.entries[3]).toMatchObject({ text: null, preview: 'audio', size: 512, type: 'audio/mpeg' });
    expect(settings.bytes).toBe('en-GB'.length + 'Nimbus'.length + 512);
  });
});

const READER = { role: 'agent', email: 'agent@rewind.test' };

describe('the snapshot page', () => {
  it('browses a complete backup with the complete one before it, and says why an unfinished one cannot be', async () => {
    const later = await snapshotBrowser(t.ctx.db, t.ctx.blobs, READER, device, {
      id: after,
      status: 'complete',
      error: null,
    });
    expect(later).toMatchObject({ browsable: true, previous: before });
    expect(later.browsable && later.groups.length).toBeGreaterThan(0);
    expect(
      await snapshotBrowser(t.ctx.db, t.ctx.blobs, READER, device, { id: before, status: 'complete', error: null }),
    ).toMatchObject({ browsable: true, previous: undefined });
    const running = await insertSnapshot(t.ctx.db, {
      deviceId: device.id,
      trigger: 'on-demand',
      categories: ['settings'],
    });
    const d = await snapshotBrowser(t.ctx.db, t.ctx.blobs, READER, device, running);
    expect(d).toMatchObject({ browsable: false });
    expect(!d.browsable && d.problem).toMatch(
      /^This backup is \w+: only complete backups can be browsed or restored\.$/,
    );
  });
});

describe('the diff view', () => {
  it('groups changes by category, old → new, with firmware and app versions called out', async () => {
    const d = await diffPageData(t.ctx.db, t.ctx.blobs, device, { from: before, to: after });
    if (!d.ok) throw new Error(d.error);
    expect(d.firmware).toEqual([{ field: 'FwV', before: '1.0.3', after: '1.1.0' }]);
    expect(d.apps).toEqual([
      { id: 'com.shield.av', name: 'ShieldAV', change: 'upgraded', before: '3.2.1', after: '4.0.2' },
    ]);
    expect(d.groups.map((g) => [g.category, g.counts])).toEqual([
      ['settings', { added: 2, removed: 1, changed: 1 }],
      ['applications', { added: 0, removed: 0, changed: 1 }],
      ['firmware', { added: 0, removed: 0, changed: 1 }],
    ]);
    const rows = Object.fromEntries(d.groups[0]!.rows.map((r) => [r.path, r]));
    expect(rows['./DevInfo/Lang']).toMatchObject({
      change: 'changed',
      before: { text: 'en-GB' },
      after: { text: 'fr-FR' },
    });
    expect(rows['./Settings/Ringtone']).toMatchObject({ change: 'removed', before: { preview: 'audio' }, after: null });
    expect(rows['./Settings/Wallpaper']).toMatchObject({
      change: 'added',
      before: null,
      after: { preview: 'image', size: 4 },
    });
    expect(rows['./Settings/Note']!.after!.text).toHaveLength(300);
    expect(d.options.map((o) => o.id)).toEqual([after, before]);
  });

  it("refuses another handset's backup in plain words, and resolves ?since", async () => {
    const d = await diffPageData(t.ctx.db, t.ctx.blobs, device, { from: before, to: theirs });
    expect(d).toMatchObject({
      ok: false,
      error: 'The second backup belongs to another handset: pick two backups of this handset.',
    });
    const s = await diffPageData(t.ctx.db, t.ctx.blobs, device, { since: new Date().toISOString().slice(0, 10) });
    expect(s).toMatchObject({ ok: true, from: before, to: after, note: null });
  });
});
