import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbMessage } from '../../../test/support/arbitrary-message';
import { elementToMessage, messageToElement } from './syncml';
import { decodeWbxml, encodeWbxml, encodedWbxmlSize } from './wbxml';

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

  it('encodedWbxmlSize is the encoded length exactly, without encoding', () => {
    fc.assert(
      fc.property(arbMessage({ opaque: true }), fc.boolean(), (m, stringTable) => {
        const tree = messageToElement(m);
        expect(encodedWbxmlSize(tree, { stringTable })).toBe(encodeWbxml(tree, { stringTable }).length);
        for (const body of tree.children) {
          for (const cmd of typeof body === 'object' && 'children' in body ? body.children : []) {
            if (typeof cmd !== 'object' || !('children' in cmd)) continue;
            expect(encodedWbxmlSize(cmd, { stringTable })).toBe(encodeWbxml(cmd, { stringTable }).length);
          }
        }
      }),
      { numRuns: 400 },
    );
  });

  it('encodedWbxmlSize counts NULs, lone surrogates, literal tags and nested documents as encodeWbxml writes them', () => {
    const text = fc.string({ unit: 'binary' });
    fc.assert(
      fc.property(fc.array(text, { maxLength: 6 }), fc.boolean(), (texts, stringTable) => {
        const tree = {
          name: 'SyncML',
          ns: 'SYNCML:SYNCML1.2',
          children: [
            { name: 'Item', children: texts.map((t) => ({ name: 'Data', children: [t, t] })) },
            { name: 'NotAToken', children: [...texts, { name: 'AlsoNot', children: [] }] },
            { name: 'Meta', children: [{ name: 'Type', ns: 'syncml:metinf', children: texts.slice(0, 1) }] },
            { name: 'Data', children: [{ name: 'DevInf', ns: 'syncml:devinf', children: texts.slice(0, 2) }] },
          ],
        };
        expect(encodedWbxmlSize(tree, { stringTable })).toBe(encodeWbxml(tree, { stringTable }).length);
      }),
      { numRuns: 300 },
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
