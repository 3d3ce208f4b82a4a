import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMessage, encodeMessage } from './index';
import { elementToCommand, elementToMessage } from './syncml';
import { parseXml } from './xml';
import { isElement } from './element';
import type { XmlElement } from './element';
import type { Alert, Command, Exec, Replace, Sequence, Status } from '../message';

const DIR = '/work/shared/omadm-vectors/spec-examples';
const read = (f: string): Uint8Array => readFileSync(join(DIR, f));

/** Commands of a document that is a whole message, a SyncBody, or one command. */
function commandsOf(root: XmlElement): Command[] {
  if (root.name === 'SyncML') return elementToMessage(root).body.commands;
  if (root.name === 'SyncBody') return root.children.filter(isElement).map(elementToCommand);
  return [elementToCommand(root)];
}

describe('spec example vectors', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.xml'));

  it('finds the vectors', () => {
    expect(files.length).toBeGreaterThanOrEqual(11);
  });

  for (const f of files) {
    it(`${f} parses and maps`, () => {
      const root = parseXml(read(f));
      // The §2.4 examples elide their SyncBody with "..." (text where commands go); still maps.
      const cmds = commandsOf(root);
      if (!f.includes('sec2.4')) expect(cmds.length).toBeGreaterThan(0);
    });
  }

  const whole = [
    'oma-dm121-sec2.6.1-pkg1.xml',
    'oma-dm121-sec2.6.1-pkg2.xml',
    'oma-dm121-sec2.6.1-pkg3.xml',
    'oma-dm121-sec2.6.1-pkg4.xml',
    'ms-mdm-sec4-pkg1-client.xml',
    'ms-mdm-sec4-pkg2-server.xml',
    'ms-mdm-sec4-pkg3-client.xml',
  ];
  for (const f of whole) {
    it(`${f} round-trips through XML and WBXML`, () => {
      const msg = decodeMessage(read(f), 'xml');
      expect(decodeMessage(encodeMessage(msg, 'xml'), 'xml')).toStrictEqual(msg);
      expect(decodeMessage(encodeMessage(msg, 'wbxml'), 'wbxml')).toStrictEqual(msg);
    });
  }

  it('§2.6.1 pkg1: Alert 1200, DevInfo Replace items, MaxMsgSize and basic Cred', () => {
    const msg = decodeMessage(read('oma-dm121-sec2.6.1-pkg1.xml'), 'xml');
    expect(msg.hdr).toMatchObject({ verDTD: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: 1 });
    expect(msg.hdr.target.locURI).toBe('http://www.syncml.org/mgmt-server');
    expect(msg.hdr.meta?.maxMsgSize).toBe(5000);
    expect(msg.hdr.cred?.meta).toEqual({ type: 'syncml:auth-basic', format: 'b64' });
    const [alert, replace] = msg.body.commands as [Alert, Replace];
    expect(alert).toEqual({ kind: 'Alert', cmdId: 1, data: '1200', items: [] });
    expect(replace.kind).toBe('Replace');
    expect(replace.items.map((i) => [i.source?.locURI, i.data])).toEqual([
      ['./DevInfo/DevId', 'IMEI:493005100592800'],
      ['./DevInfo/Man', 'Device Factory, Inc.'],
      ['./DevInfo/Mod', 'SmartPhone2000'],
      ['./DevInfo/DmV', '1.0.0.1'],
      ['./DevInfo/Lang', 'en-US'],
    ]);
    expect(replace.items[0]!.meta).toEqual({ format: 'chr', type: 'text/plain' });
    expect(msg.body.final).toBe(true);
  });

  it('§2.6.1 pkg2: Status with CmdID out of order, Sequence with Alert 1101 and command-level Meta', () => {
    const msg = decodeMessage(read('oma-dm121-sec2.6.1-pkg2.xml'), 'xml');
    const [s0, , , seq] = msg.body.commands as [Status, Status, Status, Sequence];
    expect(s0).toEqual({
      kind: 'Status',
      cmdId: 6,
      msgRef: 1,
      cmdRef: 0,
      cmd: 'SyncHdr',
      data: '212',
      targetRef: ['http://www.syncml.org/mgmt-server'],
      sourceRef: ['IMEI:493005100592800'],
    });
    expect(seq.kind).toBe('Sequence');
    const [alert, replace] = seq.commands as [Alert, Replace];
    expect(alert.data).toBe('1101');
    expect(alert.items).toEqual([{}, { data: 'Do you want to add the CNN access point?' }]);
    // Pretty-printed Type text is trimmed; Data is kept exactly (here: only a comment).
    expect(replace.meta).toEqual({ format: 'b64', type: 'application/vnd.wap.connectivity-wbxml' });
    expect(replace.items[0]!.target?.locURI).toBe('./settings/wap_settings/CNN');
  });

  it('§2.4 MD5: Cred data and Chal NextNonce', () => {
    const p1 = elementToMessage(parseXml(read('oma-dm121-sec2.4-md5-example-pkg1.xml')));
    expect(p1.hdr.cred).toEqual({ meta: { type: 'syncml:auth-md5', format: 'b64' }, data: 'Zz6EivR3yeaaENcRN6lpAQ==' });
    expect(p1.hdr.source).toEqual({ locURI: 'IMEI:493005100592800', locName: 'Bruce2' });
    const p2 = elementToMessage(parseXml(read('oma-dm121-sec2.4-md5-example-pkg2.xml')));
    const st = p2.body.commands[0] as Status;
    expect(st.chal?.meta).toEqual({ type: 'syncml:auth-md5', format: 'b64', nextNonce: 'LG3iZQhhdmKNHg==' });
    expect(st.data).toBe('212');
  });

  it('Generic Alert fragment: Correlator, Meta Type trimmed, Mark', () => {
    const [alert] = commandsOf(parseXml(read('oma-dm121-sec2.3.7-generic-alert-fragment.xml'))) as [Alert];
    expect(alert).toMatchObject({ kind: 'Alert', cmdId: 2, data: '1226', correlator: 'abc123' });
    expect(alert.items[0]!.source?.locURI).toBe('./SyncML/Sample');
    expect(alert.items[0]!.meta).toEqual({
      type: 'Reversed-Domain-Name: org.domain.samplealert',
      format: 'xml',
      mark: 'critical',
    });
  });

  it('FUMO Exec fragments', () => {
    const cmds = commandsOf(parseXml(read('oma-fumo-exec-examples-fragments.xml'))) as Exec[];
    expect(cmds.map((c) => [c.kind, c.items[0]?.target?.locURI])).toEqual([
      ['Exec', 'x/Download'],
      ['Exec', 'x/Update'],
      ['Exec', 'x/DownloadAndUpdate'],
    ]);
  });

  it('MS-MDM pkg2 keeps the "./ DevDetail/HwV" target as written', () => {
    const msg = decodeMessage(read('ms-mdm-sec4-pkg2-server.xml'), 'xml');
    const targets = msg.body.commands
      .flatMap((c) => ('items' in c ? (c.items ?? []) : []))
      .map((i) => i.target?.locURI);
    expect(targets).toEqual(['./DevDetail/SwV', './ DevDetail/HwV']);
    const again = decodeMessage(encodeMessage(msg, 'xml'), 'xml');
    expect(again.body.commands[2]).toEqual({
      kind: 'Get',
      cmdId: 5,
      items: [{ target: { locURI: './ DevDetail/HwV' } }],
    });
  });

  it('MS-MDM pkg1/pkg3: client event alert and Results with Cmd ignored', () => {
    const p1 = decodeMessage(read('ms-mdm-sec4-pkg1-client.xml'), 'xml');
    expect(p1.body.commands[0]).toEqual({
      kind: 'Alert',
      cmdId: 2,
      data: '1224',
      items: [{ meta: { type: 'com.microsoft/MDM/LoginStatus' }, data: 'user' }],
    });
    const p3 = decodeMessage(read('ms-mdm-sec4-pkg3-client.xml'), 'xml');
    expect(p3.body.commands[3]).toEqual({
      kind: 'Results',
      cmdId: 4,
      msgRef: 1,
      cmdRef: 4,
      items: [
        { source: { locURI: './DevDetail/SwV' }, meta: { format: 'chr' }, data: '[software version returned here]' },
      ],
    });
  });
});
