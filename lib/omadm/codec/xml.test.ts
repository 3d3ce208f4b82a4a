import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { parseXml, serializeXml, serializedXmlSize } from './xml';
import { utf8Length } from '../util/bytes';
import { DecodeError } from '../errors';
import type { XmlElement } from './element';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function decodeErr(f: () => unknown): DecodeError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return e as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('parseXml', () => {
  it('builds the element tree, dropping whitespace between elements', () => {
    const root = parseXml('<?xml version="1.0"?>\n<!-- hi -->\n<A>\n  <B>x</B>\n  <C/>\n</A>\n');
    expect(root).toStrictEqual({
      name: 'A',
      children: [
        { name: 'B', children: ['x'] },
        { name: 'C', children: [] },
      ],
    });
  });

  it('keeps leaf text exactly, whitespace included', () => {
    const root = parseXml('<Data>  a \n b\t </Data>');
    expect(root.children).toEqual(['  a \n b\t ']);
    expect(parseXml('<Data>   </Data>').children).toEqual(['   ']);
    expect(parseXml('<Data></Data>').children).toEqual([]);
  });

  it('decodes the predefined entities and character references', () => {
    const root = parseXml('<D a="&quot;&apos;">&lt;a&gt; &amp; &quot;&apos; &#65;&#x42;&#x1F600; &#13;</D>');
    expect(root.children).toEqual(['<a> & "\' AB\u{1F600} \r']);
  });

  it('merges CDATA with surrounding text and ignores comments inside text', () => {
    const root = parseXml('<D>a<![CDATA[<b>&amp;</b>]]>c<!-- x -->d</D>');
    expect(root.children).toEqual(['a<b>&amp;</b>cd']);
  });

  it('keeps the local name of prefixed elements and resolves their namespace', () => {
    const root = parseXml(
      '<S xmlns="SYNCML:SYNCML1.2" xmlns:m="syncml:metinf"><Meta><m:Type>t</m:Type><Format xmlns="syncml:metinf">b64</Format></Meta></S>',
    );
    expect(root).toStrictEqual({
      name: 'S',
      ns: 'SYNCML:SYNCML1.2',
      children: [
        {
          name: 'Meta',
          children: [
            { name: 'Type', ns: 'syncml:metinf', children: ['t'] },
            { name: 'Format', ns: 'syncml:metinf', children: ['b64'] },
          ],
        },
      ],
    });
  });

  it('records ns only where it changes', () => {
    const root = parseXml("<A xmlns='x'><B xmlns='x'><C xmlns='y'><D/></C></B></A>");
    expect(root).toStrictEqual({
      name: 'A',
      ns: 'x',
      children: [{ name: 'B', children: [{ name: 'C', ns: 'y', children: [{ name: 'D', children: [] }] }] }],
    });
  });

  it('accepts a BOM, bytes, and a declared Latin-1 encoding', () => {
    expect(parseXml('\uFEFF<A>é</A>').children).toEqual(['é']);
    expect(parseXml(new Uint8Array([0xef, 0xbb, 0xbf, ...enc('<A>é</A>')])).children).toEqual(['é']);
    const latin1 = new Uint8Array([...enc("<?xml version='1.0' encoding='ISO-8859-1'?><A>"), 0xe9, ...enc('</A>')]);
    expect(parseXml(latin1).children).toEqual(['é']);
  });

  it('refuses encodings it does not speak', () => {
    expect(decodeErr(() => parseXml(enc('<?xml version="1.0" encoding="Shift_JIS"?><A/>'))).code).toBe('unsupported');
    expect(decodeErr(() => parseXml(new Uint8Array([0xff, 0xfe, 0x3c, 0]))).code).toBe('unsupported');
  });

  it.each([
    ['<A><B></A>', 'mismatched end tag'],
    ['<A>', 'unclosed'],
    ['<A><B>x</B', 'truncated end tag'],
    ['<A attr></A>', 'attribute without value'],
    ['<A a=x></A>', 'unquoted attribute'],
    ['<A a="x></A>', 'unterminated attribute'],
    ['<A>&foo;</A>', 'unknown entity'],
    ['<A>& b</A>', 'bare ampersand'],
    ['<A>&#xD800;</A>', 'surrogate reference'],
    ['<A>&#x110000;</A>', 'reference beyond Unicode'],
    ['<A/><B/>', 'two roots'],
    ['text<A/>', 'text before root'],
    ['', 'empty'],
    ['<A><!-- x</A>', 'unterminated comment'],
    ['<A><![CDATA[x</A>', 'unterminated CDATA'],
    ['<1A/>', 'bad name'],
    ['<A></A >x', 'text after root'],
    ['</A>', 'end tag first'],
  ])('%s is malformed (%s)', (xml) => {
    const e = decodeErr(() => parseXml(xml));
    expect(e.code).toBe('malformed');
    expect(typeof e.offset).toBe('number');
  });

  it('reports the byte offset of invalid UTF-8', () => {
    const bytes = new Uint8Array([...enc('<A>ab'), 0xc3, 0x28, ...enc('</A>')]);
    const e = decodeErr(() => parseXml(bytes));
    expect(e.code).toBe('malformed');
    expect(e.offset).toBe(5);
  });
});

describe('serializeXml', () => {
  it('writes compact XML with ns as xmlns and escapes text and attributes', () => {
    const root: XmlElement = {
      name: 'SyncML',
      ns: 'a"b&',
      children: [
        { name: 'D', children: ['<&>"\'\r\n\t\u0001'] },
        { name: 'E', children: [] },
      ],
    };
    expect(serializeXml(root)).toBe('<SyncML xmlns="a&quot;b&amp;"><D>&lt;&amp;&gt;"\'&#13;\n\t&#1;</D><E/></SyncML>');
    expect(serializeXml(root, { declaration: true })).toMatch(/^<\?xml version="1\.0" encoding="UTF-8"\?><SyncML/);
  });

  it('writes opaque bytes as base64', () => {
    expect(serializeXml({ name: 'Data', children: [new Uint8Array([0, 1, 2, 255])] })).toBe('<Data>AAEC/w==</Data>');
  });

  it('refuses names XML cannot carry', () => {
    expect(() => serializeXml({ name: 'a b', children: [] })).toThrow();
    expect(() => serializeXml({ name: '<x>', children: [] })).toThrow();
  });

  it('round-trips text with every kind of character', () => {
    const s = 'a&b<c>d]]>e"f\'g\r\n\th\u0000\u0007é\u{1F600}';
    expect(parseXml(serializeXml({ name: 'D', children: [s] })).children).toEqual([s]);
  });

  it('sizes output in UTF-8 bytes without building it', () => {
    const root: XmlElement = { name: 'D', ns: 'x', children: ['é\u{1F600}<', { name: 'E', children: [] }] };
    const s = serializeXml(root, { declaration: true });
    expect(serializedXmlSize(root, { declaration: true })).toBe(new TextEncoder().encode(s).length);
    expect(utf8Length('\uD800x')).toBe(new TextEncoder().encode('\uD800x').length);
    // A range of the string counts as that substring does, a pair cut at the range's end as a lone surrogate.
    const t = 'aé€\u{1F600}b';
    for (const [from, end] of [
      [1, 5],
      [2, 4],
      [0, t.length],
    ] as const)
      expect(utf8Length(t, from, end)).toBe(new TextEncoder().encode(t.slice(from, end)).length);
  });

  it('sizes every character, escaped or not, in text and in the xmlns attribute, as serialized', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: 'binary' }), { maxLength: 5 }),
        fc.string({ unit: 'binary' }),
        (texts, ns) => {
          const root: XmlElement = {
            name: 'D',
            ns,
            children: [
              ...texts,
              { name: 'E', children: [] },
              new Uint8Array(texts.length * 7),
              { name: 'F', children: texts },
            ],
          };
          const s = serializeXml(root, { declaration: true });
          expect(serializedXmlSize(root, { declaration: true })).toBe(new TextEncoder().encode(s).length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not recurse: 100,000-deep trees serialize', () => {
    let el: XmlElement = { name: 'L', children: [] };
    for (let i = 0; i < 100_000; i++) el = { name: 'N', children: [el] };
    const s = serializeXml(el);
    expect(s.length).toBe(100_000 * 7 + 4);
    expect(parseXml(s, { maxDepth: 200_000 }).name).toBe('N');
  });
});
