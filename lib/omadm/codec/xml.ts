/**
 * A small, linear XML parser and serializer for SyncML documents.
 *
 * Not a general XML processor: it knows the subset SyncML peers use (elements, attributes,
 * text, entities, CDATA, comments, processing instructions) and refuses every `<!`
 * declaration, so entity expansion attacks never get a foothold. Nesting is walked with an
 * explicit stack, every scan moves forward (no search can revisit input), and the limits
 * are checked as soon as they can be, so hostile input costs at most one pass.
 *
 * Line endings are not normalised: devices put CRLF inside values they mean to keep, and
 * backup fidelity matters more than XML's end-of-line rule. The serializer writes CR as a
 * character reference, so standard parsers keep it too.
 */
import { DEFAULT_LIMITS } from './element';
import type { DecodeLimits, XmlElement, XmlNode } from './element';
import { DecodeError } from '../errors';
import { base64Encode, utf8Length } from '../util/bytes';

// ---------------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------------

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Encodings a SyncML peer can reasonably declare; anything else is refused, not guessed. */
const SINGLE_BYTE_ENCODINGS = new Set(['iso-8859-1', 'latin1', 'windows-1252', 'cp1252']);
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/** Name characters: ASCII by table, everything from U+0080 up accepted (XML allows most of it). */
const NAME_START = new Uint8Array(128);
const NAME_CHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const start = /[A-Za-z_:]/.test(ch);
  NAME_START[c] = start ? 1 : 0;
  NAME_CHAR[c] = start || /[-0-9.]/.test(ch) ? 1 : 0;
}
const isNameStart = (c: number): boolean => (c < 128 ? NAME_START[c] === 1 : true);
const isNameChar = (c: number): boolean => (c < 128 ? NAME_CHAR[c] === 1 : true);
const isSpace = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** SyncML documents use one or two prefixes at most. */
const MAX_PREFIXES = 64;

interface Frame {
  el: XmlElement;
  /** The tag as written (with prefix), to match the end tag. */
  qname: string;
  /** Namespace of this element, compared with its children's to decide who records `ns`. */
  ns: string | undefined;
  /** Namespace unprefixed children get. */
  defaultNs: string | undefined;
  /** Prefix declarations in scope; shared with the parent until this element declares one. */
  prefixes: ReadonlyMap<string, string> | undefined;
  /** Text seen since the last child element, kept until we know whether it is significant. */
  text: string;
  textHasNonSpace: boolean;
  hasElements: boolean;
}

function malformed(message: string, at: number): never {
  throw new DecodeError('malformed', `XML: ${message}`, at);
}

/** Offset of the first byte that breaks UTF-8; only called once decoding has already failed. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need: number;
    let min: number;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return b.length;
}

/** The encoding named by an XML declaration at the start of `b`, lower-cased, if any. */
function declaredEncoding(b: Uint8Array): string | undefined {
  if (!(b[0] === 0x3c && b[1] === 0x3f && b[2] === 0x78 && b[3] === 0x6d && b[4] === 0x6c)) return undefined;
  let head = '';
  for (let i = 5; i < b.length && i < 256; i++) {
    const c = b[i]!;
    if (c === 0x3e) break;
    head += String.fromCharCode(c);
  }
  const m = /encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
  return m ? m[1]!.toLowerCase() : undefined;
}

function decodeInput(b: Uint8Array): string {
  if ((b[0] === 0xfe && b[1] === 0xff) || (b[0] === 0xff && b[1] === 0xfe)) {
    throw new DecodeError('unsupported', 'XML: UTF-16 documents are not supported', 0);
  }
  const enc = declaredEncoding(b);
  if (enc !== undefined && !UTF8_LABELS.has(enc)) {
    if (!SINGLE_BYTE_ENCODINGS.has(enc)) {
      throw new DecodeError('unsupported', `XML: encoding "${enc.slice(0, 40)}" is not supported`, 0);
    }
    return new TextDecoder('windows-1252').decode(b);
  }
  try {
    // TextDecoder drops a leading BOM itself.
    return utf8Fatal.decode(b);
  } catch {
    return malformed('invalid UTF-8', firstInvalidUtf8(b));
  }
}

/** Decodes the five predefined entities and character references in s[start, end). */
function decodeEntities(s: string, start: number, end: number): string {
  let out = '';
  let from = start;
  let i = start;
  while (i < end) {
    if (s.charCodeAt(i) !== 0x26 /* & */) {
      i++;
      continue;
    }
    out += s.slice(from, i);
    // Entity names are short; bounding the search keeps a run of bare '&' linear.
    let semi = -1;
    for (let k = i + 1; k < end && k <= i + 12; k++) {
      if (s.charCodeAt(k) === 0x3b) {
        semi = k;
        break;
      }
    }
    if (semi < 0) malformed('unterminated or overlong entity reference', i);
    const name = s.slice(i + 1, semi);
    switch (name) {
      case 'amp':
        out += '&';
        break;
      case 'lt':
        out += '<';
        break;
      case 'gt':
        out += '>';
        break;
      case 'quot':
        out += '"';
        break;
      case 'apos':
        out += "'";
        break;
      default: {
        let cp = NaN;
        if (/^#[0-9]{1,7}$/.test(name)) cp = parseInt(name.slice(1), 10);
        else if (/^#x[0-9A-Fa-f]{1,6}$/.test(name)) cp = parseInt(name.slice(2), 16);
        else malformed(`unknown entity &${name.slice(0, 12)};`, i);
        // NUL is outside XML 1.0, but our own serializer writes it this way when a device
        // value contains one, so accept it back; surrogates can never be characters.
        if (!(cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) malformed(`&${name}; is not a character`, i);
        out += String.fromCodePoint(cp);
      }
    }
    i = semi + 1;
    from = i;
  }
  return out + s.slice(from, end);
}

/**
 * Parses a SyncML XML document into the neutral element tree. Text is kept exactly inside
 * leaf elements; whitespace-only text between elements is dropped. Element names lose
 * their prefix; `ns` is set where an element's namespace differs from its parent's.
 * Throws DecodeError on anything it cannot accept.
 */
export function parseXml(input: string | Uint8Array, limits?: Partial<DecodeLimits>): XmlElement {
  const lim: DecodeLimits = { ...DEFAULT_LIMITS, ...limits };
  // Size first, before a single byte is looked at. A string's UTF-8 length is at least its
  // UTF-16 length, so the exact count is only needed near the limit.
  if (
    input.length > lim.maxBytes ||
    (typeof input === 'string' && input.length * 3 > lim.maxBytes && utf8Length(input) > lim.maxBytes)
  ) {
    throw new DecodeError('too-large', `XML input exceeds ${lim.maxBytes} bytes`);
  }
  const s = typeof input === 'string' ? input : decodeInput(input);
  const n = s.length;
  let i = s.charCodeAt(0) === 0xfeff ? 1 : 0;

  const stack: Frame[] = [];
  let root: XmlElement | undefined;
  let elements = 0;

  const addText = (from: number, to: number, raw: boolean): void => {
    const top = stack[stack.length - 1];
    let hasAmp = false;
    let nonSpace = false;
    for (let k = from; k < to; k++) {
      const c = s.charCodeAt(k);
      if (c === 0x26) hasAmp = true;
      else if (!isSpace(c)) nonSpace = true;
    }
    if (!top) {
      if (nonSpace) malformed('text outside the root element', from);
      return;
    }
    if (from === to) return;
    top.text += hasAmp && !raw ? decodeEntities(s, from, to) : s.slice(from, to);
    if (nonSpace) top.textHasNonSpace = true;
  };

  /** Text before a child element or end tag is kept only when it can mean something. */
  const flushText = (f: Frame, closing: boolean): void => {
    if (f.text.length === 0) return;
    if (f.textHasNonSpace || (closing && !f.hasElements)) f.el.children.push(f.text);
    f.text = '';
    f.textHasNonSpace = false;
  };

  while (i < n) {
    const lt = s.indexOf('<', i);
    if (lt < 0) {
      addText(i, n, false);
      i = n;
      break;
    }
    if (lt > i) addText(i, lt, false);
    i = lt;
    const c1 = s.charCodeAt(i + 1);

    if (c1 === 0x2f /* / */) {
      // End tag.
      const top = stack[stack.length - 1];
      if (!top) malformed('end tag without a start tag', i);
      let j = i + 2;
      // The name it must have, compared in place: a slice per end tag was garbage.
      const q = top.qname;
      const same = s.startsWith(q, j) && !(j + q.length < n && isNameChar(s.charCodeAt(j + q.length)));
      if (same) j += q.length;
      else while (j < n && isNameChar(s.charCodeAt(j))) j++;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) !== 0x3e) malformed('bad end tag', i);
      if (!same) {
        let e = i + 2;
        while (e < n && isNameChar(s.charCodeAt(e))) e++;
        malformed(`end tag </${s.slice(i + 2, e).slice(0, 64)}> does not match <${q.slice(0, 64)}>`, i);
      }
      flushText(top, true);
      stack.pop();
      i = j + 1;
      continue;
    }

    if (c1 === 0x21 /* ! */) {
      if (s.startsWith('<!--', i)) {
        const end = s.indexOf('-->', i + 4);
        if (end < 0) malformed('unterminated comment', i);
        i = end + 3;
        continue;
      }
      if (s.startsWith('<![CDATA[', i)) {
        const end = s.indexOf(']]>', i + 9);
        if (end < 0) malformed('unterminated CDATA section', i);
        if (stack.length === 0) malformed('CDATA outside the root element', i);
        addText(i + 9, end, true);
        i = end + 3;
        continue;
      }
      // DOCTYPE, ENTITY, ELEMENT, conditional sections: refused before reading any of it.
      throw new DecodeError('forbidden-dtd', 'XML: DOCTYPE and other declarations are not accepted', i);
    }

    if (c1 === 0x3f /* ? */) {
      const end = s.indexOf('?>', i + 2);
      if (end < 0) malformed('unterminated processing instruction', i);
      i = end + 2;
      continue;
    }

    // Start tag.
    if (root !== undefined && stack.length === 0) malformed('content after the root element', i);
    let j = i + 1;
    if (j >= n || !isNameStart(s.charCodeAt(j))) malformed(j >= n ? 'truncated tag' : 'bad tag name', i);
    while (j < n && isNameChar(s.charCodeAt(j))) j++;
    const qname = s.slice(i + 1, j);

    let defaultDecl: string | undefined;
    let prefixDecls: Map<string, string> | undefined;
    let selfClosing = false;
    for (;;) {
      const afterName = j;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (j >= n) malformed('truncated tag', i);
      const c = s.charCodeAt(j);
      if (c === 0x3e) {
        j++;
        break;
      }
      if (c === 0x2f) {
        if (s.charCodeAt(j + 1) !== 0x3e) malformed('bad empty-element tag', j);
        selfClosing = true;
        j += 2;
        break;
      }
      if (j === afterName || !isNameStart(c)) malformed('bad attribute', j);
      const an = j;
      while (j < n && isNameChar(s.charCodeAt(j))) j++;
      const attr = s.slice(an, j);
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      if (s.charCodeAt(j) !== 0x3d /* = */) malformed('attribute without a value', j);
      j++;
      while (j < n && isSpace(s.charCodeAt(j))) j++;
      const q = s.charCodeAt(j);
      if (q !== 0x22 && q !== 0x27) malformed('unquoted attribute value', j);
      const vEnd = s.indexOf(q === 0x22 ? '"' : "'", j + 1);
      if (vEnd < 0) malformed('unterminated attribute value', j);
      if (attr === 'xmlns') {
        defaultDecl = decodeEntities(s, j + 1, vEnd);
      } else if (attr.startsWith('xmlns:')) {
        prefixDecls ??= new Map();
        prefixDecls.set(attr.slice(6), decodeEntities(s, j + 1, vEnd));
      }
      j = vEnd + 1;
    }

    if (++elements > lim.maxElements) {
      throw new DecodeError('too-many-elements', `more than ${lim.maxElements} elements`, i);
    }
    if (stack.length + 1 > lim.maxDepth) {
      throw new DecodeError('too-deep', `nesting deeper than ${lim.maxDepth}`, i);
    }

    const parent = stack[stack.length - 1];
    let prefixes = parent?.prefixes;
    if (prefixDecls) {
      const merged = new Map(prefixes ?? []);
      for (const [k, v] of prefixDecls) merged.set(k, v);
      // Each declaring element copies its scope; a cap keeps that from going quadratic.
      if (merged.size > MAX_PREFIXES) {
        throw new DecodeError('unsupported', `XML: more than ${MAX_PREFIXES} namespace prefixes in scope`, i);
      }
      prefixes = merged;
    }
    const defaultNs = defaultDecl ?? parent?.defaultNs;
    const colon = qname.lastIndexOf(':');
    const name = colon < 0 ? qname : qname.slice(colon + 1);
    if (name.length === 0) malformed('empty local name', i);
    // An undeclared prefix is an error in XML; a device that sends one still means SyncML,
    // so the element stays in its parent's namespace.
    const ns = colon < 0 ? defaultNs : (prefixes?.get(qname.slice(0, colon)) ?? parent?.ns);

    const el: XmlElement = { name, children: [] };
    if (ns !== undefined && ns !== parent?.ns) el.ns = ns;
    if (parent) {
      flushText(parent, false);
      parent.hasElements = true;
      parent.el.children.push(el);
    } else {
      root = el;
    }
    if (!selfClosing) {
      stack.push({ el, qname, ns, defaultNs, prefixes, text: '', textHasNonSpace: false, hasElements: false });
    }
    i = j;
  }

  if (stack.length > 0) malformed(`truncated: <${stack[stack.length - 1]!.qname.slice(0, 64)}> is not closed`, n);
  if (!root) malformed('no root element', n);
  return root;
}

// ---------------------------------------------------------------------------------------------
// Serializer
// ---------------------------------------------------------------------------------------------

const XML_NAME = /^[A-Za-z_][-A-Za-z0-9_.]*$/;
const knownGoodNames = new Set<string>();
function checkName(name: string): string {
  if (knownGoodNames.has(name)) return name;
  if (name.length > 256 || !XML_NAME.test(name))
    throw new Error(`serializeXml: "${name.slice(0, 64)}" is not an element name`);
  if (knownGoodNames.size < 4096) knownGoodNames.add(name);
  return name;
}

/**
 * Escapes text content. Controls other than tab and LF become character references: CR so
 * that it survives end-of-line normalisation elsewhere, the rest so the output stays
 * readable to parsers that accept XML 1.1 references.
 */
function escapeText(s: string, attr: boolean): string {
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x26 || c === 0x3c || c === 0x3e || c < 0x20 || (attr && (c === 0x22 || c === 0x27))) break;
  }
  if (i === s.length) return s;
  let out = s.slice(0, i);
  let from = i;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string | undefined;
    switch (c) {
      case 0x26:
        rep = '&amp;';
        break;
      case 0x3c:
        rep = '&lt;';
        break;
      case 0x3e:
        rep = '&gt;';
        break;
      case 0x22:
        if (attr) rep = '&quot;';
        break;
      case 0x27:
        if (attr) rep = '&apos;';
        break;
      case 0x09:
      case 0x0a:
        if (attr) rep = `&#${c};`;
        break;
      default:
        if (c < 0x20) rep = `&#${c};`;
    }
    if (rep !== undefined) {
      out += s.slice(from, i) + rep;
      from = i + 1;
    }
  }
  return out + s.slice(from);
}

/** Walks the tree without recursion, handing each piece of output to `emit`. */
function writeXml(root: XmlElement, emit: (s: string) => void): void {
  const open = (el: XmlElement): boolean => {
    const name = checkName(el.name);
    const attrs = el.ns !== undefined ? ` xmlns="${escapeText(el.ns, true)}"` : '';
    if (el.children.length === 0) {
      emit(`<${name}${attrs}/>`);
      return false;
    }
    emit(`<${name}${attrs}>`);
    return true;
  };
  const stack: { el: XmlElement; next: number }[] = [];
  if (open(root)) stack.push({ el: root, next: 0 });
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const c: XmlNode | undefined = f.el.children[f.next++];
    if (c === undefined) {
      emit(`</${f.el.name}>`);
      stack.pop();
    } else if (typeof c === 'string') {
      emit(escapeText(c, false));
    } else if (c instanceof Uint8Array) {
      emit(base64Encode(c));
    } else if (open(c)) {
      stack.push({ el: c, next: 0 });
    }
  }
}

export const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>';

/**
 * Compact XML for an element tree: `ns` becomes an xmlns attribute, opaque bytes become
 * base64 text. Throws a plain Error for names XML cannot carry.
 */
export function serializeXml(root: XmlElement, opts?: { declaration?: boolean }): string {
  const parts: string[] = opts?.declaration ? [XML_DECLARATION] : [];
  writeXml(root, (s) => {
    parts.push(s);
  });
  return parts.join('');
}

/**
 * UTF-8 size of serializeXml(root), counted without building any of its strings (the outbox
 * measures every command it packs). Mirrors writeXml; the tests hold the two equal.
 */
export function serializedXmlSize(root: XmlElement, opts?: { declaration?: boolean }): number {
  let n = (opts?.declaration ? XML_DECLARATION.length : 0) + startTagSize(root);
  const stack: { el: XmlElement; next: number }[] = [];
  if (root.children.length > 0) stack.push({ el: root, next: 0 });
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const c: XmlNode | undefined = f.el.children[f.next++];
    if (c === undefined) {
      n += 3 + f.el.name.length;
      stack.pop();
    } else if (typeof c === 'string') {
      n += escapedSize(c, false);
    } else if (c instanceof Uint8Array) {
      n += Math.ceil(c.length / 3) * 4;
    } else {
      n += startTagSize(c);
      if (c.children.length > 0) stack.push({ el: c, next: 0 });
    }
  }
  return n;
}

/** `<name>` or `<name/>`, with ` xmlns="…"`; names are ASCII (checkName). */
function startTagSize(el: XmlElement): number {
  const n = 1 + checkName(el.name).length + (el.ns !== undefined ? 9 + escapedSize(el.ns, true) : 0);
  return n + (el.children.length === 0 ? 2 : 1);
}

/** utf8Length(escapeText(s, attr)) without building the escaped text. */
function escapedSize(s: string, attr: boolean): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20) {
        if (c === 0x26) n += 5;
        else if (c === 0x3c || c === 0x3e) n += 4;
        else if (attr && (c === 0x22 || c === 0x27)) n += 6;
        else n += 1;
      } else if ((c === 0x09 || c === 0x0a) && !attr) n += 1;
      else n += c < 10 ? 4 : 5; // &#N; or &#NN;
    } else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
