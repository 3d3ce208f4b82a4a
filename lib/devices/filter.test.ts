import { describe, expect, it } from 'vitest';
import { testDb } from '@/test/support/db';
import { countDevices, deviceListKey, deviceListPage, deviceWhere } from '@/db/queries/device-list';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { provisionDevice } from './devices';
import { firmwareKey, type DeviceSort } from './filter';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 7);

async function fleet() {
  const db = await testDb();
  const spec = [
    { n: 1, model: 'N1', fw: '1.9.7', backup: NOW - 2 * 3600_000, seen: NOW - 3600_000, msisdn: '447700900001' },
    { n: 2, model: 'N1', fw: '1.10.2', backup: NOW - 9 * DAY, seen: NOW - 20 * DAY, msisdn: '447700900002' },
    { n: 3, model: 'N1', fw: '2.0', backup: null, seen: null, msisdn: '33600000003' },
    { n: 4, model: 'X2', fw: '1.10.2', backup: NOW - 3 * DAY, seen: NOW - 3 * DAY, msisdn: '447700900004' },
    { n: 5, model: 'X2', fw: null, backup: null, seen: NOW - DAY / 2, msisdn: '33600000005' },
  ];
  for (const s of spec) {
    const devId = `IMEI:35693803564380${s.n}`;
    await provisionDevice(db, {
      devId,
      manufacturer: 'Nimbus',
      model: s.model,
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${s.n}`,
      clientPass: 'client-secret',
      serverPass: 'server-secret',
      msisdn: s.msisdn,
      subscriber: `Subscriber ${s.n}`,
    });
    const d = (await getDeviceByDevId(db, devId))!;
    await updateDevice(db, d.id, {
      firmware: s.fw,
      firmwareKey: firmwareKey(s.fw),
      lastGoodBackupAt: s.backup,
      lastSeenAt: s.seen,
    });
  }
  return db;
}

const nums = (r: Array<{ devId: string }>) => r.map((x) => Number(x.devId.slice(-1)));

describe('the device list filter', () => {
  it('orders firmware versions as versions', () => {
    expect(firmwareKey('1.10.2')! > firmwareKey('1.9.7')!).toBe(true);
    expect(firmwareKey('V2.0')! < firmwareKey('V10.0')!).toBe(true);
    expect(firmwareKey('')).toBeNull();
  });

  it('filters by model, firmware range, MSISDN prefix, backup age and coverage', async () => {
    const db = await fleet();
    const count = async (f: Parameters<typeof deviceWhere>[1]) => countDevices(db, await deviceWhere(db, f, NOW));
    expect(await count({})).toBe(5);
    expect(await count({ model: 'N1' })).toBe(3);
    expect(await count({ firmwareFrom: '1.10', firmwareTo: '1.10.9' })).toBe(2);
    expect(await count({ msisdnPrefix: '44' })).toBe(3);
    // No backup for 7 days includes the handsets never backed up.
    expect(await count({ model: 'N1', noBackupForDays: 7 })).toBe(2);
    expect(await count({ coverage: 'never' })).toBe(2);
    expect(await count({ coverage: 'week' })).toBe(1);
    expect(await count({ notSeenForDays: 7 })).toBe(2);
    expect(await count({ q: '356938035643805' })).toBe(1);
  });

  it('pages every sort both ways without repeating or losing a handset', async () => {
    const db = await fleet();
    const where = await deviceWhere(db, {}, NOW);
    for (const sort of ['devId', 'model', 'firmware', 'lastBackup', 'lastSeen'] as DeviceSort[])
      for (const dir of ['asc', 'desc'] as const) {
        const seen: number[] = [];
        let after;
        for (let i = 0; i < 10; i++) {
          const page = await deviceListPage(db, { where, sort, dir, after, limit: 2 });
          seen.push(...nums(page));
          if (page.length < 2) break;
          after = deviceListKey(page[page.length - 1]!, sort);
        }
        expect(seen.sort()).toEqual([1, 2, 3, 4, 5]);
      }
    // A page's clause (which keeps SQLite off the filter's indexes) matches what the count's does.
    const filters = [{ noBackupForDays: 7 }, { model: 'N1', coverage: 'never' as const }, { notSeenForDays: 7 }];
    for (const f of filters)
      for (const sort of ['devId', 'model', 'firmware', 'lastBackup', 'lastSeen'] as DeviceSort[]) {
        const paged = await deviceListPage(db, {
          where: await deviceWhere(db, f, NOW, { pageBy: sort }),
          sort,
          dir: 'asc',
          limit: 10,
        });
        expect(paged.length, `${JSON.stringify(f)} by ${sort}`).toBe(
          await countDevices(db, await deviceWhere(db, f, NOW)),
        );
      }
    const byBackup = await deviceListPage(db, { where, sort: 'lastBackup', dir: 'asc', limit: 10 });
    // Never backed up first (in id order between them), then oldest to newest.
    expect(nums(byBackup.slice(0, 2)).sort()).toEqual([3, 5]);
    expect(nums(byBackup.slice(2))).toEqual([2, 4, 1]);
  });
});
