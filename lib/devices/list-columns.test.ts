/**
 * The device list's two denormalised columns stay true: firmware_key beside every firmware
 * written (and backfilled for rows from before it), last_good_backup_at as snapshots complete,
 * are deleted by retention or erasure, or change status.
 */
import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { testDb } from '@/test/support/db';
import { exec } from '@/db/sql';
import { backfillFirmwareKeys, getDevice, getDeviceByDevId, updateDevice } from '@/db/queries/devices';
import { deleteSnapshots, insertSnapshot, updateSnapshot } from '@/db/queries/snapshots';
import { deleteUnheldSnapshots } from '@/db/queries/retention';
import type { Db } from '@/db/client';
import { provisionDevice } from './devices';
import { firmwareKey } from './filter';

async function handset(db: Db, n: number, firmware?: string) {
  const devId = `IMEI:35693803564381${n}`;
  await provisionDevice(db, {
    devId,
    manufacturer: 'Nimbus',
    model: 'N1',
    serverId: 'rewind',
    clientAuth: 'md5',
    clientUser: `u${n}`,
    clientPass: 'client-secret',
    serverPass: 'server-secret',
    ...(firmware ? { firmware } : {}),
  });
  return (await getDeviceByDevId(db, devId))!;
}

async function completed(db: Db, deviceId: string, at: number) {
  const s = await insertSnapshot(db, { deviceId, trigger: 'on-demand', categories: ['settings'] });
  await updateSnapshot(db, s.id, { status: 'complete', rootHash: 'ab'.repeat(32), completedAt: at });
  return s.id;
}

describe("the device list's columns", () => {
  it('keys the firmware wherever it is written, and backfills rows without a key', async () => {
    const db = await testDb();
    const d = await handset(db, 1, '1.9.7');
    expect(d.firmwareKey).toBe(firmwareKey('1.9.7'));
    await updateDevice(db, d.id, { firmware: '1.10.2' });
    expect((await getDevice(db, d.id))!.firmwareKey).toBe(firmwareKey('1.10.2'));
    await updateDevice(db, d.id, { firmware: null });
    expect((await getDevice(db, d.id))!.firmwareKey).toBeNull();
    // Provisioning the same DevId again (an import) keys its new firmware.
    expect((await handset(db, 1, '2.0')).firmwareKey).toBe(firmwareKey('2.0'));

    // Rows from before the column: firmware set, key null.
    const e = await handset(db, 2, 'V10.0');
    await exec(db, sql`update devices set firmware_key = null`);
    expect(await backfillFirmwareKeys(db, 1)).toBe(2);
    expect((await getDevice(db, e.id))!.firmwareKey).toBe(firmwareKey('V10.0'));
    expect((await getDevice(db, d.id))!.firmwareKey).toBe(firmwareKey('2.0'));
    expect(await backfillFirmwareKeys(db)).toBe(0);
  });

  it('follows the newest complete backup as snapshots complete, fail and are deleted', async () => {
    const db = await testDb();
    const d = await handset(db, 3);
    const last = async () => (await getDevice(db, d.id))!.lastGoodBackupAt;
    expect(await last()).toBeNull();

    const older = await completed(db, d.id, 1_000_000);
    expect(await last()).toBe(1_000_000);
    const newer = await completed(db, d.id, 2_000_000);
    expect(await last()).toBe(2_000_000);

    // An incomplete or failed snapshot is no good backup.
    const failed = await insertSnapshot(db, { deviceId: d.id, trigger: 'scheduled', categories: ['settings'] });
    await updateSnapshot(db, failed.id, { status: 'failed', error: 'gone', completedAt: 3_000_000 });
    expect(await last()).toBe(2_000_000);

    // Retention (and erasure, which deletes through the same query) falls back to what is left.
    expect(await deleteUnheldSnapshots(db, [newer])).toBe(1);
    expect(await last()).toBe(1_000_000);
    // A held snapshot stays, and so does the time.
    await updateSnapshot(db, older, { legalHold: true });
    expect(await deleteUnheldSnapshots(db, [older])).toBe(0);
    expect(await last()).toBe(1_000_000);
    await deleteSnapshots(db, [older, failed.id]);
    expect(await last()).toBeNull();
  });
});
