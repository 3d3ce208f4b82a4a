import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors';
import type { Item } from '../message';
import { utf8Encode } from '../util/bytes';
import {
  BR,
  BR_ALERT,
  backupRequestAlert,
  brResultText,
  dataSyncExec,
  decodePayload,
  dsResultAlert,
  isBrSuccess,
  lastResultItem,
  localBackupExec,
  localBackupResultAlert,
  localManifestItems,
  localPaths,
  localRestoreExec,
  localRestoreResultAlert,
  parseBrAlert,
  parseCategories,
  parseDataSyncParams,
  parseLastResult,
  parseLocalBackupParams,
  parseLocalBackupResultAlert,
  parseLocalManifests,
  parseLocalRestoreParams,
  parsePolicy,
  parseRequestBackupParams,
  policyGetItems,
  policyReplaceItems,
  requestBackupExec,
  type LocalManifest,
} from './backup-restore';
import { buildGenericAlert, parseGenericAlert } from './generic-alert';

const manifest: LocalManifest = {
  id: 'lb-20250101T000000Z',
  target: 'smartcard',
  time: '2025-01-01T00:00:00.000Z',
  categories: ['settings', 'certificates'],
  entries: 42,
  size: 123456,
  rootHash: 'a'.repeat(64),
};

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return e instanceof DecodeError ? e.code : `not a DecodeError: ${String(e)}`;
  }
  return undefined;
}

describe('paths', () => {
  it('are rooted at ./Ext/Rewind/BR', () => {
    expect(BR.RequestBackup).toBe('./Ext/Rewind/BR/Operations/RequestBackup');
    expect(BR.PolicyInterval).toBe('./Ext/Rewind/BR/Policy/Interval');
    expect(BR.LastResult).toBe('./Ext/Rewind/BR/Status/LastResult');
    expect(localPaths('b1').RootHash).toBe('./Ext/Rewind/BR/Local/b1/RootHash');
    expect(() => localPaths('../x')).toThrow(RangeError);
    for (const p of Object.values(BR)) expect(p.startsWith('./Ext/Rewind/BR')).toBe(true);
  });
});

describe('policy', () => {
  it('round trips through Replace items with typed formats', () => {
    const policy = {
      enabled: true,
      intervalMinutes: 1440,
      categories: ['settings', 'appdata'] as const,
      wifiOnly: true,
      roamingAllowed: false,
    };
    const items = policyReplaceItems({ ...policy, categories: [...policy.categories] });
    expect(items.map((i) => [i.target!.locURI, i.meta!.format, i.data])).toEqual([
      [BR.PolicyEnabled, 'bool', 'true'],
      [BR.PolicyInterval, 'int', '1440'],
      [BR.PolicyCategories, 'chr', 'settings,appdata'],
      [BR.PolicyWifiOnly, 'bool', 'true'],
      [BR.PolicyRoamingAllowed, 'bool', 'false'],
    ]);
    const reported = items.map((i) => ({ source: i.target, data: i.data }));
    expect(parsePolicy(reported)).toEqual({ ...policy, categories: ['settings', 'appdata'] });
    expect(policyGetItems()).toHaveLength(5);
    expect(() => policyReplaceItems({ intervalMinutes: -5 })).toThrow(RangeError);
  });

  it('tolerates odd values from handsets', () => {
    expect(parseCategories(' Settings, firmware ,holograms,settings')).toEqual(['settings', 'firmware']);
    expect(
      parsePolicy([
        { source: { locURI: BR.PolicyInterval }, data: 'soon' },
        { source: { locURI: BR.PolicyEnabled }, data: '1' },
      ]),
    ).toEqual({ enabled: true });
  });
});

describe('Exec requests', () => {
  it('RequestBackup with and without parameters', () => {
    expect(requestBackupExec(3, 'job-1')).toEqual({
      kind: 'Exec',
      cmdId: 3,
      correlator: 'job-1',
      items: [{ target: { locURI: BR.RequestBackup } }],
    });
    const e = requestBackupExec(3, 'job-1', { categories: ['applications'] });
    expect(e.items[0]!.meta).toEqual({ format: 'chr', type: 'application/json' });
    expect(parseRequestBackupParams(e.items[0]!.data)).toEqual({ categories: ['applications'] });
    expect(parseRequestBackupParams(undefined)).toEqual({});
  });

  it('LocalBackup and LocalRestore round trip; bad parameters are DecodeErrors', () => {
    const lb = localBackupExec(4, 'j', { target: 'device', categories: ['settings', 'appdata'] });
    expect(lb.items[0]!.target!.locURI).toBe(BR.LocalBackup);
    expect(parseLocalBackupParams(lb.items[0]!.data)).toEqual({
      target: 'device',
      categories: ['settings', 'appdata'],
    });
    expect(code(() => parseLocalBackupParams('{"target":"cloud","categories":["settings"]}'))).toBe('invalid');
    expect(code(() => parseLocalBackupParams('{"target":"device","categories":[]}'))).toBe('invalid');
    expect(code(() => parseLocalBackupParams('{"target":"device","categories":["settings","sms"]}'))).toBe('invalid');
    expect(code(() => parseLocalBackupParams(undefined))).toBe('invalid');
    const lr = localRestoreExec(5, 'j', { id: manifest.id });
    expect(parseLocalRestoreParams(lr.items[0]!.data)).toEqual({ id: manifest.id });
    expect(code(() => parseLocalRestoreParams('{"id":"../../etc"}'))).toBe('invalid');
  });

  it('DataSync needs exactly one of password and passwordRef', () => {
    const p = {
      serverUrl: 'https://ds.example/sync',
      user: 'alice',
      passwordRef: './DSAcc/1',
      stores: ['contacts', 'calendar'] as ('contacts' | 'calendar')[],
      syncType: 'two-way' as const,
    };
    const e = dataSyncExec(6, 'j', p);
    expect(parseDataSyncParams(e.items[0]!.data)).toEqual(p);
    const withPw = dataSyncExec(6, 'j', { ...p, passwordRef: undefined, password: 'pw' });
    expect(parseDataSyncParams(withPw.items[0]!.data)).toMatchObject({ password: 'pw' });
    expect(() => dataSyncExec(6, 'j', { ...p, password: 'pw' })).toThrow(RangeError);
    expect(code(() => parseDataSyncParams(JSON.stringify({ ...p, password: 'x' })))).toBe('invalid');
    expect(code(() => parseDataSyncParams(JSON.stringify({ ...p, serverUrl: 'javascript:alert(1)' })))).toBe('invalid');
    expect(code(() => parseDataSyncParams(JSON.stringify({ ...p, syncType: 'sideways' })))).toBe('invalid');
  });

  it('hostile payloads', () => {
    expect(code(() => decodePayload('{'))).toBe('malformed');
    expect(code(() => decodePayload(new Uint8Array([0xff, 0xfe])))).toBe('malformed');
    expect(code(() => decodePayload('"' + 'x'.repeat(70_000) + '"'))).toBe('too-large');
    expect(code(() => decodePayload([{ name: 'X', children: [] }]))).toBe('invalid');
    expect(code(() => parseLocalBackupParams('[1,2]'))).toBe('invalid');
    expect(code(() => parseLocalBackupParams('null'))).toBe('invalid');
    const polluted = parseRequestBackupParams('{"categories":["settings"],"__proto__":{"polluted":true}}');
    expect(Object.getPrototypeOf(polluted)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(polluted)).toEqual(['categories']);
    expect(parseLocalBackupParams(utf8Encode('{"target":"device","categories":["firmware"]}'))).toEqual({
      target: 'device',
      categories: ['firmware'],
    });
  });
});

describe('Generic Alerts', () => {
  it('every alert type round trips through a 1226 Alert', () => {
    const items = [
      backupRequestAlert({ reason: 'policy', categories: ['settings'] }),
      localBackupResultAlert({ result: 200, manifest }),
      localRestoreResultAlert({ result: 404, id: 'gone' }),
      dsResultAlert({
        result: 200,
        stores: [{ store: 'contacts', added: 3, replaced: 1, deleted: 0, failed: 0, status: 200 }],
      }),
    ];
    const ga = parseGenericAlert(buildGenericAlert(9, items, 'job-9'))!;
    expect(ga.correlator).toBe('job-9');
    const parsed = ga.items.map((g) => parseBrAlert(g));
    expect(parsed.map((p) => p!.kind)).toEqual([
      'backupRequest',
      'localBackupResult',
      'localRestoreResult',
      'dsResult',
    ]);
    expect(parsed[0]).toEqual({
      kind: 'backupRequest',
      source: BR.RequestBackup,
      alert: { reason: 'policy', categories: ['settings'] },
    });
    expect(parsed[1]!.alert).toEqual({ result: 200, manifest });
    expect(parsed[2]!.alert).toEqual({ result: 404, id: 'gone' });
    expect(parsed[3]).toMatchObject({ source: BR.DataSync, alert: { stores: [{ store: 'contacts', added: 3 }] } });
    expect(items.map((i) => i.type)).toEqual([
      BR_ALERT.backupRequest,
      BR_ALERT.localBackupResult,
      BR_ALERT.localRestoreResult,
      BR_ALERT.dsResult,
    ]);
    expect(
      parseBrAlert({ type: 'org.openmobilealliance.dm.firmwareupdate.update', format: 'int', data: '200' }),
    ).toBeNull();
  });

  it('a bare backup request (button press on an old client) is a user request', () => {
    expect(parseBrAlert({ source: BR.RequestBackup, type: BR_ALERT.backupRequest, format: 'chr' })!.alert).toEqual({
      reason: 'user',
      categories: [],
    });
  });

  it('refuses results that do not add up', () => {
    const t = BR_ALERT.localBackupResult;
    expect(code(() => parseBrAlert({ type: t, format: 'chr', data: '{"result":200}' }))).toBe('invalid'); // success without manifest
    expect(parseBrAlert({ type: t, format: 'chr', data: '{"result":402}' })!.alert).toEqual({ result: 402 });
    expect(
      parseLocalBackupResultAlert(
        utf8Encode(JSON.stringify({ result: 251, manifest: { ...manifest, rootHash: 'A'.repeat(64) } })),
      ),
    ).toEqual({ result: 251, manifest: { ...manifest, rootHash: 'a'.repeat(64) } });
    expect(
      code(() =>
        parseBrAlert({
          type: t,
          format: 'chr',
          data: JSON.stringify({ result: 200, manifest: { ...manifest, rootHash: 'abc' } }),
        }),
      ),
    ).toBe('invalid');
    expect(
      code(() =>
        parseBrAlert({
          type: t,
          format: 'chr',
          data: JSON.stringify({ result: 200, manifest: { ...manifest, entries: -1 } }),
        }),
      ),
    ).toBe('invalid');
    expect(
      code(() =>
        parseBrAlert({
          type: t,
          format: 'chr',
          data: JSON.stringify({ result: 200, manifest: { ...manifest, time: 'yesterday' } }),
        }),
      ),
    ).toBe('invalid');
    expect(code(() => parseBrAlert({ type: t, format: 'chr', data: '{"result":20}' }))).toBe('invalid');
    expect(
      code(() =>
        parseBrAlert({
          type: BR_ALERT.dsResult,
          format: 'chr',
          data: '{"result":200,"stores":[{"store":"sms","added":1,"replaced":0,"deleted":0,"failed":0}]}',
        }),
      ),
    ).toBe('invalid');
  });

  it('result codes', () => {
    expect(isBrSuccess(200)).toBe(true);
    expect(isBrSuccess(406)).toBe(false);
    expect(brResultText(406)).toBe('Blocked by Policy');
    expect(brResultText(777)).toBe('Unknown Result Code');
  });
});

describe('Local listing and LastResult', () => {
  it('manifests round trip through the tree; incomplete ones are skipped', () => {
    const other = { ...manifest, id: 'lb2', target: 'device' as const, categories: ['firmware' as const] };
    const items: Item[] = [
      ...localManifestItems(manifest),
      ...localManifestItems(other).filter((i) => !i.source!.locURI.endsWith('RootHash')),
    ];
    expect(parseLocalManifests(items)).toEqual([manifest]);
    expect(parseLocalManifests(localManifestItems(other))).toEqual([other]);
  });

  it('LastResult', () => {
    const item = lastResultItem({ op: 'LocalBackup', result: 200, time: '2025-01-01T00:00:00Z', correlator: 'j' });
    expect(item.source!.locURI).toBe(BR.LastResult);
    expect(parseLastResult(item.data)).toEqual({
      op: 'LocalBackup',
      result: 200,
      time: '2025-01-01T00:00:00Z',
      correlator: 'j',
    });
    expect(code(() => parseLastResult('{"op":"Format","result":200,"time":"x"}'))).toBe('invalid');
  });
});
