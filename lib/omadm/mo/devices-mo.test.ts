import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Item } from '../message';
import { utf8Encode } from '../util/bytes';
import { dataText, isNodeName, itemPath, leafItem, nodeName, normalizePath, parseBool, parseUInt } from './common';
import { DEVDETAIL, devDetailGetItems, devDetailItems, parseDevDetail } from './devdetail';
import { DEVINFO, devInfoItems, isCompleteDevInfo, parseDevInfo } from './devinfo';
import {
  aauthTypeOf,
  dmAccAddItems,
  dmAccCredentialItems,
  dmAccPaths,
  parseDmAccounts,
  schemeOfAAuthType,
} from './dmacc';

const VECTORS = '/work/shared/omadm-vectors/spec-examples';

/** Source/Data pairs of the DevInfo Replace in a vector, read with a regex (the codec is tested elsewhere). */
function replaceItems(file: string): Item[] {
  const xml = readFileSync(`${VECTORS}/${file}`, 'utf8');
  const out: Item[] = [];
  for (const m of xml.matchAll(/<Source>\s*<LocURI>([^<]*)<\/LocURI>\s*<\/Source>[\s\S]*?<Data>([^<]*)<\/Data>/g)) {
    out.push({ source: { locURI: m[1]! }, data: m[2]! });
  }
  return out.filter((i) => i.source!.locURI.includes('DevInfo'));
}

describe('common', () => {
  it('normalizes paths', () => {
    expect(normalizePath('./DevInfo/DevId')).toBe('./DevInfo/DevId');
    expect(normalizePath('DevInfo/DevId/')).toBe('./DevInfo/DevId');
    expect(normalizePath(' ./SCOMO?list=StructData ')).toBe('./SCOMO');
    expect(normalizePath('.')).toBe('.');
    expect(normalizePath('/abs')).toBeUndefined();
    expect(normalizePath('a'.repeat(2000))).toBeUndefined();
    expect(normalizePath(undefined)).toBeUndefined();
  });

  it('node names and values', () => {
    expect(isNodeName('acc1')).toBe(true);
    for (const bad of ['', '.', '..', 'a/b', 'a?b', 'x'.repeat(65)]) expect(isNodeName(bad), bad).toBe(false);
    expect(() => nodeName('../x')).toThrow(RangeError);
    expect(parseBool(' TRUE ')).toBe(true);
    expect(parseBool('0')).toBe(false);
    expect(parseBool('yes')).toBeUndefined();
    expect(parseUInt('042')).toBe(42);
    expect(parseUInt('-1')).toBeUndefined();
    expect(parseUInt('1e3')).toBeUndefined();
    expect(parseUInt('9'.repeat(20))).toBeUndefined();
    expect(dataText(utf8Encode('héllo'))).toBe('héllo');
    expect(dataText(new Uint8Array([0xff]))).toBeUndefined();
    expect(dataText([{ name: 'X', children: [] }])).toBeUndefined();
    expect(itemPath({ source: { locURI: 'A/B' }, target: { locURI: './C' } })).toBe('./A/B');
    expect(leafItem('./A', 'v', { side: 'source', format: 'int' })).toEqual({
      source: { locURI: './A' },
      meta: { format: 'int' },
      data: 'v',
    });
  });
});

describe('DevInfo', () => {
  it('reads the DevInfo of the DM Protocol §2.6.1 package 1', () => {
    const d = parseDevInfo(replaceItems('oma-dm121-sec2.6.1-pkg1.xml'));
    expect(d).toEqual({
      devId: 'IMEI:493005100592800',
      man: 'Device Factory, Inc.',
      mod: 'SmartPhone2000',
      dmV: '1.0.0.1',
      lang: 'en-US',
    });
    expect(isCompleteDevInfo(d)).toBe(true);
  });

  it('reads the MS-MDM example too', () => {
    const d = parseDevInfo(replaceItems('ms-mdm-sec4-pkg1-client.xml'));
    expect(d).toMatchObject({ man: 'Microsoft Corporation', dmV: '1.3', lang: 'en-US' });
  });

  it('round trips and builds Source items with Format chr', () => {
    const info = { devId: 'IMEI:1', man: 'M', mod: 'X', dmV: '1.2', lang: 'en' };
    const items = devInfoItems(info);
    expect(items[0]).toEqual({
      source: { locURI: DEVINFO.DevId },
      meta: { format: 'chr', type: 'text/plain' },
      data: 'IMEI:1',
    });
    expect(items.map((i) => i.source!.locURI)).toEqual([
      DEVINFO.DevId,
      DEVINFO.Man,
      DEVINFO.Mod,
      DEVINFO.DmV,
      DEVINFO.Lang,
    ]);
    expect(parseDevInfo(items)).toEqual(info);
    expect(isCompleteDevInfo(parseDevInfo(items.slice(1)))).toBe(false);
  });
});

describe('DevDetail', () => {
  it('paths, get items and parse', () => {
    expect(DEVDETAIL.MaxDepth).toBe('./DevDetail/URI/MaxDepth');
    expect(devDetailGetItems().map((i) => i.target!.locURI)).toContain('./DevDetail/FwV');
    const d = {
      devTyp: 'phone',
      oem: 'Acme',
      fwV: '1.0',
      swV: '2.0',
      hwV: 'r3',
      lrgObj: true,
      maxDepth: 0,
      maxTotLen: 255,
      maxSegLen: 32,
    };
    expect(parseDevDetail(devDetailItems(d))).toEqual(d);
    // The MS-MDM example's typo path "./ DevDetail/HwV" is not DevDetail/HwV.
    expect(
      parseDevDetail([
        { source: { locURI: './ DevDetail/HwV' }, data: 'x' },
        { source: { locURI: DEVDETAIL.MaxDepth }, data: 'ten' },
      ]),
    ).toEqual({});
  });
});

describe('DMAcc', () => {
  const acc = {
    serverId: 'rewind',
    name: 'Rewind',
    addr: 'https://dm.example/dm',
    addrType: 'URI' as const,
    aauthPref: 'DIGEST' as const,
    auth: [
      { level: 'CLCRED' as const, type: 'DIGEST' as const, name: 'client', secret: 's1', data: 'bm9uY2U=' },
      { level: 'SRVCRED' as const, type: 'HMAC' as const, name: 'rewind', secret: 's2', data: 'AAAA' },
    ],
  };

  it('builds the account with parents before children', () => {
    const items = dmAccAddItems('rw', acc);
    const paths = items.map((i) => i.target!.locURI);
    for (const [i, p] of paths.entries()) {
      const parent = p.slice(0, p.lastIndexOf('/'));
      if (parent !== './DMAcc') expect(paths.indexOf(parent), p).toBeGreaterThanOrEqual(0);
      if (parent !== './DMAcc') expect(paths.indexOf(parent)).toBeLessThan(i);
    }
    expect(items[0]).toEqual({ target: { locURI: './DMAcc/rw' }, meta: { format: 'node' } });
    expect(items.find((i) => i.target!.locURI === './DMAcc/rw/AppID')!.data).toBe('w7');
    expect(items.find((i) => i.target!.locURI === './DMAcc/rw/AppAuth/CLCRED/AAuthData')!.meta!.format).toBe('b64');
    expect(dmAccPaths('rw').auth('SRVCRED').AAuthType).toBe('./DMAcc/rw/AppAuth/SRVCRED/AAuthType');
    expect(() => dmAccPaths('a/b')).toThrow(RangeError);
  });

  it('parses what it built (as a handset would report it)', () => {
    const reported = dmAccAddItems('rw', acc)
      .filter((i) => i.data !== undefined)
      .map((i) => ({ source: i.target, data: i.data }));
    const parsed = parseDmAccounts([...reported, { source: { locURI: './DMAcc/junk/Name' }, data: 'no server id' }]);
    expect([...parsed.keys()]).toEqual(['rw']);
    expect(parsed.get('rw')).toEqual(acc);
  });

  it('maps schemes and rotates credentials', () => {
    expect(aauthTypeOf('md5')).toBe('DIGEST');
    expect(schemeOfAAuthType('hmac')).toBe('hmac');
    expect(schemeOfAAuthType('X509')).toBeUndefined();
    expect(
      dmAccCredentialItems('rw', 'CLCRED', { secret: 'new', data: 'Tk9OQ0U=' }).map((i) => [i.target!.locURI, i.data]),
    ).toEqual([
      ['./DMAcc/rw/AppAuth/CLCRED/AAuthSecret', 'new'],
      ['./DMAcc/rw/AppAuth/CLCRED/AAuthData', 'Tk9OQ0U='],
    ]);
  });
});
