import { describe, it, expect } from 'vitest';
import { parseXml, serializeXml } from './xml';
import { commandToElement, elementToMessage, messageToElement } from './syncml';
import { decodeMessage } from './index';
import { DecodeError } from '../errors';
import type { Command, SyncMLMessage } from '../message';

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr>';
const body = (xml: string, ns = 'SYNCML:SYNCML1.2'): SyncMLMessage =>
  elementToMessage(parseXml(`<SyncML xmlns="${ns}">${HDR}<SyncBody>${xml}</SyncBody></SyncML>`));
const first = (xml: string): Command => body(xml).body.commands[0]!;

function invalidMessage(xml: string): string {
  try {
    body(xml);
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    expect((e as DecodeError).code).toBe('invalid');
    return (e as DecodeError).message;
  }
  throw new Error('expected DecodeError(invalid)');
}

describe('elementToMessage', () => {
  it('is order-tolerant: Correlator before Data, Meta after Item, CmdID last', () => {
    const cmd = first(
      '<Alert><Correlator>c1</Correlator><Item><Data>d</Data><Meta><Type xmlns="syncml:metinf">org.x</Type></Meta><Source><LocURI>./a</LocURI></Source></Item><Data>1226</Data><CmdID>3</CmdID></Alert>',
    );
    expect(cmd).toStrictEqual({
      kind: 'Alert',
      cmdId: 3,
      data: '1226',
      correlator: 'c1',
      items: [{ source: { locURI: './a' }, meta: { type: 'org.x' }, data: 'd' }],
    });
  });

  it('ignores unknown elements and commands', () => {
    const m = body(
      '<Search><CmdID>9</CmdID></Search><Get><CmdID>2</CmdID><Vendor>x</Vendor><Item><Target><LocURI>./x</LocURI><Filter/></Target><SourceParent><LocURI>p</LocURI></SourceParent></Item></Get><Final/>',
    );
    expect(m.body).toStrictEqual({
      commands: [{ kind: 'Get', cmdId: 2, items: [{ target: { locURI: './x' } }] }],
      final: true,
    });
  });

  it('accepts SyncML 1.1 and a missing namespace', () => {
    expect(body('<Final/>', 'SYNCML:SYNCML1.1').hdr.verDTD).toBe('1.2');
    expect(elementToMessage(parseXml(`<SyncML>${HDR}<SyncBody/></SyncML>`)).body).toStrictEqual({
      commands: [],
      final: false,
    });
  });

  it('reads MetInf fields, a MetInf wrapper, anchors and unknown MetInf as extra', () => {
    const cmd = first(
      '<Replace><CmdID>1</CmdID><Meta><MetInf xmlns="syncml:metinf"><Format>int</Format><Size>12</Size><MaxObjSize>65536</MaxObjSize><Anchor><Next>2</Next><Last>1</Last></Anchor><EMI>e</EMI></MetInf></Meta><Item><Target><LocURI>./x</LocURI></Target></Item></Replace>',
    );
    expect(cmd.kind === 'Replace' && cmd.meta).toStrictEqual({
      format: 'int',
      size: 12,
      maxObjSize: 65536,
      anchor: { last: '1', next: '2' },
      extra: [{ name: 'EMI', children: ['e'] }],
    });
  });

  it('keeps Data text exactly but trims everything else', () => {
    const cmd = first(
      '<Replace><CmdID> 4 </CmdID><Item><Target><LocURI>\n ./a b \n</LocURI></Target><Data>  two  spaces  </Data></Item></Replace>',
    );
    expect(cmd).toStrictEqual({
      kind: 'Replace',
      cmdId: 4,
      items: [{ target: { locURI: './a b' }, data: '  two  spaces  ' }],
    });
  });

  it('reads Data as text, opaque bytes or nested XML', () => {
    const nested = first(
      '<Put><CmdID>1</CmdID><Item><Data><DevInf xmlns="syncml:devinf"><Man>x</Man></DevInf></Data></Item></Put>',
    );
    expect(nested.kind === 'Put' && nested.items[0]!.data).toStrictEqual([
      { name: 'DevInf', ns: 'syncml:devinf', children: [{ name: 'Man', children: ['x'] }] },
    ]);
    const opaque = elementToMessage({
      name: 'SyncML',
      children: [
        parseXml(HDR),
        {
          name: 'SyncBody',
          children: [
            {
              name: 'Replace',
              children: [
                { name: 'CmdID', children: [new TextEncoder().encode('7')] },
                {
                  name: 'Item',
                  children: [
                    { name: 'Data', children: [new Uint8Array([0, 255])] },
                    { name: 'MoreData', children: [] },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(opaque.body.commands[0]).toStrictEqual({
      kind: 'Replace',
      cmdId: 7,
      items: [{ data: new Uint8Array([0, 255]), moreData: true }],
    });
  });

  it('reads Status, Results, Delete flags, Exec, Sync with nested commands, and Map', () => {
    const m = body(
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><TargetRef>a</TargetRef><TargetRef>b</TargetRef><Chal><Meta><NextNonce xmlns="syncml:metinf">bm9uY2U=</NextNonce></Meta></Chal><Data>401</Data></Status>' +
        '<Results><CmdID>2</CmdID><CmdRef>5</CmdRef><SourceRef>./x</SourceRef><Item><Source><LocURI>./x</LocURI></Source><Data>v</Data></Item></Results>' +
        '<Delete><CmdID>3</CmdID><SftDel/><NoResp/><Archive/><Item><Target><LocURI>./x</LocURI></Target></Item></Delete>' +
        '<Exec><CmdID>4</CmdID><Correlator>k</Correlator><Item><Target><LocURI>./F/Update</LocURI></Target></Item></Exec>' +
        '<Sync><CmdID>5</CmdID><NumberOfChanges>2</NumberOfChanges><Target><LocURI>db</LocURI></Target><Add><CmdID>6</CmdID><Item><Data>a</Data></Item></Add><Atomic><CmdID>7</CmdID><Delete><CmdID>8</CmdID></Delete></Atomic></Sync>' +
        '<Map><CmdID>9</CmdID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source><MapItem><Source><LocURI>l</LocURI></Source><Target><LocURI>g</LocURI></Target></MapItem></Map>',
    );
    expect(m.body.commands).toStrictEqual([
      {
        kind: 'Status',
        cmdId: 1,
        msgRef: 1,
        cmdRef: 0,
        cmd: 'SyncHdr',
        data: '401',
        targetRef: ['a', 'b'],
        chal: { meta: { nextNonce: 'bm9uY2U=' } },
      },
      { kind: 'Results', cmdId: 2, cmdRef: 5, sourceRef: './x', items: [{ source: { locURI: './x' }, data: 'v' }] },
      { kind: 'Delete', cmdId: 3, noResp: true, archive: true, sftDel: true, items: [{ target: { locURI: './x' } }] },
      { kind: 'Exec', cmdId: 4, correlator: 'k', items: [{ target: { locURI: './F/Update' } }] },
      {
        kind: 'Sync',
        cmdId: 5,
        target: { locURI: 'db' },
        numberOfChanges: 2,
        commands: [
          { kind: 'Add', cmdId: 6, items: [{ data: 'a' }] },
          { kind: 'Atomic', cmdId: 7, commands: [{ kind: 'Delete', cmdId: 8, items: [] }] },
        ],
      },
      {
        kind: 'Map',
        cmdId: 9,
        target: { locURI: 't' },
        source: { locURI: 's' },
        mapItems: [{ target: { locURI: 'g' }, source: { locURI: 'l' } }],
      },
    ]);
  });

  it.each([
    ['no CmdID', '<Get><Item><Target><LocURI>x</LocURI></Target></Item></Get>', /CmdID/],
    [
      'Status without Data',
      '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd></Status>',
      /Data/,
    ],
    [
      'Status without MsgRef',
      '<Status><CmdID>1</CmdID><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>',
      /MsgRef/,
    ],
    [
      'Target without LocURI',
      '<Get><CmdID>1</CmdID><Item><Target><LocName>n</LocName></Target></Item></Get>',
      /LocURI/,
    ],
    ['Alert without Data', '<Alert><CmdID>1</CmdID></Alert>', /Data/],
    ['Cred without Data', '<Alert><CmdID>1</CmdID><Cred><Meta/></Cred><Data>1201</Data></Alert>', /Data/],
    ['Map without Source', '<Map><CmdID>1</CmdID><Target><LocURI>t</LocURI></Target></Map>', /Source/],
    ['non-numeric Size', '<Get><CmdID>1</CmdID><Meta><Size xmlns="syncml:metinf">big</Size></Meta></Get>', /Size/],
  ])('missing or bad required parts -> invalid (%s)', (_, xml, re) => {
    expect(invalidMessage(xml)).toMatch(re);
  });

  it('refuses opaque text that is not UTF-8 where text is expected', () => {
    const root = parseXml(`<SyncML>${HDR}<SyncBody/></SyncML>`);
    const hdr = root.children[0] as { children: { name: string; children: unknown[] }[] };
    hdr.children.find((c) => c.name === 'SessionID')!.children = [new Uint8Array([0xff, 0xfe])];
    expect(() => elementToMessage(root)).toThrow(/SessionID is not UTF-8/);
  });

  it('requires every SyncHdr field', () => {
    for (const tag of ['VerDTD', 'VerProto', 'SessionID', 'MsgID', 'Target', 'Source']) {
      const hdr = HDR.replace(new RegExp(`<${tag}>.*?</${tag}>`), '');
      expect(() => elementToMessage(parseXml(`<SyncML>${hdr}<SyncBody/></SyncML>`))).toThrow(
        tag === 'Target' || tag === 'Source' ? /Target|Source/ : new RegExp(tag),
      );
    }
  });
});

describe('messageToElement', () => {
  it('writes DTD order whatever order the fields were set in', () => {
    const xml = serializeXml(
      commandToElement({
        kind: 'Status',
        items: [{ data: 'i' }],
        data: '200',
        chal: { meta: { nextNonce: 'n', format: 'b64', type: 'syncml:auth-md5' } },
        sourceRef: ['s'],
        targetRef: ['t'],
        cmd: 'Get',
        cmdRef: 4,
        msgRef: 2,
        cmdId: 9,
      }),
    );
    expect(xml).toBe(
      '<Status><CmdID>9</CmdID><MsgRef>2</MsgRef><CmdRef>4</CmdRef><Cmd>Get</Cmd><TargetRef>t</TargetRef><SourceRef>s</SourceRef>' +
        '<Chal><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type><NextNonce xmlns="syncml:metinf">n</NextNonce></Meta></Chal>' +
        '<Data>200</Data><Item><Data>i</Data></Item></Status>',
    );
  });

  it('writes the header, body and Final like the spec examples', () => {
    const el = messageToElement({
      hdr: {
        verDTD: '1.2',
        verProto: 'DM/1.2',
        sessionId: '1',
        msgId: 2,
        target: { locURI: 't' },
        source: { locURI: 's', locName: 'n' },
        meta: { maxMsgSize: 5000 },
      },
      body: {
        commands: [{ kind: 'Get', cmdId: 3, noResp: true, items: [{ target: { locURI: './x' }, moreData: true }] }],
        final: true,
      },
    });
    expect(serializeXml(el)).toBe(
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>2</MsgID>' +
        '<Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI><LocName>n</LocName></Source><Meta><MaxMsgSize xmlns="syncml:metinf">5000</MaxMsgSize></Meta></SyncHdr>' +
        '<SyncBody><Get><CmdID>3</CmdID><NoResp/><Item><Target><LocURI>./x</LocURI></Target><MoreData/></Item></Get><Final/></SyncBody></SyncML>',
    );
  });

  it('does not recurse on deeply nested commands', () => {
    let cmd: Command = { kind: 'Get', cmdId: 0, items: [] };
    for (let i = 0; i < 50_000; i++) cmd = { kind: 'Sequence', cmdId: i + 1, commands: [cmd] };
    const el = commandToElement(cmd);
    expect(el.name).toBe('Sequence');
    const msg = elementToMessage({ name: 'SyncML', children: [parseXml(HDR), { name: 'SyncBody', children: [el] }] });
    expect(msg.body.commands[0]!.cmdId).toBe(50_000);
  });

  it('decodeMessage from bytes end to end', () => {
    const m = decodeMessage(new TextEncoder().encode(`<SyncML>${HDR}<SyncBody><Final/></SyncBody></SyncML>`), 'xml');
    expect(m.body.final).toBe(true);
  });
});
