import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseXml } from './xml';
import { decodeMessage, encodeMessage } from './index';
import { elementToMessage } from './syncml';
import { DecodeError } from '../errors';
import { arbMessage } from '../../../test/support/arbitrary-message';
import type { XmlElement } from './element';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DecodeError) return e.code;
    throw e;
  }
  return 'no error';
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

const HDR =
  '<SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>t</LocURI></Target><Source><LocURI>s</LocURI></Source></SyncHdr>';
const msg = (body: string, hdr = HDR): string =>
  `<SyncML xmlns="SYNCML:SYNCML1.2">${hdr}<SyncBody>${body}</SyncBody></SyncML>`;

describe('hostile XML', () => {
  it('refuses a DOCTYPE with entities (billion laughs) before expanding anything', () => {
    let dtd = '<!DOCTYPE lolz [<!ENTITY lol "lol">';
    for (let i = 1; i < 10; i++) dtd += `<!ENTITY lol${i} "${`&lol${i - 1 || ''};`.repeat(10)}">`;
    const doc = `<?xml version="1.0"?>${dtd}]><SyncML>&lol9;</SyncML>`;
    const { value, ms } = timed(() => code(() => parseXml(enc(doc))));
    expect(value).toBe('forbidden-dtd');
    expect(ms).toBeLessThan(500); // generous for a loaded machine: the failure mode is seconds or a hang
  });

  it.each(['<!DOCTYPE x>', '<!ENTITY x "y">', '<A><!ELEMENT A ANY></A>', '<A><![INCLUDE[x]]></A>', '<A><!x></A>'])(
    '%s is forbidden-dtd',
    (doc) => expect(code(() => parseXml(doc))).toBe('forbidden-dtd'),
  );

  it('refuses 100 MB as too-large without reading it', () => {
    // Bytes that would fail any other check if they were read: not UTF-8, not XML.
    const huge = new Uint8Array(100 * 1024 * 1024).fill(0xff);
    const { value, ms } = timed(() => code(() => decodeMessage(huge, 'xml')));
    expect(value).toBe('too-large');
    expect(ms).toBeLessThan(500); // generous for a loaded machine: the failure mode is seconds or a hang
    expect(code(() => parseXml('<A/>'.repeat(10), { maxBytes: 39 }))).toBe('too-large');
    // Strings are measured in UTF-8 bytes, not UTF-16 units.
    expect(code(() => parseXml(`<A>${'é'.repeat(20)}</A>`, { maxBytes: 40 }))).toBe('too-large');
  });

  it('stops 10,000-deep nesting quickly, and would not overflow the stack if allowed', () => {
    const deep = '<A>'.repeat(10_000) + '</A>'.repeat(10_000);
    const { value, ms } = timed(() => code(() => parseXml(deep)));
    expect(value).toBe('too-deep');
    expect(ms).toBeLessThan(500); // generous for a loaded machine: the failure mode is seconds or a hang
    expect(parseXml(deep, { maxDepth: 20_000 }).name).toBe('A');
    expect(
      code(() => decodeMessage(enc(msg('<Atomic><CmdID>1</CmdID>'.repeat(100) + '</Atomic>'.repeat(100))), 'xml')),
    ).toBe('too-deep');
  });

  it('caps namespace prefixes in scope, so declaring them cannot go quadratic', () => {
    const decls = Array.from({ length: 100 }, (_, k) => `xmlns:p${k}="u${k}"`).join(' ');
    const doc = `<A ${decls}>${'<B xmlns:q="v"/>'.repeat(10_000)}</A>`;
    const { value, ms } = timed(() => code(() => parseXml(doc)));
    expect(value).toBe('unsupported');
    expect(ms).toBeLessThan(500); // generous for a loaded machine: the failure mode is seconds or a hang
  });

  it('stops at maxElements', () => {
    expect(code(() => parseXml(`<A>${'<B/>'.repeat(1001)}</A>`, { maxElements: 1000 }))).toBe('too-many-elements');
    expect(parseXml(`<A>${'<B/>'.repeat(999)}</A>`, { maxElements: 1000 }).children).toHaveLength(999);
  });

  it.each([
    ['truncated', msg('<Final/>').slice(0, -20)],
    ['mismatched tags', msg('<Final></Fin>')],
    ['unknown entity', msg('<Alert><CmdID>1</CmdID><Data>&nbsp;</Data></Alert>')],
  ])('%s -> malformed', (_, doc) => {
    expect(code(() => decodeMessage(enc(doc), 'xml'))).toBe('malformed');
  });

  it('invalid UTF-8 -> malformed', () => {
    const bytes = enc(msg('<Alert><CmdID>1</CmdID><Data>XX</Data></Alert>'));
    const at = new TextDecoder().decode(bytes).indexOf('XX');
    bytes[at] = 0xed; // a lone surrogate's lead byte
    bytes[at + 1] = 0xa0;
    expect(code(() => decodeMessage(bytes, 'xml'))).toBe('malformed');
  });

  it('well-formed but not SyncML -> invalid', () => {
    expect(code(() => decodeMessage(enc('<SyncML><SyncBody><Final/></SyncBody></SyncML>'), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc(`<SyncML>${HDR}</SyncML>`), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc('<Other/>'), 'xml'))).toBe('invalid');
  });

  it('prototype names are plain data', () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const doc = msg(
      '<__proto__><polluted>yes</polluted></__proto__><constructor><prototype><polluted>yes</polluted></prototype></constructor>' +
        '<Get><CmdID>1</CmdID><Item><Target><LocURI>x</LocURI></Target><Meta><__proto__ xmlns="syncml:metinf">p</__proto__><constructor xmlns="syncml:metinf">c</constructor></Meta></Item></Get>',
    );
    const root = parseXml(doc);
    expect(root.children[1]).toMatchObject({ name: 'SyncBody' });
    const m = decodeMessage(enc(doc), 'xml');
    const get = m.body.commands[0]!;
    expect(get.kind).toBe('Get');
    expect(get.kind === 'Get' && get.items[0]!.meta!.extra!.map((e) => e.name)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(Object.getPrototypeOf(m.body)).toBe(Object.prototype);
  });

  it('bounds numbers', () => {
    const st = (n: string) =>
      msg(`<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>${n}</CmdRef><Cmd>Get</Cmd><Data>200</Data></Status>`);
    expect(code(() => decodeMessage(enc(st('-1')), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc(st('1e3')), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc(st('99999999999')), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc(st('')), 'xml'))).toBe('invalid');
    expect(code(() => decodeMessage(enc(st(' 7 ')), 'xml'))).toBe('no error');
  });
});

describe('fuzz', () => {
  const onlyDecodeErrors = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
  };

  it('random bytes: parse returns or throws DecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (b) => {
        onlyDecodeErrors(() => decodeMessage(b, 'xml'));
      }),
      { numRuns: 3000 },
    );
  });

  it('random XML-ish token soup: parse returns or throws DecodeError', () => {
    const token = fc.constantFrom(
      '<',
      '>',
      '/',
      '</',
      '/>',
      '<?',
      '?>',
      '<!--',
      '-->',
      '<![CDATA[',
      ']]>',
      '&',
      ';',
      '&amp;',
      '&#',
      '&#x',
      '"',
      "'",
      '=',
      ' ',
      '\n',
      'xmlns',
      'xmlns:m',
      'm:',
      'SyncML',
      'SyncHdr',
      'SyncBody',
      'Status',
      'CmdID',
      'Data',
      'Item',
      'Meta',
      'Final',
      'A',
      '1',
      '\u00e9',
      '\uFEFF',
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 80 }), (parts) => {
        onlyDecodeErrors(() => decodeMessage(enc(parts.join('')), 'xml'));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated valid messages: decode returns or throws DecodeError', () => {
    fc.assert(
      fc.property(
        arbMessage({ maxNesting: 1 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat()),
        (m, flips, cut) => {
          const bytes = encodeMessage(m, 'xml');
          for (const [at, v] of flips) bytes[at % bytes.length] = v;
          const body = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
          onlyDecodeErrors(() => decodeMessage(body, 'xml'));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('element trees that are not SyncML map to invalid, never crash', () => {
    const el = fc.letrec((tie) => ({
      node: fc.record(
        {
          name: fc.constantFrom(
            'SyncML',
            'SyncHdr',
            'SyncBody',
            'Status',
            'Alert',
            'Item',
            'Meta',
            'Data',
            'CmdID',
            'Atomic',
            'Map',
            'MapItem',
            'Target',
            'LocURI',
            'Chal',
            'Cred',
            'Anchor',
            'MetInf',
          ),
          children: fc.array(fc.oneof(fc.constantFrom('1', 'x', ''), fc.uint8Array({ maxLength: 3 }), tie('node')), {
            maxLength: 4,
          }),
        },
        { noNullPrototype: true },
      ),
    })).node as fc.Arbitrary<XmlElement>;
    fc.assert(
      fc.property(el, (root) => {
        onlyDecodeErrors(() => elementToMessage(root));
      }),
      { numRuns: 2000 },
    );
  });
});
