import { describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { row } from '@/db/sql';
import { testDb } from '@/test/support/db';
import { getDeviceByDevId } from '@/db/queries/devices';
import { AppError } from '../core/errors';
import { provisionDevice } from './devices';

const base = {
  devId: 'IMEI:356938035643809',
  manufacturer: 'Nimbus',
  model: 'N1',
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'ada',
  clientPass: 's3cret',
  serverPass: 'srvs3cret',
};

describe('provisionDevice', () => {
  it('keeps the subscriber with their MSISDN and email, and only the derived secret for MD5', async () => {
    const db = await testDb();
    await provisionDevice(db, {
      ...base,
      msisdn: '+44 7700 900123',
      subscriber: 'Ada Lovelace',
      email: 'Ada@Example.org',
    });
    const d = (await getDeviceByDevId(db, base.devId))!;
    expect(d.clientPassword).toBeNull();
    expect(d.clientDerived).toMatch(/^[A-Za-z0-9+/]{22}==$/);
    const sub = await row(
      db,
      sql`select s.name, s.email, m.msisdn from subscribers s join msisdns m on m.subscriber_id = s.id where s.id = ${d.subscriberId}`,
    );
    expect(sub).toEqual({ name: 'Ada Lovelace', email: 'ada@example.org', msisdn: '447700900123' });
  });

  it('refuses a bad email with a field error and writes nothing', async () => {
    const db = await testDb();
    await expect(provisionDevice(db, { ...base, subscriber: 'Ada', email: 'not-an-email' })).rejects.toThrow(AppError);
    expect(await getDeviceByDevId(db, base.devId)).toBeUndefined();
  });
});
