import { describe, expect, it } from 'vitest';
import { DecodeError } from '../errors';
import { parseChangeProperty, propOfQuery, propUri, splitPropUri } from './tnd-props';

describe('node properties', () => {
  it('names a property Get and reads it back', () => {
    expect(propUri('./A/B', 'VerNo')).toBe('./A/B?prop=VerNo');
    expect(splitPropUri('./A/B?prop=TStamp')).toEqual({ path: './A/B', prop: 'TStamp' });
    expect(splitPropUri('./A/B?list=Struct')).toBeUndefined();
    expect(splitPropUri('./A/B')).toBeUndefined();
    expect(propOfQuery('prop=Nonsense')).toBeUndefined();
  });

  it('keeps a VerNo as its number and a TStamp as written; anything else is refused, never taken for a value', () => {
    expect(parseChangeProperty('VerNo', ' 0042 ')).toBe('42');
    expect(parseChangeProperty('TStamp', '20261207T043500Z')).toBe('20261207T043500Z');
    expect(parseChangeProperty('TStamp', '2026-12-07T04:35:00.123Z')).toBe('2026-12-07T04:35:00.123Z');
    for (const bad of ['', '-1', '1.5', 'x', '9'.repeat(16), undefined])
      expect(() => parseChangeProperty('VerNo', bad)).toThrow(DecodeError);
    for (const bad of ['', 'yesterday', '2026-12-07', `2026-12-07T04:35:00Z${'0'.repeat(40)}`, '<x/>'])
      expect(() => parseChangeProperty('TStamp', bad)).toThrow(DecodeError);
  });
});
