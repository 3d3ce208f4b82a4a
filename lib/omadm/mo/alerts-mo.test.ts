import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Alert, Item } from '../message';
import { utf8Encode } from '../util/bytes';
import {
  FUMO_ALERT,
  FumoState,
  fumoExec,
  fumoPaths,
  fumoPkgUrlItem,
  fumoResultText,
  isFumoSuccess,
  parseFumoResult,
  parseFumoState,
} from './fumo';
import { buildGenericAlert, buildGenericAlertItem, parseGenericAlert, parseGenericAlertItem } from './generic-alert';
import {
  SCOMO_ALERT_OPERATION_COMPLETE,
  deployedPaths,
  downloadAddItems,
  downloadPaths,
  parseInventory,
  parseScomoResult,
  scomoExec,
} from './scomo';

const VECTORS = '/work/shared/omadm-vectors/spec-examples';

describe('Generic Alert (DM Protocol §8.7)', () => {
  it('reads the §2.3.7 fragment', () => {
    const xml = readFileSync(`${VECTORS}/oma-dm121-sec2.3.7-generic-alert-fragment.xml`, 'utf8');
    const pick = (tag: string) => new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`).exec(xml)![1]!;
    // The fragment as the XML codec hands it over: text kept verbatim, whitespace and all.
    const alert: Alert = {
      kind: 'Alert',
      cmdId: Number(pick('CmdID')),
      data: pick('Data'),
      correlator: pick('Correlator'),
      items: [
        {
          source: { locURI: pick('LocURI') },
          meta: { type: pick('Type'), format: pick('Format'), mark: pick('Mark') },
          data: '',
        },
      ],
    };
    const g = parseGenericAlert(alert)!;
    expect(g.correlator).toBe('abc123');
    expect(g.items).toEqual([
      { source: './SyncML/Sample', type: 'org.domain.samplealert', format: 'xml', mark: 'critical', data: '' },
    ]);
  });

  it('ignores other alerts and items without a Type; round trips', () => {
    expect(parseGenericAlert({ kind: 'Alert', cmdId: 1, data: '1201', items: [] })).toBeNull();
    expect(parseGenericAlertItem({ meta: { format: 'chr' }, data: 'x' })).toBeNull();
    expect(parseGenericAlertItem({ meta: { type: 'a.b', mark: 'bogus' } })).toEqual({ type: 'a.b', format: 'chr' });
    const g = {
      source: './FwUpdate/1/Download',
      type: FUMO_ALERT.download,
      format: 'int',
      mark: 'warning' as const,
      data: '200',
    };
    const alert = buildGenericAlert(5, [g], 'job-1');
    expect(alert).toMatchObject({ kind: 'Alert', cmdId: 5, data: '1226', correlator: 'job-1' });
    expect(alert.items[0]).toEqual({
      source: { locURI: g.source },
      meta: { type: g.type, format: 'int', mark: 'warning' },
      data: '200',
    });
    expect(parseGenericAlert(alert)).toEqual({ correlator: 'job-1', items: [g] });
    expect(parseGenericAlertItem(buildGenericAlertItem({ type: 't', format: 'chr' }))).toEqual({
      type: 't',
      format: 'chr',
    });
  });
});

describe('FUMO', () => {
  it('paths and the spec Exec examples', () => {
    const xml = readFileSync(`${VECTORS}/oma-fumo-exec-examples-fragments.xml`, 'utf8');
    const targets = [...xml.matchAll(/<LocURI>([^<]*)<\/LocURI>/g)].map((m) => `./${m[1]!}`);
    const ops = ['download', 'update', 'downloadandupdate'] as const;
    expect(ops.map((op) => fumoExec(3, 'x', op, 'c').items[0]!.target!.locURI)).toEqual(targets);
    expect(fumoExec(3, './FwUpdate/1', 'update', 'job-7')).toEqual({
      kind: 'Exec',
      cmdId: 3,
      correlator: 'job-7',
      items: [{ target: { locURI: './FwUpdate/1/Update' } }],
    });
    const p = fumoPaths('./FwUpdate/1/');
    expect(p.DownloadPkgURL).toBe('./FwUpdate/1/Download/PkgURL');
    expect(p.UpdatePkgData).toBe('./FwUpdate/1/Update/PkgData');
    expect(p.State).toBe('./FwUpdate/1/State');
    expect(fumoPkgUrlItem('./FwUpdate/1', 'downloadandupdate', 'https://fw/x.bin')).toEqual({
      target: { locURI: './FwUpdate/1/DownloadAndUpdate/PkgURL' },
      meta: { format: 'chr' },
      data: 'https://fw/x.bin',
    });
    expect(() => fumoPaths('.')).toThrow(RangeError);
  });

  it('states and result codes', () => {
    expect(FumoState.UpdateSuccessfulNoData).toBe(100);
    expect(parseFumoState('60')).toBe(60);
    expect(parseFumoState('65')).toBeUndefined();
    expect(isFumoSuccess(200)).toBe(true);
    expect(isFumoSuccess(260)).toBe(true);
    expect(isFumoSuccess(402)).toBe(false);
    expect(fumoResultText(411)).toBe('Malformed or Bad URL');
    expect(fumoResultText(503)).toBe('Download Fails due to Network Issues');
    expect(fumoResultText(470)).toBe('Client Error - Vendor Specified');
    expect(fumoResultText(999)).toBe('Unknown Result Code');
  });

  it('parses the result alert', () => {
    const g = parseGenericAlertItem({
      source: { locURI: './FwUpdate/1/DownloadAndUpdate' },
      meta: { type: FUMO_ALERT.downloadandupdate, format: 'int' },
      data: ' 402 ',
    })!;
    expect(parseFumoResult(g)).toEqual({
      operation: 'downloadandupdate',
      root: './FwUpdate/1',
      resultCode: 402,
      success: false,
      description: 'Corrupted Firmware Update Package',
    });
    const ok = parseFumoResult({ type: FUMO_ALERT.update, format: 'int', data: utf8Encode('200') })!;
    expect(ok).toMatchObject({ operation: 'update', success: true });
    expect(ok.root).toBeUndefined();
    expect(parseFumoResult({ type: FUMO_ALERT.download, format: 'int', data: 'garbage' })!.resultCode).toBe(409);
    expect(parseFumoResult({ type: 'org.example.other', format: 'int', data: '200' })).toBeNull();
  });
});

describe('SCOMO', () => {
  it('paths and builders', () => {
    expect(deployedPaths('app1').op('Remove')).toBe('./SCOMO/Inventory/Deployed/app1/Operations/Remove');
    expect(downloadPaths('p1').op('DownloadInstallInactive')).toBe(
      './SCOMO/Download/p1/Operations/DownloadInstallInactive',
    );
    const items = downloadAddItems('p1', { pkgId: 'com.a', name: 'A', url: 'https://pkg/a' });
    expect(items.map((i) => [i.target!.locURI, i.data])).toEqual([
      ['./SCOMO/Download/p1', undefined],
      ['./SCOMO/Download/p1/PkgID', 'com.a'],
      ['./SCOMO/Download/p1/Name', 'A'],
      ['./SCOMO/Download/p1/PkgURL', 'https://pkg/a'],
    ]);
    expect(scomoExec(4, downloadPaths('p1').op('DownloadInstall'), 'j').correlator).toBe('j');
  });

  it('parses an inventory walk', () => {
    const leaf = (p: string, v: string): Item => ({ source: { locURI: p }, data: v });
    const inv = parseInventory([
      leaf('./SCOMO/Inventory/Deployed/a/ID', 'com.a'),
      leaf('./SCOMO/Inventory/Deployed/a/Name', 'A'),
      leaf('./SCOMO/Inventory/Deployed/a/Version', '1.2'),
      leaf('./SCOMO/Inventory/Deployed/a/State', '20'),
      leaf('SCOMO/Inventory/Deployed/b/ID', 'com.b'),
      leaf('./SCOMO/Inventory/Deployed/b/State', '10'),
      leaf('./SCOMO/Inventory/Deployed/c/Name', 'no id'),
      leaf('./SCOMO/Inventory/Deployed/a/Operations/Remove', ''),
    ]);
    expect(inv).toEqual([
      { node: 'a', id: 'com.a', name: 'A', version: '1.2', active: true },
      { node: 'b', id: 'com.b', active: false },
    ]);
  });

  it('parses OperationComplete in its bare, XML-text and XML-element forms', () => {
    const base = {
      source: './SCOMO/Download/p1/Operations/DownloadInstall',
      type: SCOMO_ALERT_OPERATION_COMPLETE,
      format: 'chr',
    };
    expect(parseScomoResult({ ...base, data: '1200' })).toMatchObject({
      resultCode: 1200,
      success: true,
      source: base.source,
    });
    expect(parseScomoResult({ ...base, data: '<ResultCode>1405</ResultCode><Identifier>com.a</Identifier>' })).toEqual({
      source: base.source,
      resultCode: 1405,
      success: false,
      description: 'Install Failed',
      identifier: 'com.a',
    });
    expect(
      parseScomoResult({
        ...base,
        format: 'xml',
        data: [
          { name: 'ResultCode', children: ['1200'] },
          { name: 'Identifier', children: [' com.b '] },
        ],
      }),
    ).toMatchObject({ resultCode: 1200, identifier: 'com.b' });
    expect(parseScomoResult({ ...base, data: 'nonsense' })!.resultCode).toBe(1412);
    expect(parseScomoResult({ ...base, type: FUMO_ALERT.update, data: '1200' })).toBeNull();
  });
});
