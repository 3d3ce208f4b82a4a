import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { itemValue, valueData } from './value';
import { DecodeError } from './errors';
import { decodeMessage, encodeMessage } from './codec/index';
import type { Encoding, SyncMLMessage } from './message';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('itemValue', () => {
  it('decodes b64 text, keeps opaque bytes, encodes text as UTF-8', () => {
    expect(itemValue({ meta: { format: 'b64' }, data: 'AAEC/w==' })).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(itemValue({ meta: { format: 'B64' }, data: ' AAEC\n/w== ' })).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(itemValue({ meta: { format: 'bin' }, data: new Uint8Array([9, 0]) })).toEqual(new Uint8Array([9, 0]));
    expect(itemValue({ meta: { format: 'chr' }, data: 'é x' })).toEqual(bytes('é x'));
    expect(itemValue({ data: '42' })).toEqual(bytes('42'));
    expect(itemValue({})).toEqual(new Uint8Array(0));
  });

  it('decodes opaque bytes that are base64 text when the format says b64', () => {
    expect(itemValue({ meta: { format: 'b64' }, data: bytes('AAEC/w==') })).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(itemValue({ meta: { format: 'b64' }, data: new Uint8Array([0, 255]) })).toEqual(new Uint8Array([0, 255]));
  });

  it('serializes nested XML', () => {
    expect(
      new TextDecoder().decode(
        itemValue({ meta: { format: 'xml' }, data: [{ name: 'A', ns: 'syncml:devinf', children: ['x&'] }] }),
      ),
    ).toBe('<A xmlns="syncml:devinf">x&amp;</A>');
  });

  it('refuses b64 text that is not base64', () => {
    expect(() => itemValue({ meta: { format: 'b64' }, data: 'not base64!' })).toThrow(DecodeError);
  });
});

describe('valueData', () => {
  it('sends binary as base64 text in XML and opaque bytes in WBXML', () => {
    const v = new Uint8Array([0, 1, 2, 255]);
    expect(valueData(v, 'bin', 'xml')).toEqual({ format: 'b64', data: 'AAEC/w==' });
    expect(valueData(v, 'b64', 'xml')).toEqual({ format: 'b64', data: 'AAEC/w==' });
    expect(valueData(v, 'bin', 'wbxml')).toEqual({ format: 'bin', data: v });
    expect(valueData(bytes('é'), 'chr', 'wbxml')).toEqual({ format: 'chr', data: 'é' });
    expect(valueData(bytes('12'), 'int', 'xml')).toEqual({ format: 'int', data: '12' });
  });

  it('refuses non-UTF-8 bytes for a text format', () => {
    expect(() => valueData(new Uint8Array([0xff]), 'chr', 'xml')).toThrow(RangeError);
  });

  it('any value survives valueData -> message encode/decode -> itemValue, in both encodings', () => {
    const hdr = {
      verDTD: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId: 1,
      target: { locURI: 't' },
      source: { locURI: 's' },
    };
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('bin', 'b64')),
          fc.tuple(fc.string({ unit: 'binary', maxLength: 32 }).map(bytes), fc.constantFrom('chr', 'xml', 'int')),
        ),
        fc.constantFrom<Encoding>('xml', 'wbxml'),
        ([value, format], encoding) => {
          const vd = valueData(value, format, encoding);
          const msg: SyncMLMessage = {
            hdr,
            body: {
              commands: [
                {
                  kind: 'Replace',
                  cmdId: 1,
                  items: [{ target: { locURI: './x' }, meta: { format: vd.format }, data: vd.data }],
                },
              ],
              final: true,
            },
          };
          const back = decodeMessage(encodeMessage(msg, encoding), encoding).body.commands[0]!;
          expect(back.kind === 'Replace' && itemValue(back.items[0]!)).toEqual(value);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('base64', () => {
  it('the host and the portable encoders agree, and decode gives the bytes back', async () => {
    const { base64Encode, base64EncodePortable, base64Decode, base64DecodePortable } = await import('./util/bytes');
    for (const n of [0, 1, 2, 3, 4095, 4096, 4097, 70_001]) {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = (i * 2654435761) >>> 24;
      const s = base64Encode(b);
      expect(s).toBe(base64EncodePortable(b));
      expect(Array.from(base64Decode(s))).toEqual(Array.from(b));
      expect(Array.from(base64DecodePortable(s))).toEqual(Array.from(b));
    }
  });

  it('the host decoder is handed only plain base64: a bad character in a long text still throws', async () => {
    const { base64Encode, base64Decode, base64DecodePortable } = await import('./util/bytes');
    const s = base64Encode(new Uint8Array(9000).fill(7));
    expect(() => base64Decode(`${s.slice(0, 5000)}!${s.slice(5001)}`)).toThrow(/invalid base64 character at 5000/);
    // A stray '=' ends the data, as it always did, whichever decoder runs.
    const stray = `${s.slice(0, 5000)}=${s.slice(5001)}`;
    expect(Array.from(base64Decode(stray))).toEqual(Array.from(base64DecodePortable(stray)));
    for (const bad of ['-', '_', '*', '\u00e9'])
      expect(() => base64Decode(`${s.slice(0, 5000)}${bad}${s.slice(5001)}`), bad).toThrow(
        /invalid base64 character at 5000/,
      );
    // Whitespace (folded lines) goes the portable way and decodes the same.
    expect(Array.from(base64Decode(s.replace(/(.{76})/g, '$1\r\n')))).toEqual(Array.from(base64Decode(s)));
  });
});
