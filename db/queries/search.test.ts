/** The search index kept in step with provisioning, and searched by every usual form of a number. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openDb, type Db } from '../client';
import { provisionDevice } from '../../lib/devices';
import { getDeviceByDevId, updateDevice } from './devices';
import { ensureSearchIndex, reindexAll, searchSubscribers } from './search';
import { updateSubscriber } from './subscribers';

const base = { manufacturer: 'Nimbus', model: 'N1', serverId: 'rewind', clientAuth: 'md5' as const, clientUser: 'u', clientPass: 'p', serverPass: 's' };
const ADA_IMEI = 'IMEI:356938035643809';
const BOB_IMEI = 'IMEI:490154203237518';

let db: Db;
const names = (q: string, limit?: number) => searchSubscribers(db, q, limit).map((h) => h.name);
const terms = () => (db.$client.prepare('select term from search_terms order by term').all() as Array<{ term: string }>).map((r) => r.term);

beforeEach(() => {
  db = openDb(':memory:');
  provisionDevice(db, { ...base, devId: ADA_IMEI, subscriber: 'Ada Lovelace', msisdn: '+44 7700 900123', email: 'ada@example.org' });
  provisionDevice(db, { ...base, devId: BOB_IMEI, subscriber: 'Bob Babbage', msisdn: '447700900456' });
});

describe('searchSubscribers', () => {
  it('finds the same subscriber by every usual form of the MSISDN', () => {
    for (const q of ['+44 7700 900123', '447700900123', '07700 900123', '0044 7700 900123', '+44 (0)7700 900123', '4477009001']) {
      expect(names(q), q).toEqual(['Ada Lovelace']);
    }
    expect(names('447700')).toEqual(['Ada Lovelace', 'Bob Babbage']);
    expect(names('07700 900999')).toEqual([]);
  });

  it('finds a handset by its IMEI or part of it, and says which handset', () => {
    const [hit] = searchSubscribers(db, '35693803', 5);
    expect(hit).toMatchObject({ name: 'Ada Lovelace', match: { kind: 'imei', value: '356938035643809' }, device: { devId: ADA_IMEI, model: 'N1' } });
    expect(names('IMEI:4901542')).toEqual(['Bob Babbage']);
  });

  it('finds names, surnames and emails by their start; says what matched; counts handsets', () => {
    expect(names('bab')).toEqual(['Bob Babbage']);
    expect(names('bob b')).toEqual(['Bob Babbage']);
    expect(names('ADA@EX')).toEqual(['Ada Lovelace']);
    const [hit] = searchSubscribers(db, '07700 900123');
    expect(hit).toMatchObject({ email: 'ada@example.org', msisdns: ['447700900123'], devices: 1, match: { kind: 'msisdn', value: '447700900123' } });
    expect(hit!.device).toBeUndefined();
  });

  it('puts an exact match first, and keeps to the limit', () => {
    provisionDevice(db, { ...base, devId: 'IMEI:353918052731247', subscriber: 'Adam Aardvark', msisdn: '447700900789' });
    provisionDevice(db, { ...base, devId: 'IMEI:353918052731254', subscriber: 'Zed Ada', msisdn: '447700900790' });
    expect(names('ada')).toEqual(['Ada Lovelace', 'Zed Ada', 'Adam Aardvark']);
    expect(names('ada', 1)).toEqual(['Ada Lovelace']);
  });

  it('is harmless with hostile or huge input', () => {
    for (const q of ['%', '_', '_da', "' or 1=1 --", '"; drop table subscribers; --', '\\', '%%%%', '\u0000', 'a'.repeat(100_000), '9'.repeat(5_000), '\ud800']) {
      expect(names(q), q.slice(0, 20)).toEqual([]);
    }
    expect(names('ada')).toEqual(['Ada Lovelace']); // everything still there
  });
});

describe('the index follows the data', () => {
  it('a rename or a new email reindexes the subscriber', () => {
    const id = getDeviceByDevId(db, ADA_IMEI)!.subscriberId!;
    updateSubscriber(db, id, { name: 'Augusta King', email: 'augusta@example.org' });
    expect(names('ada')).toEqual([]);
    expect(names('king')).toEqual(['Augusta King']);
    expect(names('augusta@')).toEqual(['Augusta King']);
    expect(names('07700 900123')).toEqual(['Augusta King']);
  });

  it('a handset provisioned to someone else moves its IMEI term with it', () => {
    provisionDevice(db, { ...base, devId: ADA_IMEI, subscriber: 'Carol Clarke', msisdn: '447700900999' });
    expect(names('3569380356')).toEqual(['Carol Clarke']);
    expect(names('Ada')).toEqual(['Ada Lovelace']);
    expect(searchSubscribers(db, 'Ada')[0]!.devices).toBe(0);
  });

  it('a handset given a new owner by update moves too', () => {
    const bob = getDeviceByDevId(db, BOB_IMEI)!;
    updateDevice(db, getDeviceByDevId(db, ADA_IMEI)!.id, { subscriberId: bob.subscriberId });
    expect(names('35693803')).toEqual(['Bob Babbage']);
    expect(searchSubscribers(db, 'Bob')[0]!.devices).toBe(2);
  });

  it('reindexAll rebuilds the same terms', () => {
    const before = terms();
    db.$client.prepare('delete from search_terms').run();
    expect(names('ada')).toEqual([]);
    expect(reindexAll(db)).toBe(2);
    expect(terms()).toEqual(before);
  });

  it('a database without terms is indexed when opened', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-search-'));
    try {
      const file = path.join(dir, 'rewind.db');
      const first = openDb(file);
      provisionDevice(first, { ...base, devId: ADA_IMEI, subscriber: 'Ada Lovelace', msisdn: '447700900123' });
      first.$client.prepare('delete from search_terms').run();
      first.$client.close();
      db = openDb(file);
      expect(names('07700 900123')).toEqual(['Ada Lovelace']);
      const count = () => (db.$client.prepare('select count(*) as n from search_terms').get() as { n: number }).n;
      const n = count();
      ensureSearchIndex(db); // not empty: nothing to do
      expect(count()).toBe(n);
      db.$client.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every search is a range on the primary key', () => {
    const plan = db.$client.prepare("explain query plan select term, subscriber_id from search_terms where term >= ? and term < ? order by term limit 10").all('w:a', 'w:b') as Array<{ detail: string }>;
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX sqlite_autoindex_search_terms_1 \(term>\? AND term<\?\)/);
  });
});
