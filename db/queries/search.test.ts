/** The search index kept in step with provisioning, and searched by every usual form of a number. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { closeDb, sqliteClient, type Db } from '../client';
import { prepareDb } from '../prepare';
import { column, exec, value } from '../sql';
import { testDb, testingPg } from '../../test/support/db';
import { provisionDevice } from '../../lib/devices/devices';
import { getDeviceByDevId, updateDevice } from './devices';
import { ensureSearchIndex, reindexAll, searchSubscribers } from './search';
import { updateSubscriber } from './subscribers';

const base = {
  manufacturer: 'Nimbus',
  model: 'N1',
  serverId: 'rewind',
  clientAuth: 'md5' as const,
  clientUser: 'u',
  clientPass: 'p',
  serverPass: 's',
};
const ADA_IMEI = 'IMEI:356938035643809';
const BOB_IMEI = 'IMEI:490154203237518';

let db: Db;
const names = async (q: string, limit?: number) => (await searchSubscribers(db, q, limit)).map((h) => h.name);
const terms = () => column<string>(db, sql`select term from search_terms order by term`);

beforeEach(async () => {
  db = await testDb();
  await provisionDevice(db, {
    ...base,
    devId: ADA_IMEI,
    subscriber: 'Ada Lovelace',
    msisdn: '+44 7700 900123',
    email: 'ada@example.org',
  });
  await provisionDevice(db, { ...base, devId: BOB_IMEI, subscriber: 'Bob Babbage', msisdn: '447700900456' });
});

describe('searchSubscribers', async () => {
  it('finds the same subscriber by every usual form of the MSISDN', async () => {
    for (const q of [
      '+44 7700 900123',
      '447700900123',
      '07700 900123',
      '0044 7700 900123',
      '+44 (0)7700 900123',
      '4477009001',
    ]) {
      expect(await names(q), q).toEqual(['Ada Lovelace']);
    }
    expect(await names('447700')).toEqual(['Ada Lovelace', 'Bob Babbage']);
    expect(await names('07700 900999')).toEqual([]);
  });

  it('finds a handset by its IMEI or part of it, and says which handset', async () => {
    const [hit] = await searchSubscribers(db, '35693803', 5);
    expect(hit).toMatchObject({
      name: 'Ada Lovelace',
      match: { kind: 'imei', value: '356938035643809' },
      device: { devId: ADA_IMEI, model: 'N1' },
    });
    expect(await names('IMEI:4901542')).toEqual(['Bob Babbage']);
  });

  it('finds names, surnames and emails by their start; says what matched; counts handsets', async () => {
    expect(await names('bab')).toEqual(['Bob Babbage']);
    expect(await names('bob b')).toEqual(['Bob Babbage']);
    expect(await names('ADA@EX')).toEqual(['Ada Lovelace']);
    const [hit] = await searchSubscribers(db, '07700 900123');
    expect(hit).toMatchObject({
      email: 'ada@example.org',
      msisdns: ['447700900123'],
      devices: 1,
      match: { kind: 'msisdn', value: '447700900123' },
    });
    expect(hit!.device).toBeUndefined();
  });

  it('puts an exact match first, and keeps to the limit', async () => {
    await provisionDevice(db, {
      ...base,
      devId: 'IMEI:353918052731247',
      subscriber: 'Adam Aardvark',
      msisdn: '447700900789',
    });
    await provisionDevice(db, {
      ...base,
      devId: 'IMEI:353918052731254',
      subscriber: 'Zed Ada',
      msisdn: '447700900790',
    });
    expect(await names('ada')).toEqual(['Ada Lovelace', 'Zed Ada', 'Adam Aardvark']);
    expect(await names('ada', 1)).toEqual(['Ada Lovelace']);
  });

  it('finds a name surname first, the end of an MSISDN or an IMEI, and a name with one typo', async () => {
    expect(await names('Lovelace Ada')).toEqual(['Ada Lovelace']);
    expect(await names('babbage, bob')).toEqual(['Bob Babbage']);
    expect(await names('900456')).toEqual(['Bob Babbage']);
    const [byImeiEnd] = await searchSubscribers(db, '643809');
    expect(byImeiEnd).toMatchObject({ name: 'Ada Lovelace', match: { kind: 'imei', value: '356938035643809' } });
    expect(byImeiEnd!.device).toMatchObject({ devId: ADA_IMEI });
    for (const q of ['Lovelase', 'lovleace', 'Ada Lovelce', 'babage']) expect(await names(q), q).toHaveLength(1);
    expect(await names('Lovlase')).toEqual([]);
  });

  it('ranks a start before an end, and looks for a typo only when nothing starts so', async () => {
    await provisionDevice(db, {
      ...base,
      devId: 'IMEI:353918052731247',
      subscriber: 'Ends Late',
      msisdn: '447700123900',
    });
    await provisionDevice(db, {
      ...base,
      devId: 'IMEI:353918052731254',
      subscriber: 'Starts Early',
      msisdn: '900123447',
    });
    expect(await names('900123')).toEqual(['Starts Early', 'Ada Lovelace']);
    await provisionDevice(db, {
      ...base,
      devId: 'IMEI:353918052731262',
      subscriber: 'Babbagex Smith',
      msisdn: '447700900791',
    });
    expect(await names('babbage')).toEqual(['Bob Babbage', 'Babbagex Smith']);
    expect(await names('babbagey')).toEqual(['Babbagex Smith', 'Bob Babbage']); // each one letter away
    expect(await names('lovelace')).toEqual(['Ada Lovelace']); // not "lovelace"'s neighbours too
  });

  it('is harmless with hostile or huge input', async () => {
    for (const q of [
      '%',
      '_',
      '_da',
      "' or 1=1 --",
      '"; drop table subscribers; --',
      '\\',
      '%%%%',
      '\u0000',
      'a'.repeat(100_000),
      '9'.repeat(5_000),
      '\ud800',
    ]) {
      expect(await names(q), q.slice(0, 20)).toEqual([]);
    }
    expect(await names('ada')).toEqual(['Ada Lovelace']); // everything still there
  });
});

describe('the index follows the data', async () => {
  it('a rename or a new email reindexes the subscriber', async () => {
    const id = (await getDeviceByDevId(db, ADA_IMEI))!.subscriberId!;
    await updateSubscriber(db, id, { name: 'Augusta King', email: 'augusta@example.org' });
    expect(await names('ada')).toEqual([]);
    expect(await names('king')).toEqual(['Augusta King']);
    expect(await names('augusta@')).toEqual(['Augusta King']);
    expect(await names('07700 900123')).toEqual(['Augusta King']);
  });

  it('a handset provisioned to someone else moves its IMEI term with it', async () => {
    await provisionDevice(db, { ...base, devId: ADA_IMEI, subscriber: 'Carol Clarke', msisdn: '447700900999' });
    expect(await names('3569380356')).toEqual(['Carol Clarke']);
    expect(await names('Ada')).toEqual(['Ada Lovelace']);
    expect((await searchSubscribers(db, 'Ada'))[0]!.devices).toBe(0);
  });

  it('a handset given a new owner by update moves too', async () => {
    const bob = (await getDeviceByDevId(db, BOB_IMEI))!;
    await updateDevice(db, (await getDeviceByDevId(db, ADA_IMEI))!.id, { subscriberId: bob.subscriberId });
    expect(await names('35693803')).toEqual(['Bob Babbage']);
    expect((await searchSubscribers(db, 'Bob'))[0]!.devices).toBe(2);
  });

  it('reindexAll rebuilds the same terms', async () => {
    const before = await terms();
    await exec(db, sql`delete from search_terms`);
    expect(await names('ada')).toEqual([]);
    expect(await reindexAll(db)).toBe(2);
    expect(await terms()).toEqual(before);
  });

  it('an index from before IMEIs were kept reversed is rebuilt when opened', async () => {
    await exec(db, sql`delete from search_terms where term >= 'v:' and term < 'w:'`);
    expect(await names('643809')).toEqual([]);
    await ensureSearchIndex(db);
    expect(await names('643809')).toEqual(['Ada Lovelace']);
  });

  it('a database without terms is indexed when opened', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-search-'));
    try {
      const first = await testDb(dir);
      await provisionDevice(first, { ...base, devId: ADA_IMEI, subscriber: 'Ada Lovelace', msisdn: '447700900123' });
      await exec(first, sql`delete from search_terms`);
      // What start-up does (db/client.ts prepareDb) to a database it opens.
      db = await prepareDb(first);
      expect(await names('07700 900123')).toEqual(['Ada Lovelace']);
      const count = async () => Number(await value(db, sql`select count(*) as n from search_terms`));
      const n = await count();
      await ensureSearchIndex(db); // not empty: nothing to do
      expect(await count()).toBe(n);
      await closeDb(db);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(testingPg())('every search is a range on the primary key', async () => {
    const plan = sqliteClient(db)!
      .prepare(
        'explain query plan select term, subscriber_id from search_terms where term >= ? and term < ? order by term limit 10',
      )
      .all('w:a', 'w:b') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(
      /USING (COVERING )?INDEX sqlite_autoindex_search_terms_1 \(term>\? AND term<\?\)/,
    );
  });
});
