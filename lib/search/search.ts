/**
 * The console's search, as text: which terms a subscriber is indexed under, and which term
 * prefixes a query from the search box stands for. Both sides normalise alike (lower case,
 * accents folded, digits only for numbers), so every lookup is a prefix range on one index.
 *
 * A term is a one-letter kind, a colon, then the value:
 *   w:  a word of the name, and the whole name ("ada", "lovelace", "ada lovelace")
 *   e:  the email
 *   m:  an MSISDN in international digits (447700900123)
 *   r:  the same MSISDN reversed (321009007744): a number typed in national form is then
 *       a prefix of the reversed one, whatever the country code
 *   i:  a handset's IMEI digits, from its DevId "IMEI:…"
 *   d:  any other DevId, whole (MEID:…, serial numbers)
 */

export type TermKind = 'name' | 'email' | 'msisdn' | 'imei' | 'devId';

const KIND_OF: Record<string, TermKind> = { w: 'name', e: 'email', m: 'msisdn', r: 'msisdn', i: 'imei', d: 'devId' };

/** Longest query looked at: nothing real is longer, and terms are cut to the same length. */
export const MAX_QUERY_LENGTH = 128;
/** How many results the console's search box shows. */
export const SEARCH_LIMIT = 20;
/** Fewer digits than this match too many numbers to be useful. */
export const MIN_NUMBER_DIGITS = 4;
/**
 * A number with at least this many digits (less its leading zeros) may be the end of an
 * MSISDN: "07700 900123" is 7700900123. Shorter ones would match the end of every tenth number.
 */
export const MIN_SUFFIX_DIGITS = 7;
/** The country a number typed in national form (a leading 0) is assumed to be in, for prefix matches while typing. */
export const DEFAULT_COUNTRY_CODE = '44';

/** Lower case, accents folded (é → e), runs of white space as one space, trimmed and capped. */
export function normaliseText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_QUERY_LENGTH);
}

const reverse = (s: string) => [...s].reverse().join('');

export function imeiDigits(devId: string): string | undefined {
  const m = /^imei:(\d{14,16})$/i.exec(devId.trim());
  return m?.[1];
}

/** Every term a subscriber is found by. Sorted and without repeats. */
export function termsOf(s: {
  name: string;
  email?: string | null;
  msisdns: readonly string[];
  devIds: readonly string[];
}): string[] {
  const terms = new Set<string>();
  const name = normaliseText(s.name);
  if (name) {
    terms.add(`w:${name}`);
    // "Anna Smith-Jones": "smith-jones", and "smith" and "jones" on their own.
    for (const word of name.split(' ')) {
      terms.add(`w:${word}`);
      for (const part of word.split(/[,.'’-]+/)) if (part) terms.add(`w:${part}`);
    }
  }
  const email = s.email ? normaliseText(s.email) : '';
  if (email) terms.add(`e:${email}`);
  for (const m of s.msisdns) {
    const digits = m.replace(/\D/g, '');
    if (!digits) continue;
    terms.add(`m:${digits}`);
    terms.add(`r:${reverse(digits)}`);
  }
  for (const devId of s.devIds) {
    const imei = imeiDigits(devId);
    if (imei) terms.add(`i:${imei}`);
    else terms.add(`d:${normaliseText(devId)}`);
  }
  return [...terms].sort();
}

/** What a term stands for, and its value as the user would read it (the MSISDN the right way round). */
export function describeTerm(term: string): { kind: TermKind; value: string } {
  const kind = KIND_OF[term[0] ?? ''] ?? 'name';
  const value = term.slice(2);
  return { kind, value: term.startsWith('r:') ? reverse(value) : value };
}

/** Looks like a phone number or an IMEI: digits with the usual separators, nothing else. */
const NUMBER_LIKE = /^\+?[\d\s().\-/]+$/;
/** "IMEI 3569…", "imei:3569…" */
const IMEI_LIKE = /^imei[\s:]*([\d\s-]+)$/;

/**
 * The term prefixes a query stands for, most specific first. Any one matching finds the
 * subscriber. Empty for a query too short or too vague to search with.
 *
 *   "+44 7700 900123", "447700900123", "0044 7700 900123"  → m:447700900123
 *   "07700 900123"   → m:447700900123 (while typing) and r:3210090077 (any country)
 *   "3569380356"     → i:3569380356 (an IMEI's start), and the numbers above
 *   "Ada L", "lovelace", "ada@ex" → w:ada l, w:lovelace, e:ada@ex
 */
export function queryPrefixes(raw: string, opts: { countryCode?: string } = {}): string[] {
  const q = normaliseText(raw);
  if (!q) return [];
  const out: string[] = [];
  const imei = IMEI_LIKE.exec(q);
  if (imei) {
    const digits = imei[1]!.replace(/\D/g, '');
    if (digits.length >= MIN_NUMBER_DIGITS) out.push(`i:${digits}`);
    return out;
  }
  if (NUMBER_LIKE.test(q)) {
    // "+44 (0)7700 900123": the (0) is the national trunk prefix, not part of the number.
    const digits = q.replace(/\(0\)/g, '').replace(/\D/g, '');
    if (digits.length < MIN_NUMBER_DIGITS) return [];
    const national = digits.replace(/^0+/, '');
    if (digits.startsWith('00'))
      out.push(`m:${national}`); // 0044…: the international dialling prefix
    else if (digits.startsWith('0')) out.push(`m:${opts.countryCode ?? DEFAULT_COUNTRY_CODE}${national}`);
    else out.push(`m:${digits}`);
    if (national.length >= MIN_SUFFIX_DIGITS) out.push(`r:${reverse(national)}`);
    out.push(`i:${digits}`);
    return out;
  }
  out.push(`w:${q}`);
  if (!q.includes(' ')) {
    out.push(`e:${q}`);
    out.push(`d:${q}`);
  }
  return out;
}

/**
 * The exclusive upper bound of the range of terms starting with `prefix`: its last code point
 * plus one. `term >= prefix and term < upper` is then an index range on either database (for
 * PostgreSQL the column wants the "C" collation, so the order is the code points' as here).
 */
export function prefixUpperBound(prefix: string): string {
  const cps = [...prefix].map((c) => c.codePointAt(0)!);
  while (cps.length) {
    let last = cps.pop()! + 1;
    if (last >= 0xd800 && last <= 0xdfff) last = 0xe000; // no code point lives in the surrogate range
    if (last <= 0x10ffff) return String.fromCodePoint(...cps, last);
  }
  return '\u{10ffff}';
}

/** One subscriber found by the search box: what a result shows. */
export interface SearchHit {
  id: string;
  name: string;
  email: string | null;
  createdAt: number;
  msisdns: string[];
  devices: number;
  /** What the query matched: the kind and the value as it reads ("447700900123", "ada@example.org"). */
  match: { kind: TermKind; value: string };
  /** The handset whose IMEI or DevId matched, when it was one. */
  device?: { id: string; devId: string; manufacturer: string | null; model: string | null };
}

/** An MSISDN as people read it: international digits with a plus. */
export function displayMsisdn(digits: string): string {
  return `+${digits}`;
}

/** Why a query cannot be searched yet, in plain words; undefined when it can. */
export function whyNotSearchable(raw: string): string | undefined {
  if (!normaliseText(raw)) return 'Type an MSISDN, an IMEI, a name or an email.';
  if (!queryPrefixes(raw).length) return `Type at least ${MIN_NUMBER_DIGITS} digits of a number.`;
  return undefined;
}
