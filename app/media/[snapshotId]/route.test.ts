/** The media route: who may fetch a backed-up value, and what the browser is allowed to do with it. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { provisionDevice } from '@/lib/devices/devices';
import type * as Session from '@/lib/server/session';
import { seedSnapshot } from '@/test/support/fixtures';
import { signedIn, staff, subscriberViewer, tempContext } from '@/test/support/as-viewer';
import { GET } from './route';

vi.mock('@/lib/server/session', async (orig) => ({
  ...(await orig<typeof Session>()),
  getViewer: async () => (await import('@/test/support/as-viewer')).signedIn.viewer,
}));

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const HTML = '<html><script>alert(document.cookie)</script></html>';

let t: Awaited<ReturnType<typeof tempContext>>;
let mine: string;
let theirs: string;
let me: string;

beforeAll(async () => {
  t = await tempContext();
  const base = {
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5' as const,
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
  };
  const a = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:356938035643809',
    subscriber: 'Ada Lovelace',
    msisdn: '447700900123',
  });
  const b = await provisionDevice(t.ctx.db, {
    ...base,
    devId: 'IMEI:490154203237518',
    subscriber: 'Bob Other',
    msisdn: '447700900456',
  });
  me = a.subscriberId!;
  const nodes = {
    './AppData': { category: 'appdata' as const },
    './AppData/Wallpapers/Beach': { category: 'appdata' as const, value: PNG, type: 'image/png', format: 'bin' },
    './AppData/Ringtones/Tune': {
      category: 'appdata' as const,
      value: new Uint8Array([0x49, 0x44, 0x33]),
      type: 'Audio/MPEG; rate=44100',
      format: 'bin',
    },
    './AppData/Wallpapers/Vector': {
      category: 'appdata' as const,
      value: '<svg onload="alert(1)"/>',
      type: 'image/svg+xml',
      format: 'chr',
    },
    './AppData/Page': { category: 'appdata' as const, value: HTML, type: 'text/html', format: 'chr' },
    './AppData/Midi': {
      category: 'appdata' as const,
      value: new Uint8Array([0x4d, 0x54]),
      type: 'audio/midi',
      format: 'bin',
    },
  };
  mine = (await seedSnapshot(t.ctx.db, t.ctx.blobs, a.id, nodes)).id;
  theirs = (await seedSnapshot(t.ctx.db, t.ctx.blobs, b.id, nodes)).id;
});
afterAll(() => t.close());

const get = (id: string, path: string) =>
  GET(new Request(`http://x/media/${id}?path=${encodeURIComponent(path)}`), {
    params: Promise.resolve({ snapshotId: id }),
  });

describe('/media/<snapshot>', () => {
  it('serves an allow-listed picture under its own type, inline, never sniffed', async () => {
    signedIn.viewer = staff('agent');
    const r = await get(mine, './AppData/Wallpapers/Beach');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('image/png');
    expect(r.headers.get('content-disposition')).toBe('inline; filename="Beach"');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('content-security-policy')).toContain('sandbox');
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(PNG);
  });

  it('serves audio under its bare type (parameters and case dropped)', async () => {
    signedIn.viewer = staff('admin');
    const r = await get(mine, './AppData/Ringtones/Tune');
    expect(r.headers.get('content-type')).toBe('audio/mpeg');
  });

  it('serves anything else as a download of plain bytes: SVG, HTML, MIDI', async () => {
    signedIn.viewer = staff('agent');
    for (const path of ['./AppData/Wallpapers/Vector', './AppData/Page', './AppData/Midi']) {
      const r = await get(mine, path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toBe('application/octet-stream');
      expect(r.headers.get('content-disposition'), path).toMatch(/^attachment; filename="/);
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it("lets a subscriber fetch their own handset's values, and answers 404 for another's", async () => {
    signedIn.viewer = subscriberViewer(me);
    expect((await get(mine, './AppData/Wallpapers/Beach')).status).toBe(200);
    const r = await get(theirs, './AppData/Wallpapers/Beach');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('Not found');
  });

  it('refuses a visitor, an unknown snapshot or node, an interior node and a path that is not one', async () => {
    signedIn.viewer = null;
    expect((await get(mine, './AppData/Wallpapers/Beach')).status).toBe(401);
    signedIn.viewer = staff('agent');
    expect((await get('no-such-snapshot', './AppData/Wallpapers/Beach')).status).toBe(404);
    expect((await get(mine, './AppData/Nothing')).status).toBe(404);
    expect((await get(mine, './AppData')).status).toBe(404);
    expect((await get(mine, '/etc/passwd')).status).toBe(404);
    expect(
      (await GET(new Request(`http://x/media/${mine}`), { params: Promise.resolve({ snapshotId: mine }) })).status,
    ).toBe(404);
  });
});
