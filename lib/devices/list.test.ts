/**
 * The /devices page's data (lib/devices/list.ts) and saved views (saved-views.ts): the filter
 * bar's options read by skipping through the indexes, the page with its count and next page,
 * a bad filter named, and a user's views saved, listed as links and deleted, each audited.
 */
import { describe, expect, it } from 'vitest';
import type { Db } from '@/db/client';
import { testDb } from '@/test/support/db';
import { listAudit } from '@/db/queries/audit';
import { countDevicesUpTo, deviceWhere } from '@/db/queries/device-list';
import { getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { createUser } from '../auth/users';
import { provisionDevice } from './devices';
import { deviceListPageView, DEVICE_PAGE_SIZE } from './list';
import { deleteDeviceView, deviceViewsOf, saveDeviceView } from './saved-views';

const NOW = Date.UTC(2026, 11, 7);

async function fleet(db: Db, n: number) {
  for (let i = 0; i < n; i++) {
    const devId = `IMEI:35693803${String(i).padStart(7, '0')}`;
    await provisionDevice(db, {
      devId,
      manufacturer: i % 3 === 2 ? 'Orbit' : 'Nimbus',
      model: ['N1', 'N2', 'O5'][i % 3]!,
      firmware: ['1.9.7', '1.10.2', 'V2.0'][i % 3],
      serverId: 'rewind',
      clientAuth: 'md5',
      clientUser: `u${i}`,
      clientPass: 'client-secret',
      serverPass: 'server-secret',
    });
    const d = (await getDeviceByDevId(db, devId))!;
    await updateDevice(db, d.id, { lastGoodBackupAt: i % 2 ? NOW - i * 3600_000 : null });
  }
}

describe('the device list page', () => {
  it('offers the models and firmware handsets report, and pages the filtered list with its count', async () => {
    const db = await testDb();
    await fleet(db, DEVICE_PAGE_SIZE + 10);
    const all = await deviceListPageView(db, {}, NOW);
    expect(all.options.models).toEqual(['N1', 'N2', 'O5']);
    expect(all.options.firmware).toEqual(['1.9.7', '1.10.2', 'V2.0']);
    expect(all.list!).toMatchObject({ total: DEVICE_PAGE_SIZE + 10, more: false });
    // A count stops one past its cap: "more than".
    expect(await countDevicesUpTo(db, await deviceWhere(db, { model: 'N1' }, NOW), 5)).toBe(6);
    expect(await countDevicesUpTo(db, await deviceWhere(db, { model: 'N1' }, NOW), 50)).toBe(20);
    expect(all.list!.items).toHaveLength(DEVICE_PAGE_SIZE);
    const next = new URL(all.list!.nextHref!, 'http://x').searchParams;
    const second = await deviceListPageView(db, Object.fromEntries(next), NOW);
    expect(second.list!.items).toHaveLength(10);
    expect(second.list!.nextHref).toBeNull();
    expect(second.list!.onFirstPage).toBe(false);

    const n1 = await deviceListPageView(db, { model: 'N1', coverage: 'never', sort: 'lastBackup' }, NOW);
    expect(n1.list!.items.every((d) => d.model === 'N1' && d.coverageWords === 'Never backed up')).toBe(true);
    expect(n1.list!.total).toBe(10);
    // The header sorts the other way round when it is the sort already; the CSV keeps the filters.
    expect(n1.list!.sorts.lastBackup).toMatchObject({ active: 'asc' });
    expect(n1.list!.sorts.lastBackup.href).toContain('dir=desc');
    expect(n1.list!.csvHref).toBe('/devices/export?model=N1&coverage=never&sort=lastBackup');

    const bad = await deviceListPageView(db, { coverage: 'sometimes', msisdnPrefix: '+44' }, NOW);
    expect(bad.list).toBeNull();
    expect(Object.keys(bad.error!.fieldErrors).sort()).toEqual(['coverage', 'msisdnPrefix']);
    expect(bad.form).toMatchObject({ coverage: 'sometimes' });
  });

  it("keeps a user's saved views, their own, as links; saving and deleting are audited", async () => {
    const db = await testDb();
    const ada = {
      userId: (await createUser(db, { email: 'ada@rewind.test', password: 'a long password', role: 'admin' })).id,
      email: 'ada@rewind.test',
    };
    const bob = {
      userId: (await createUser(db, { email: 'bob@rewind.test', password: 'a long password', role: 'agent' })).id,
      email: 'bob@rewind.test',
    };
    const v = await saveDeviceView(db, { name: 'Stale N1', search: 'model=N1&noBackupForDays=7&cursor=abc' }, ada);
    // Saving the same name again replaces it.
    await saveDeviceView(db, { name: 'Stale N1', search: 'model=N1&noBackupForDays=14' }, ada);
    expect(await deviceViewsOf(db, ada.userId)).toEqual([
      { id: v.id, name: 'Stale N1', href: '/devices?model=N1&noBackupForDays=14' },
    ]);
    expect(await deviceViewsOf(db, bob.userId)).toEqual([]);
    await expect(saveDeviceView(db, { name: 'Bad', search: 'coverage=sometimes' }, ada)).rejects.toThrow(/filter/);
    await expect(deleteDeviceView(db, v.id, bob)).rejects.toThrow(/No such saved view/);
    expect(await deleteDeviceView(db, v.id, ada)).toEqual({ name: 'Stale N1' });
    expect(await deviceViewsOf(db, ada.userId)).toEqual([]);
    const audit = (await listAudit(db)).filter((e) => e.action.startsWith('device-view.'));
    expect(audit.map((e) => [e.actor, e.action]).sort()).toEqual([
      ['ada@rewind.test', 'device-view.deleted'],
      ['ada@rewind.test', 'device-view.saved'],
      ['ada@rewind.test', 'device-view.saved'],
    ]);
  });
});
