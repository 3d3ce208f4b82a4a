import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { arbMessage } from '../../../test/support/arbitrary-message';
import { decodeMessage, encodeMessage, encodedCommandSize, encodedEnvelopeSize } from './index';
import { elementToMessage, messageToElement } from './syncml';
import { parseXml, serializeXml } from './xml';
import { decodeWbxml, encodeWbxml } from './wbxml';

describe('SyncML round trip (property)', () => {
  it('element mapping alone is lossless', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), (msg) => {
        expect(elementToMessage(messageToElement(msg))).toStrictEqual(msg);
      }),
      { numRuns: 500 },
    );
  });

  it('XML: decode(encode(m)) deep-equals m', () => {
    fc.assert(
      fc.property(arbMessage(), (msg) => {
        expect(decodeMessage(encodeMessage(msg, 'xml'), 'xml')).toStrictEqual(msg);
      }),
      { numRuns: 500 },
    );
  });

  it('XML: the element tree itself survives serialize/parse', () => {
    fc.assert(
      fc.property(arbMessage(), (msg) => {
        const el = messageToElement(msg);
        const back = parseXml(serializeXml(el));
        expect(serializeXml(back)).toBe(serializeXml(el));
      }),
      { numRuns: 200 },
    );
  });

  it('XML: envelope + command sizes add up to the encoded size exactly', () => {
    fc.assert(
      fc.property(arbMessage(), (msg) => {
        const withFinal = { ...msg, body: { ...msg.body, final: true } };
        const total = encodeMessage(withFinal, 'xml').length;
        const sum = msg.body.commands.reduce(
          (n, c) => n + encodedCommandSize(c, 'xml'),
          encodedEnvelopeSize(msg.hdr, 'xml'),
        );
        expect(sum).toBe(total);
      }),
      { numRuns: 200 },
    );
  });

  it('WBXML: decode(encode(m)) deep-equals m, opaque data included', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), (msg) => {
        expect(decodeMessage(encodeMessage(msg, 'wbxml'), 'wbxml')).toStrictEqual(msg);
      }),
      { numRuns: 500 },
    );
  });

  it('WBXML: envelope + command sizes never under-estimate the encoded size', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), (msg) => {
        const withFinal = { ...msg, body: { ...msg.body, final: true } };
        const total = encodeMessage(withFinal, 'wbxml').length;
        const sum = msg.body.commands.reduce(
          (n, c) => n + encodedCommandSize(c, 'wbxml'),
          encodedEnvelopeSize(msg.hdr, 'wbxml'),
        );
        expect(sum).toBeGreaterThanOrEqual(total);
      }),
      { numRuns: 200 },
    );
  });

  it('XML and WBXML decode to the same element tree', () => {
    fc.assert(
      fc.property(arbMessage(), (msg) => {
        const el = messageToElement(msg);
        expect(decodeWbxml(encodeWbxml(el))).toStrictEqual(parseXml(serializeXml(el)));
      }),
      { numRuns: 200 },
    );
  });
});
