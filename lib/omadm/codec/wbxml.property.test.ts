import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbMessage } from '../../../test/support/arbitrary-message';
import { elementToMessage, messageToElement } from './syncml';
import { decodeWbxml, encodeWbxml } from './wbxml';

describe('WBXML property round trips', () => {
  for (const stringTable of [true, false]) {
    it(`SyncML messages survive WBXML (stringTable=${stringTable})`, () => {
      fc.assert(
        fc.property(arbMessage({ opaque: true }), (m) => {
          const wb = encodeWbxml(messageToElement(m), { stringTable });
          expect(elementToMessage(decodeWbxml(wb))).toEqual(m);
        }),
        { numRuns: 400 },
      );
    });
  }

  it('the element tree itself survives exactly, not just what the mapping keeps', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), fc.boolean(), (m, stringTable) => {
        const tree = messageToElement(m);
        expect(decodeWbxml(encodeWbxml(tree, { stringTable }))).toEqual(tree);
      }),
      { numRuns: 400 },
    );
  });

  it('the string table never makes a message longer than inline strings would', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), (m) => {
        const tree = messageToElement(m);
        expect(encodeWbxml(tree).length).toBeLessThanOrEqual(encodeWbxml(tree, { stringTable: false }).length);
      }),
      { numRuns: 200 },
    );
  });
});
