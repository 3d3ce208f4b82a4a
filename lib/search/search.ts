/**
 * The console's search, as text: which terms a subscriber is indexed under, and which term
 * prefixes a query from the search box stands for. Both sides normalise alike (lower case,
 * accents folded, digits only for numbers), so every lookup is a prefix range on one index.
 *
 * A term is a one-letter kind, a colon, then the value:
 *   w:  a word of the name, the whole name, and the whole name from each of its words on
 *       ("ada", "lovelace", "ada lovelace", "lovelace ada"): surname first is found too
 *   e:  the email
 *   m:  an MSISDN in international digits (447700900123)
 *   r:  the same MSISDN reversed (321009007744): a number typed in national form is then
 *       a prefix of the reversed one, whatever the country code
 *   i:  a handset's IMEI digits, from its DevId "IMEI:…"
 *   v:  the same IMEI reversed: the last digits read off a handset's label are a prefix of it
 *   d:  any other DevId, whole (MEID:…, serial numbers)
 */

export type TermKind = 'name' | 'email' | 'msisdn' | 'imei' | 'devId';

const KIND_OF: Record<string, TermKind> = {
  w: 'name',
  e: 'email',
  m: 'msisdn',
  r: 'msisdn',
  i: 'imei',
  v: 'imei',
  d: 'devId',
};
/** Kinds whose value is stored the wrong way round. */
const REVERSED = new Set(['r', 'v']);

/** Longest query looked at: nothing real is longer, and terms are cut to the same length. */
export const MAX_QUERY_LENGTH = 128;
/** How many results the console's search box shows. */
export const SEARCH_LIMIT = 20;
/** Fewer digits than this match too many numbers to be useful. */
export const MIN_NUMBER_DIGITS = 4;
/**
 * A number with at least this many digits (less its leading zeros) may be an MSISDN typed in
 * national form: "07700 900123" is 7700900123, found by the end of the international number.
 */
export const MIN_SUFFIX_DIGITS = 7;
/** Names with more words than this get no rotations (surname first): each word is still a term. */
const MAX_ROTATED_WORDS = 4;
/** Shorter words are not searched with a typo: too many other words are one letter away. */
export const MIN_TYPO_LENGTH = 4;
/** Longer queries are not searched with a typo: the variants grow with the length. */
const MAX_TYPO_LENGTH = 40;
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
    // "Lovelace Ada": the name read from each of its words on, as agents type a surname first.
    const words = name.split(' ');
    if (words.length > 1 && words.length <= MAX_ROTATED_WORDS)
      for (let i = 1; i < words.length; i++) terms.add(`w:${[...words.slice(i), ...words.slice(0, i)].join(' ')}`);
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
    if (imei) {
      terms.add(`i:${imei}`);
      terms.add(`v:${reverse(imei)}`);
    } else terms.add(`d:${normaliseText(devId)}`);
  }
  return [...terms].sort();
}

/** What a term stands for, and its value as the user would read it (the MSISDN the right way round). */
export function describeTerm(term: string): { kind: TermKind; value: string } {
  const kind = KIND_OF[term[0] ?? ''] ?? 'name';
  const value = term.slice(2);
  return { kind, value: REVERSED.has(term[0] ?? '') ? reverse(value) : value };
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
 *   "900123", "3809" → r:321009, v:9083 (the end of an MSISDN or an IMEI), after the starts
 *   "Ada L", "lovelace ada", "ada@ex" → w:ada l, w:lovelace ada, e:ada@ex
 */
export function queryPrefixes(raw: string, opts: { countryCode?: string } = {}): string[] {
  const q = normaliseText(raw)
    .replace(/\s*,\s*/g, ' ')
    .trim(); // "Lovelace, Ada"
  if (!q) return [];
  const out: string[] = [];
  const imei = IMEI_LIKE.exec(q);
  if (imei) {
    const digits = imei[1]!.replace(/\D/g, '');
    if (digits.length >= MIN_NUMBER_DIGITS) out.push(`i:${digits}`, `v:${reverse(digits)}`);
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
    // The last digits of a number or an IMEI, as read off a screen or a label: after the starts.
    if (national.length < MIN_SUFFIX_DIGITS || digits === national) out.push(`r:${reverse(digits)}`);
    out.push(`v:${reverse(digits)}`);
    return [...new Set(out)];
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

const TYPO_ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

/**
 * The names one typo away from a name query (a letter left out, added, changed, or two swapped),
 * as whole-word terms: "lovelce", "lovleace" → w:lovelace among them. Looked up as exact terms
 * (one index probe each), so a typo costs no scan; empty for numbers and short words.
 */
export function typoTerms(raw: string): string[] {
  const q = normaliseText(raw)
    .replace(/\s*,\s*/g, ' ')
    .trim();
  if (q.length < MIN_TYPO_LENGTH || q.length > MAX_TYPO_LENGTH || NUMBER_LIKE.test(q) || q.includes('@')) return [];
  const letters = new Set([...TYPO_ALPHABET, ...q.replace(/[\s]/g, '')]);
  const out = new Set<string>();
  const chars = [...q];
  for (let i = 0; i <= chars.length; i++) {
    const head = chars.slice(0, i).join('');
    const tail = chars.slice(i).join('');
    if (i < chars.length) out.add(head + chars.slice(i + 1).join(''));
    if (i + 1 < chars.length) out.add(head + chars[i + 1]! + chars[i]! + chars.slice(i + 2).join(''));
    for (const c of letters) {
      out.add(head + c + tail);
      if (i < chars.length) out.add(head + c + chars.slice(i + 1).join(''));
    }
  }
  out.delete(q);
  return [...out].filter((t) => t.trim() === t && !t.includes('  ')).map((t) => `w:${t}`);
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
