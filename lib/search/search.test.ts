import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  describeTerm,
  normaliseText,
  prefixUpperBound,
  queryPrefixes,
  termsOf,
  typoTerms,
  whyNotSearchable,
} from './search';

const ADA = {
  name: 'Ada Lovelace',
  email: 'Ada@Example.org',
  msisdns: ['447700900123'],
  devIds: ['IMEI:356938035643809', 'MEID:A0000012345678'],
};

/** Whether any term of `terms` falls in the range the prefix stands for. */
const found = (terms: string[], q: string) =>
  queryPrefixes(q).some((p) => terms.some((t) => t >= p && t < prefixUpperBound(p)));

describe('termsOf', () => {
  it('indexes the name both ways round, each word, the email, each MSISDN and IMEI both ways round', () => {
    expect(termsOf(ADA)).toEqual([
      'd:meid:a0000012345678',
      'e:ada@example.org',
      'i:356938035643809',
      'm:447700900123',
      'r:321009007744',
      'v:908346530839653',
      'w:ada',
      'w:ada lovelace',
      'w:lovelace',
      'w:lovelace ada',
    ]);
  });

  it('folds accents and keeps a hyphenated surname whole and in parts', () => {
    expect(termsOf({ name: '  Zoë   Smith-Jones ', msisdns: [], devIds: [] })).toEqual([
      'w:jones',
      'w:smith',
      'w:smith-jones',
      'w:smith-jones zoe',
      'w:zoe',
      'w:zoe smith-jones',
    ]);
  });

  it('reads a three-word name from each word on, and a long one only word by word', () => {
    const three = termsOf({ name: 'Ada King Lovelace', msisdns: [], devIds: [] });
    expect(three).toEqual(expect.arrayContaining(['w:king lovelace ada', 'w:lovelace ada king']));
    const long = termsOf({ name: 'a b c d e', msisdns: [], devIds: [] });
    expect(long.filter((t) => t.includes(' '))).toEqual(['w:a b c d e']);
  });
});

describe('queryPrefixes', () => {
  it('finds the same subscriber by every usual form of the number', () => {
    const terms = termsOf(ADA);
    for (const q of [
      '+44 7700 900123',
      '447700900123',
      '07700 900123',
      '07700900123',
      '0044 7700 900123',
      '(0)7700-900-123',
      '+44 (0) 7700 900123',
      '4477009',
      '07700 90',
    ]) {
      expect(found(terms, q), q).toBe(true);
    }
  });

  it('finds a national-form number of any country by its end', () => {
    const terms = termsOf({ name: 'Claude', msisdns: ['33612345678'], devIds: [] });
    expect(found(terms, '06 12 34 56 78')).toBe(true);
    expect(found(terms, '06 12 34 56 79')).toBe(false);
  });

  it('finds an IMEI by its start, typed bare or as a DevId', () => {
    const terms = termsOf(ADA);
    for (const q of ['356938035643809', '3569 3803', 'IMEI:35693803', 'imei 3569-3803'])
      expect(found(terms, q), q).toBe(true);
    expect(found(terms, '35693804')).toBe(false);
  });

  it('finds a name, surname or email by its start, in any case and with accents or not', () => {
    const terms = termsOf({ ...ADA, name: 'Zoë Lovelace' });
    for (const q of ['zo', 'ZOE', 'zoë l', 'Lovel', 'ada@ex', 'ADA@EXAMPLE.ORG', 'MEID:A000'])
      expect(found(terms, q), q).toBe(true);
    for (const q of ['oe', 'example.org', '900124', 'lovelace ada']) expect(found(terms, q), q).toBe(false);
  });

  it('finds a name surname first, with or without a comma', () => {
    const terms = termsOf(ADA);
    for (const q of ['Lovelace Ada', 'lovelace a', 'Lovelace, Ada', 'LOVELACE,ADA'])
      expect(found(terms, q), q).toBe(true);
  });

  it('finds an MSISDN or an IMEI by its last digits, after the numbers that start with them', () => {
    const terms = termsOf(ADA);
    for (const q of ['900123', '0123', '0 123', '643809', '3809']) expect(found(terms, q), q).toBe(true);
    for (const q of ['900124', '3808']) expect(found(terms, q), q).toBe(false);
    expect(queryPrefixes('900123')).toEqual(['m:900123', 'i:900123', 'r:321009', 'v:321009']);
  });

  it('does not search with too few digits, and says so', () => {
    expect(queryPrefixes('12')).toEqual([]);
    expect(queryPrefixes('   ')).toEqual([]);
    expect(whyNotSearchable('12')).toMatch(/at least 4 digits/);
    expect(whyNotSearchable('')).toMatch(/Type an MSISDN/);
    expect(whyNotSearchable('ada')).toBeUndefined();
  });

  it('takes hostile text literally and caps its length', () => {
    expect(queryPrefixes("%_' or 1=1 --")).toEqual(["w:%_' or 1=1 --"]);
    const long = queryPrefixes('a'.repeat(10_000));
    expect(long.every((p) => p.length <= 130)).toBe(true);
    expect(normaliseText('x'.repeat(500))).toHaveLength(128);
  });
});

describe('typoTerms', () => {
  const one = (q: string, term: string) => typoTerms(q).includes(term);
  it('reaches a name one letter left out, added, changed or swapped', () => {
    for (const q of ['lovelce', 'lovelacce', 'lovelase', 'lovleace', 'Lovelase'])
      expect(one(q, 'w:lovelace'), q).toBe(true);
    expect(one('ada lovelase', 'w:ada lovelace')).toBe(true);
    expect(one('lovlase', 'w:lovelace')).toBe(false); // two typos
  });

  it('leaves numbers, emails, short words and huge text alone', () => {
    for (const q of ['900123', 'ada@ex', 'adx', 'a'.repeat(100)]) expect(typoTerms(q), q).toEqual([]);
  });
});

describe('prefixUpperBound', () => {
  it('bounds exactly the strings that start with the prefix', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, unit: 'grapheme' }),
        fc.string({ unit: 'grapheme' }),
        fc.string({ minLength: 1, unit: 'grapheme' }),
        (p, tail, other) => {
          const hi = prefixUpperBound(p);
          // Code-point order, as SQLite compares UTF-8 text.
          const lt = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
          expect(!lt(p + tail, p) && lt(p + tail, hi)).toBe(true);
          if (!other.startsWith(p)) expect(lt(other, p) || !lt(other, hi)).toBe(true);
        },
      ),
    );
  });

  it('steps over the surrogate range', () => {
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
  });
});

it('describeTerm reads a reversed MSISDN the right way round', () => {
  expect(describeTerm('r:321009007744')).toEqual({ kind: 'msisdn', value: '447700900123' });
  expect(describeTerm('i:356938035643809')).toEqual({ kind: 'imei', value: '356938035643809' });
  expect(describeTerm('v:908346530839653')).toEqual({ kind: 'imei', value: '356938035643809' });
});
