import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors';
import type { XmlElement, XmlNode } from './element';
import { decodeWbxml, encodeWbxml, looksLikeWbxml } from './wbxml';
import { parseXml } from './xml';

const VECTORS = '/work/shared/omadm-vectors/spec-examples';
const vectorFiles = readdirSync(VECTORS)
  .filter((f) => /^(oma-dm121-sec2\.6\.1-pkg|oma-dm121-sec2\.4-md5-|ms-mdm-).*\.xml$/.test(f))
  .sort();

const SYNCML = 'SYNCML:SYNCML1.2';
const MI = 'syncml:metinf';
const DI = 'syncml:devinf';

function e(name: string, ...children: XmlNode[]): XmlElement {
  return { name, children };
}
function m(name: string, value: string): XmlElement {
  return { name, ns: MI, children: [value] };
}
function bytes(...parts: (number | string | number[])[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else for (const b of typeof p === 'string' ? new TextEncoder().encode(p) : p) out.push(b);
  }
  return new Uint8Array(out);
}
/** WBXML 1.2, SyncML 1.2 public id, UTF-8, empty string table. */
const HDR = [0x02, 0xa4, 0x01, 0x6a, 0x00];

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof DecodeError) return err.code;
    throw err;
  }
  return 'no-error';
}

function sampleMessage(): XmlElement {
  return {
    name: 'SyncML',
    ns: SYNCML,
    children: [
      e(
        'SyncHdr',
        e('VerDTD', '1.2'),
        e('VerProto', 'DM/1.2'),
        e('SessionID', '1'),
        e('MsgID', '1'),
        e('Target', e('LocURI', 'https://dm.example.com/dm')),
        e('Source', e('LocURI', 'IMEI:493005100592800')),
        e('Meta', m('MaxMsgSize', '5000'), m('MaxObjSize', '100000')),
      ),
      e(
        'SyncBody',
        e('Alert', e('CmdID', '1'), e('Data', '1201')),
        e(
          'Replace',
          e('CmdID', '2'),
          e(
            'Item',
            e('Source', e('LocURI', './DevInfo/Man')),
            e('Meta', m('Format', 'chr'), m('Type', 'text/plain')),
            e('Data', 'Device Factory, Inc.'),
          ),
          e(
            'Item',
            e('Source', e('LocURI', './DevInfo/Mod')),
            e('Meta', m('Format', 'chr'), m('Type', 'text/plain')),
            e('Data', 'SmartPhone2000 — ünïcødé 😀 <&>'),
          ),
          e(
            'Item',
            e('Source', e('LocURI', './Vendor/Photo')),
            e('Meta', m('Format', 'bin'), m('Type', 'image/jpeg')),
            e('Data', new Uint8Array([0xff, 0xd8, 0x00, 0x01, 0x02, 0x03, 0xff, 0xd9])),
          ),
        ),
        e('Final'),
      ),
    ],
  };
}

describe('encodeWbxml / decodeWbxml round trips', () => {
  for (const stringTable of [true, false]) {
    it(`round-trips a DM message with MetInf and opaque data (stringTable=${stringTable})`, () => {
      const tree = sampleMessage();
      const wb = encodeWbxml(tree, { stringTable });
      expect(decodeWbxml(wb)).toEqual(tree);
    });
  }

  it('keeps a string that starts with U+FEFF (content, not a byte-order mark)', () => {
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [
        e(
          'SyncHdr',
          e('SessionID', '\uFEFF'),
          e('LocName', '\uFEFFnamed and long enough to skip the ASCII fast path of the decoder'),
        ),
      ],
    };
    expect(decodeWbxml(encodeWbxml(tree, { stringTable: false }))).toEqual(tree);
  });

  it('writes the header xml2wbxml writes for SyncML 1.2 and exact tokens', () => {
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [e('SyncHdr', e('VerDTD', '1.2')), e('SyncBody', e('Final'))],
    };
    // SyncML(0x2d|C) SyncHdr(0x2c|C) VerDTD(0x31|C) STR_I "1.2" END END SyncBody(0x2b|C) Final(0x12) END END
    expect(Array.from(encodeWbxml(tree))).toEqual(
      Array.from(bytes(HDR, 0x6d, 0x6c, 0x71, 0x03, '1.2', 0x00, 0x01, 0x01, 0x6b, 0x12, 0x01, 0x01)),
    );
  });

  it('switches to the MetInf page lazily and back only for the next SyncML tag', () => {
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [e('SyncHdr', e('Meta', m('MaxMsgSize', '5000'), m('Type', 'x')), e('MsgID', '2'))],
    };
    expect(Array.from(encodeWbxml(tree, { stringTable: false }))).toEqual(
      Array.from(
        bytes(
          HDR,
          0x6d,
          0x6c,
          0x5a,
          0x00,
          0x01,
          0x4c,
          0x03,
          '5000',
          0x00,
          0x01,
          0x53,
          0x03,
          'x',
          0x00,
          0x01,
          0x01, // END Meta: END is page-independent, no switch
          0x00,
          0x00,
          0x5b,
          0x03,
          '2',
          0x00,
          0x01,
          0x01,
          0x01,
        ),
      ),
    );
  });

  it('shares repeated strings through the string table, and only when it pays', () => {
    const path = './Vendor/Rewind/Backup/Contacts/1/Name';
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [
        e('SyncBody', ...Array.from({ length: 5 }, () => e('Item', e('Source', e('LocURI', path)), e('Data', 'ab')))),
      ],
    };
    const withTable = encodeWbxml(tree);
    const without = encodeWbxml(tree, { stringTable: false });
    expect(decodeWbxml(withTable)).toEqual(tree);
    expect(decodeWbxml(without)).toEqual(tree);
    expect(withTable.length).toBeLessThan(without.length - 3 * path.length);
    const text = new TextDecoder().decode(withTable);
    // Once in the table, never inline; the short "ab" stays inline.
    expect(text.split(path).length - 1).toBe(1);
    expect(withTable[4]).toBe(path.length + 1); // string table length
    expect(text.split('ab\u0000').length - 1).toBe(5);
  });

  it('writes unknown element names as LITERAL tags through the string table in both modes', () => {
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [
        e('SyncHdr', e('VerDTD', '1.2'), e('XVendorExt', 'x'), e('XEmpty')),
        e('SyncBody', m('FutureMetInf', 'y')),
      ],
    };
    for (const stringTable of [true, false]) {
      const wb = encodeWbxml(tree, { stringTable });
      expect(decodeWbxml(wb)).toEqual(tree);
      expect(wb.includes(0x44)).toBe(true); // LITERAL_C
    }
  });

  it('round-trips a standalone DevInf 1.2 document under its own public id', () => {
    const devinf: XmlElement = {
      name: 'DevInf',
      ns: DI,
      children: [
        e('VerDTD', '1.2'),
        e('Man', 'Acme'),
        e('Mod', 'X1'),
        e('DevID', 'IMEI:1'),
        e('DevTyp', 'phone'),
        e('UTC'),
        e('SupportLargeObjs'),
        e(
          'DataStore',
          e('SourceRef', './contacts'),
          e('Rx-Pref', e('CTType', 'text/x-vcard'), e('VerCT', '2.1')),
          e('SyncCap', e('SyncType', '1'), e('SyncType', '2')),
        ),
      ],
    };
    const wb = encodeWbxml(devinf);
    expect(Array.from(wb.subarray(0, 3))).toEqual([0x02, 0xa4, 0x03]); // 0x1203
    expect(decodeWbxml(wb)).toEqual(devinf);
    expect(looksLikeWbxml(wb)).toBe(true);
  });

  it('round-trips a standalone MetInf document (tokens on page 1)', () => {
    const metinf: XmlElement = {
      name: 'MetInf',
      ns: MI,
      children: [m('Type', 'text/plain'), m('Size', '12')].map((x) => ({ name: x.name, children: x.children })),
    };
    const wb = encodeWbxml(metinf);
    expect(Array.from(wb.subarray(0, 3))).toEqual([0x02, 0xa4, 0x02]); // 0x1202
    expect(decodeWbxml(wb)).toEqual(metinf);
  });

  it('carries DevInf inside a SyncML Data as a nested WBXML document in OPAQUE', () => {
    const devinf: XmlElement = { name: 'DevInf', ns: DI, children: [e('VerDTD', '1.2'), e('Man', 'Acme')] };
    const tree: XmlElement = {
      name: 'SyncML',
      ns: SYNCML,
      children: [
        e(
          'SyncBody',
          e(
            'Put',
            e('CmdID', '1'),
            e('Meta', m('Type', 'application/vnd.syncml-devinf+wbxml')),
            e('Item', e('Source', e('LocURI', './devinf12')), e('Data', devinf)),
          ),
        ),
      ],
    };
    const out = decodeWbxml(encodeWbxml(tree));
    const data = (((out.children[0] as XmlElement).children[0] as XmlElement).children[2] as XmlElement)
      .children[1] as XmlElement;
    expect(data.name).toBe('Data');
    const opaque = data.children[0];
    expect(opaque).toBeInstanceOf(Uint8Array);
    expect(looksLikeWbxml(opaque as Uint8Array)).toBe(true);
    expect(decodeWbxml(opaque as Uint8Array)).toEqual(devinf);
  });

  it('encodes NUL as ENTITY and decodes numeric entities into text', () => {
    const tree: XmlElement = { name: 'SyncML', ns: SYNCML, children: [e('SyncBody', e('Data', 'a\u0000b'))] };
    expect(decodeWbxml(encodeWbxml(tree))).toEqual(tree);
    // STR_I "a" ENTITY 0x263A STR_I "b" -> one text node.
    const wb = bytes(HDR, 0x4f, 0x03, 'a', 0x00, 0x02, 0xcc, 0x3a, 0x03, 'b', 0x00, 0x01);
    expect(decodeWbxml(wb)).toEqual({ name: 'Data', ns: SYNCML, children: ['a\u263ab'] });
  });

  it('drops empty text rather than inventing content flags', () => {
    const tree: XmlElement = { name: 'SyncML', ns: SYNCML, children: [e('SyncBody', e('Data', ''))] };
    expect(decodeWbxml(encodeWbxml(tree))).toEqual({
      name: 'SyncML',
      ns: SYNCML,
      children: [e('SyncBody', e('Data'))],
    });
  });

  it('refuses to encode namespaces WBXML has no code page for', () => {
    expect(() => encodeWbxml({ name: 'x', ns: 'urn:nope', children: [] })).toThrow(/namespace/);
  });
});

describe('decodeWbxml header variants', () => {
  const body = [0x6d, 0x71, 0x03, '1.2', 0x00, 0x01, 0x01];

  it('accepts the public id as a string-table literal, as DM clients often send it', () => {
    const fpi = '-//SYNCML//DTD SyncML 1.2//EN';
    const wb = bytes(0x02, 0x00, 0x00, 0x6a, fpi.length + 1, fpi, 0x00, ...body);
    expect(decodeWbxml(wb)).toEqual({ name: 'SyncML', ns: SYNCML, children: [e('VerDTD', '1.2')] });
  });

  it('treats public id "unknown" as SyncML 1.2, reads SyncML 1.1 and WBXML 1.1/1.3', () => {
    expect(decodeWbxml(bytes(0x03, 0x01, 0x6a, 0x00, ...body)).ns).toBe(SYNCML);
    expect(decodeWbxml(bytes(0x01, 0x9f, 0x53, 0x6a, 0x00, ...body)).ns).toBe('SYNCML:SYNCML1.1');
  });

  it('accepts US-ASCII but rejects non-ASCII bytes in it', () => {
    expect(decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x03, 0x00, ...body)).name).toBe('SyncML');
    expect(
      codeOf(() => decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x03, 0x00, 0x6d, 0x71, 0x03, 0xc3, 0xa9, 0x00, 0x01, 0x01))),
    ).toBe('malformed');
  });

  it('rejects what SyncML does not use with "unsupported"', () => {
    expect(codeOf(() => decodeWbxml(bytes(0x04, 0xa4, 0x01, 0x6a, 0x00, ...body)))).toBe('unsupported'); // version
    expect(codeOf(() => decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x04, 0x00, ...body)))).toBe('unsupported'); // ISO-8859-1
    expect(codeOf(() => decodeWbxml(bytes(0x02, 0x81, 0x00, 0x6a, 0x00, ...body)))).toBe('unsupported'); // public id 0x80
    expect(codeOf(() => decodeWbxml(bytes(0x02, 0x00, 0x00, 0x6a, 0x04, 'abc', 0x00, ...body)))).toBe('unsupported'); // literal FPI
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0xed, 0x01)))).toBe('unsupported'); // attributes
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0xc0, 0x01)))).toBe('unsupported'); // EXT_0
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0x43, 0x01)))).toBe('unsupported'); // PI
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0x00, 0x07, 0x45, 0x01, 0x01)))).toBe('unsupported'); // page 7
  });

  it('rejects broken structure with "malformed"', () => {
    const bad: Uint8Array[] = [
      bytes(HDR, 0x6d, 0x7f, 0x01, 0x01), // unknown token 0x3f on page 0
      bytes(HDR, 0x6d, 0x01, 0x01), // END after the root closed
      bytes(HDR, 0x6d, 0x01, 0x00), // trailing bytes
      bytes(HDR, 0x03, 'x', 0x00), // text before the root
      bytes(HDR, 0x6d, 0x03, 0xff, 0xfe, 0x00, 0x01), // invalid UTF-8
      bytes(HDR, 0x6d, 0x83, 0x00, 0x01), // STR_T with an empty string table
      bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'a', 'b', 0x6d, 0x83, 0x00, 0x01), // unterminated table string
      bytes(HDR, 0x6d, 0x02, 0x84, 0xe0, 0x80, 0x01, 0x01), // ENTITY above U+10FFFF
      bytes(HDR, 0x6d, 0x02, 0x83, 0xb0, 0x00, 0x01), // ENTITY U+D800
      bytes(HDR, 0x6d, 0xc3, 0x05, 0x01, 0x01), // OPAQUE longer than what is left
      bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'F', 0x00, 0x44, 0x00, 0x01), // LITERAL root; fine...
    ];
    for (const b of bad.slice(0, -1))
      expect(
        codeOf(() => decodeWbxml(b)),
        Array.from(b).join(','),
      ).toBe('malformed');
    // ...the last one is valid: a literal root element named F.
    expect(decodeWbxml(bad[bad.length - 1]!)).toEqual({ name: 'F', ns: SYNCML, children: [] });
    // A literal name that is not an XML name cannot become an element.
    expect(codeOf(() => decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x6a, 0x03, '<x', 0x00, 0x04)))).toBe('malformed');
  });
});

describe('decodeWbxml limits and hostile input', () => {
  it('rejects a 10,000-deep nesting with too-deep, fast', () => {
    const deep = bytes(HDR, 0x6d, ...new Array<number>(10_000).fill(0x54));
    const t = performance.now();
    expect(codeOf(() => decodeWbxml(deep))).toBe('too-deep');
    expect(performance.now() - t).toBeLessThan(1000);
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0x54, 0x54, 0x01, 0x01, 0x01), { maxDepth: 2 }))).toBe('too-deep');
    expect(decodeWbxml(bytes(HDR, 0x6d, 0x54, 0x14, 0x01, 0x01), { maxDepth: 2 }).name).toBe('SyncML');
  });

  it('rejects a mb_u_int32 length claiming 4 GB with malformed, fast', () => {
    const t = performance.now();
    // OPAQUE of 2^32-1 bytes.
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x01)))).toBe('malformed');
    // String table of 2^32-1 bytes.
    expect(codeOf(() => decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x6a, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x6d, 0x01)))).toBe(
      'malformed',
    );
    // STR_T index of 2^32-1.
    expect(
      codeOf(() =>
        decodeWbxml(bytes(0x02, 0xa4, 0x01, 0x6a, 0x02, 'a', 0x00, 0x6d, 0x83, 0x8f, 0xff, 0xff, 0xff, 0x7f, 0x01)),
      ),
    ).toBe('malformed');
    // Above 2^32, and longer than 5 bytes.
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0xc3, 0x90, 0x80, 0x80, 0x80, 0x00, 0x01)))).toBe('malformed');
    expect(codeOf(() => decodeWbxml(bytes(HDR, 0x6d, 0xc3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01)))).toBe(
      'malformed',
    );
    expect(performance.now() - t).toBeLessThan(50);
  });

  it('rejects 100 MB with too-large before reading it', () => {
    const huge = new Uint8Array(100 * 1024 * 1024);
    const t = performance.now();
    expect(codeOf(() => decodeWbxml(huge))).toBe('too-large');
    expect(performance.now() - t).toBeLessThan(50);
    expect(codeOf(() => decodeWbxml(encodeWbxml(sampleMessage()), { maxBytes: 100 }))).toBe('too-large');
  });

  it('charges string-table expansion against maxBytes (no amplification), fast', () => {
    const big = 'a'.repeat(200_000);
    const mb = (v: number): number[] => {
      const out = [v & 0x7f];
      for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) out.unshift((v & 0x7f) | 0x80);
      return out;
    };
    const withTable = (refs: number[][]): Uint8Array =>
      bytes(0x02, 0xa4, 0x01, 0x6a, mb(big.length + 1), big, 0x00, 0x4f, refs.flat(), 0x01);
    const t = performance.now();
    // The same 200 KB string 10,000 times: 2 GB of text from 230 KB of input.
    const same = withTable(Array.from({ length: 10_000 }, () => [0x83, 0x00]));
    expect(codeOf(() => decodeWbxml(same))).toBe('too-large');
    // 50,000 different suffixes of it: quadratic work if each reference rescanned the table.
    const suffixes = withTable(Array.from({ length: 50_000 }, (_, i) => [0x83, ...mb(i)]));
    expect(codeOf(() => decodeWbxml(suffixes))).toBe('too-large');
    expect(performance.now() - t).toBeLessThan(1000);
    // Honest sharing within the limit still decodes.
    const fine = decodeWbxml(
      withTable([
        [0x83, 0x00],
        [0x83, 0x00],
      ]),
    );
    expect(fine.children).toEqual([big + big]);
  });

  it('enforces maxElements', () => {
    const wb = encodeWbxml(sampleMessage());
    expect(codeOf(() => decodeWbxml(wb, { maxElements: 10 }))).toBe('too-many-elements');
  });

  it('throws malformed for every truncation of a real message', () => {
    for (const stringTable of [true, false]) {
      const wb = encodeWbxml(sampleMessage(), { stringTable });
      for (let n = 0; n < wb.length; n++) {
        expect(
          codeOf(() => decodeWbxml(wb.subarray(0, n))),
          `prefix ${n}/${wb.length}`,
        ).toBe('malformed');
      }
    }
  });

  it('throws only DecodeError on random bytes (bare, and behind a valid header)', () => {
    const headers = [
      [],
      [0x02, 0xa4, 0x01, 0x6a, 0x00],
      [0x03, 0x01, 0x6a, 0x00],
      [0x02, 0xa4, 0x03, 0x6a, 0x00],
      [0x02, 0x00, 0x00, 0x6a, 0x1e, ...new TextEncoder().encode('-//SYNCML//DTD SyncML 1.2//EN'), 0x00],
    ];
    fc.assert(
      fc.property(fc.constantFrom(...headers), fc.uint8Array({ maxLength: 300 }), (h, body) => {
        const input = bytes(h, Array.from(body));
        try {
          const el = decodeWbxml(input);
          expect(typeof el.name).toBe('string');
        } catch (err) {
          if (!(err instanceof DecodeError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('throws only DecodeError when a valid message is mutated', () => {
    const base = encodeWbxml(sampleMessage());
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.nat(base.length - 1),
            fc.integer({ min: 0, max: 255 }),
            fc.constantFrom('set', 'insert', 'delete'),
          ),
          { minLength: 1, maxLength: 6 },
        ),
        (edits) => {
          const b = Array.from(base);
          for (const [at, v, op] of edits) {
            const i = Math.min(at, b.length - 1);
            if (op === 'set') b[i] = v;
            else if (op === 'insert') b.splice(i, 0, v);
            else if (b.length > 1) b.splice(i, 1);
          }
          try {
            decodeWbxml(new Uint8Array(b));
          } catch (err) {
            if (!(err instanceof DecodeError)) throw err;
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

describe('spec vectors through WBXML', () => {
  it('finds the vectors', () => {
    expect(vectorFiles.length).toBeGreaterThanOrEqual(9);
  });
  for (const f of vectorFiles) {
    it(`${f}: parseXml -> encodeWbxml -> decodeWbxml keeps the tree`, () => {
      const tree = parseXml(readFileSync(join(VECTORS, f), 'utf8'));
      for (const stringTable of [true, false]) {
        const wb = encodeWbxml(tree, { stringTable });
        expect(decodeWbxml(wb)).toEqual(tree);
      }
    });
  }
});
