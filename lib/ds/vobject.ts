/**
 * vCard (2.1, 3.0) and iCalendar (2.0) / vCalendar (1.0) as far as Rewind needs them: which
 * kind of item it is, its UID, the name a person reads (a contact's FN or N, an event's
 * SUMMARY), and its fields as a comparable set, so two copies can be compared field by field
 * whatever order the properties came in. Content itself is stored as the client sent it.
 *
 * Bounded: a text over MAX_TEXT or with more than MAX_LINES lines is refused, since it
 * comes from a handset.
 */

export const MAX_TEXT = 1024 * 1024;
const MAX_LINES = 20_000;

export interface VProperty {
  name: string;
  /** Parameters as NAME=value (upper-case names); 2.1's bare TYPE values (`TEL;CELL`) become TYPE=CELL. */
  params: string[];
  value: string;
}

export class VObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VObjectError';
  }
}

/** Content lines with folding undone (RFC 6350/5545 folding, and 2.1's quoted-printable soft breaks). */
export function contentLines(text: string): string[] {
  if (text.length > MAX_TEXT) throw new VObjectError(`item of ${text.length} characters is over ${MAX_TEXT}`);
  const raw = text.split(/\r\n|\n|\r/);
  if (raw.length > MAX_LINES) throw new VObjectError(`item of ${raw.length} lines is over ${MAX_LINES}`);
  const out: string[] = [];
  for (const line of raw) {
    const prev = out.length ? out[out.length - 1]! : undefined;
    if ((line.startsWith(' ') || line.startsWith('\t')) && prev !== undefined) {
      out[out.length - 1] = prev + line.slice(1);
    } else if (
      prev !== undefined &&
      /ENCODING=QUOTED-PRINTABLE/i.test(prev.split(':', 1)[0] ?? '') &&
      prev.endsWith('=')
    ) {
      out[out.length - 1] = prev.slice(0, -1) + line;
    } else if (line.length) {
      out.push(line);
    }
  }
  return out;
}

export function parseProperty(line: string): VProperty {
  // The value starts after the first colon that is not inside a quoted parameter value.
  let quoted = false;
  let colon = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ':' && !quoted) {
      colon = i;
      break;
    }
  }
  if (colon < 0) throw new VObjectError(`not a content line: ${line.slice(0, 40)}`);
  const [rawName, ...rawParams] = line.slice(0, colon).split(';');
  // Group prefixes (item1.TEL) are presentation only.
  const name = (rawName ?? '').replace(/^[^.]*\./, '').toUpperCase();
  const params = rawParams.filter(Boolean).map((p) => {
    const eq = p.indexOf('=');
    return eq < 0 ? `TYPE=${p.toUpperCase()}` : `${p.slice(0, eq).toUpperCase()}=${p.slice(eq + 1)}`;
  });
  return { name, params, value: line.slice(colon + 1) };
}

export type VKind = 'vcard' | 'vevent' | 'vtodo' | 'unknown';

export interface VSummary {
  kind: VKind;
  uid?: string;
  /** A contact's FN (or N put together), an event's SUMMARY. */
  summary: string;
  /** vCard/vCalendar VERSION. */
  version?: string;
}

function unescapeText(v: string): string {
  return v.replace(/\\([\\;,nN])/g, (_m, c: string) => (c === 'n' || c === 'N' ? '\n' : c));
}

function decodeQp(v: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '=' && /^[0-9A-Fa-f]{2}$/.test(v.slice(i + 1, i + 3))) {
      bytes.push(parseInt(v.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(v.charCodeAt(i) & 0xff);
    }
  }
  return new TextDecoder().decode(Uint8Array.from(bytes));
}

/** A property's value as text: quoted-printable decoded, escapes undone. */
export function textValue(p: VProperty): string {
  const qp = p.params.some((x) => /^ENCODING=QUOTED-PRINTABLE$/i.test(x));
  return unescapeText(qp ? decodeQp(p.value) : p.value);
}

export function summarize(text: string): VSummary {
  const props = contentLines(text).map(parseProperty);
  const begins = props.filter((p) => p.name === 'BEGIN').map((p) => p.value.trim().toUpperCase());
  const kind: VKind = begins.includes('VCARD')
    ? 'vcard'
    : begins.includes('VEVENT')
      ? 'vevent'
      : begins.includes('VTODO')
        ? 'vtodo'
        : 'unknown';
  const get = (n: string) => props.find((p) => p.name === n);
  const uid = get('UID') ? textValue(get('UID')!).trim() : undefined;
  let summary = '';
  if (kind === 'vcard') {
    const fn = get('FN');
    if (fn && textValue(fn).trim()) summary = textValue(fn).trim();
    else if (get('N')) {
      const [family = '', given = ''] = textValue(get('N')!).split(';');
      summary = [given, family].filter(Boolean).join(' ').trim();
    }
  } else if (get('SUMMARY')) {
    summary = textValue(get('SUMMARY')!).trim();
  }
  return {
    kind,
    ...(uid ? { uid } : {}),
    summary: summary.slice(0, 200),
    ...(get('VERSION') ? { version: get('VERSION')!.value.trim() } : {}),
  };
}

/** Properties that change on every write or only say who wrote it: not part of what a person would compare. */
const VOLATILE = new Set(['REV', 'PRODID', 'DTSTAMP', 'LAST-MODIFIED', 'CREATED', 'SEQUENCE', 'X-EVOLUTION-FILE-AS']);

/**
 * The item's fields as sorted `NAME;PARAMS:value` strings (parameters sorted, names upper-case,
 * text values unescaped, volatile properties left out): two copies with the same fields in
 * any order give equal lists.
 */
export function fields(text: string, opts: { ignore?: readonly string[] } = {}): string[] {
  const out: string[] = [];
  for (const p of contentLines(text).map(parseProperty)) {
    if (VOLATILE.has(p.name) || p.name === 'VERSION' || opts.ignore?.includes(p.name)) continue;
    // Structured values keep their trailing empty components or drop them (ORG:Acme;; is ORG:Acme).
    const value = textValue(p)
      .trim()
      .replace(/(?<!\\);+$/, '');
    // An empty property (`TITLE:`, `ORG:;;;`) says nothing: clients add and drop them freely.
    if (!value.replace(/;/g, '')) continue;
    const params = p.params
      .filter((x) => !/^(ENCODING|CHARSET)=/i.test(x))
      .map((x) => x.toUpperCase())
      .sort();
    out.push(`${p.name}${params.length ? `;${params.join(';')}` : ''}:${value}`);
  }
  return out.sort();
}
