/** The snapshot browser's domain views of a real seeded backup, its search, and the audit of reading it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '@/db/queries/audit';
import { provisionDevice } from '@/lib/devices/devices';
import { certificateDer } from '@/sim/media';
import { Rng } from '@/sim/random';
import { BEFORE, seedSnapshot } from '@/test/support/fixtures';
import { tempContext, type TempContext } from '@/test/support/as-viewer';
import { readSnapshotMedia, snapshotBrowser } from './browse';

let t: TempContext;
let deviceId: string;
let snapshotId: string;
const AV = './SCOMO/Inventory/Deployed/av';
const agent = { role: 'agent', email: 'agent-browse@rewind.test' };

beforeAll(async () => {
  t = await tempContext();
  const d = await provisionDevice(t.ctx.db, {
    devId: 'IMEI:356938035643809',
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: 'u',
    clientPass: 'p',
    serverPass: 's',
    subscriber: 'Ada Lovelace',
  });
  deviceId = d.id;
  const der = certificateDer(
    {
      subjectCN: 'user-123',
      subjectO: 'Personal',
      issuerCN: 'Mail CA',
      issuerO: 'Trust',
      fromYear: 2020,
      toYear: 2021,
    },
    new Rng(1),
  );
  const s = await seedSnapshot(t.ctx.db, t.ctx.blobs, deviceId, {
    ...BEFORE,
    [`${AV}/State`]: { category: 'applications', value: '20', format: 'int' },
    './Settings/APN': { category: 'settings' },
    './Settings/APN/Internet': { category: 'settings' },
    './Settings/APN/Internet/Name': { category: 'settings', value: 'internet.nimbus' },
    './Settings/APN/Internet/User': { category: 'settings', value: 'web' },
    './Certificates': { category: 'certificates' },
    './Certificates/EmailSMIME': { category: 'certificates' },
    './Certificates/EmailSMIME/Data': { category: 'certificates', value: der, type: 'application/pkix-cert' },
    './Certificates/EmailSMIME/DeviceBound': { category: 'certificates', value: 'false', format: 'bool' },
    './AppData/Wallpapers/Beach': { category: 'appdata', value: new Uint8Array([0x89, 0x50]), type: 'image/png' },
  });
  snapshotId = s.id;
});
afterAll(() => t.close());

describe('snapshotBrowser', () => {
  it('reads apps, firmware, settings by group, certificates with expiry and a gallery', async () => {
    const d = await snapshotBrowser(
      t.ctx.db,
      t.ctx.blobs,
      agent,
      { id: deviceId },
      { id: snapshotId, status: 'complete', error: null },
    );
    if (!d.browsable) throw new Error(d.problem);
    expect(d.apps).toEqual([{ path: AV, id: 'com.shield.av', name: 'ShieldAV', version: '3.2.1', state: 'active' }]);
    expect(d.firmware).toEqual(
      expect.arrayContaining([{ label: 'Firmware version', value: '1.0.3', path: './DevDetail/FwV' }]),
    );
    const apn = d.settings.find((g) => g.path === './Settings/APN/Internet');
    expect(apn).toMatchObject({ label: 'Settings › APN › Internet' });
    expect(apn!.values.map((v) => [v.name, v.value])).toEqual([
      ['Name', 'internet.nimbus'],
      ['User', 'web'],
    ]);
    expect(d.certificates).toHaveLength(1);
    expect(d.certificates[0]).toMatchObject({ subject: 'user-123', deviceBound: false, expired: true });
    expect(new Date(d.certificates[0]!.validTo!).getUTCFullYear()).toBe(2021);
    expect(d.media.map((m) => [m.folder, m.name, m.kind])).toEqual([
      ['Wallpapers', 'Beach', 'image'],
      ['Settings', 'Ringtone', 'audio'],
    ]);
    expect(d.groups.length).toBeGreaterThan(3); // the raw tree is still there
  });

  it('searches every node by path or value, in any case', async () => {
    const d = await snapshotBrowser(
      t.ctx.db,
      t.ctx.blobs,
      agent,
      { id: deviceId },
      { id: snapshotId, status: 'complete', error: null },
      { q: 'NIMBUS' },
    );
    if (!d.browsable) throw new Error(d.problem);
    expect(d.search.hits.map((h) => h.path).sort()).toEqual(['./DevInfo/Man', './Settings/APN/Internet/Name']);
    expect(d.search.more).toBe(0);
  });

  it('records an agent opening a backup and each picture, once within a few minutes', async () => {
    const before = (await listAudit(t.ctx.db, { deviceId })).filter((a) => a.actor === agent.email).length;
    const ref = { id: snapshotId, status: 'complete' as const, error: null };
    await snapshotBrowser(t.ctx.db, t.ctx.blobs, agent, { id: deviceId }, ref);
    await snapshotBrowser(t.ctx.db, t.ctx.blobs, agent, { id: deviceId }, ref); // a reload
    await readSnapshotMedia(t.ctx.db, t.ctx.blobs, agent, deviceId, snapshotId, './AppData/Wallpapers/Beach');
    await readSnapshotMedia(
      t.ctx.db,
      t.ctx.blobs,
      { role: 'subscriber', email: 'ada@example.org' },
      deviceId,
      snapshotId,
      './AppData/Wallpapers/Beach',
    );
    const mine = (await listAudit(t.ctx.db, { deviceId })).filter((a) => a.actor === agent.email);
    // The two earlier tests' reads (one plain, one search) and this test's picture.
    expect(mine.length - before).toBe(1);
    expect(mine.map((a) => a.action).sort()).toEqual(['snapshot.media-read', 'snapshot.viewed', 'snapshot.viewed']);
    expect(JSON.parse(mine.find((a) => a.action === 'snapshot.media-read')!.details!)).toEqual({
      snapshotId,
      path: './AppData/Wallpapers/Beach',
    });
    expect((await listAudit(t.ctx.db, { deviceId })).some((a) => a.actor === 'ada@example.org')).toBe(false);
  });

  it('says why an incomplete backup cannot be browsed', async () => {
    const { insertSnapshot } = await import('@/db/queries/snapshots');
    const s = await insertSnapshot(t.ctx.db, { deviceId, trigger: 'scheduled', categories: ['settings'] });
    const d = await snapshotBrowser(
      t.ctx.db,
      t.ctx.blobs,
      agent,
      { id: deviceId },
      { id: s.id, status: 'incomplete', error: 'the session ended' },
    );
    expect(d).toEqual({ browsable: false, problem: expect.stringMatching(/incomplete \(the session ended\)/) });
  });
});
