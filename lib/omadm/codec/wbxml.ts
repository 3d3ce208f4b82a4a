/**
 * WBXML 1.1-1.3 codec for SyncML 1.2 (DM and DS), MetInf and DevInf documents.
 *
 * Decoding treats the input as hostile: every length and index is checked against what is
 * left of the input before it is used, nesting is tracked on an explicit stack rather than
 * the JS call stack, and every failure is a DecodeError. Encoding follows what libwbxml's
 * xml2wbxml writes for a SyncML 1.2 document (numeric public id 0x1201, UTF-8, MetInf on
 * page 1 with lazy page switches, DevInf inside Data as a nested WBXML document in OPAQUE),
 * but builds its string table in linear time.
 */
import { DEFAULT_LIMITS, isElement } from './element';
import type { DecodeLimits, XmlElement } from './element';
import { DecodeError } from '../errors';
import { utf8Length } from '../util/bytes';
import {
  CHARSET_US_ASCII,
  CHARSET_UTF8,
  PUBLIC_ID_UNKNOWN,
  SYNCML12,
  T,
  docTypeByFpi,
  docTypeByNs,
  docTypeByPublicId,
} from './wbxml-tokens';
import type { CodePage, DocType } from './wbxml-tokens';

// ---------------------------------------------------------------------------------------------
// Decoder
// ---------------------------------------------------------------------------------------------

const MAX_U32 = 0xffffffff;
// ignoreBOM: a string's leading U+FEFF is content (WBXML strings are not documents), not a byte-order mark to drop.
const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  fail(message: string, at = this.pos): never {
    throw new DecodeError('malformed', `WBXML: ${message}`, at);
  }

  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) this.fail('unexpected end of input');
    this.pos++;
    return b;
  }

  /**
   * mb_u_int32: at most 5 bytes and a value below 2^32. Anything longer is either corrupt or
   * an attempt to make us loop; lengths are further checked by their callers.
   */
  mbUint32(): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      // Multiplication rather than shifts: shifts are 32-bit signed in JS.
      v = v * 128 + (b & 0x7f);
      if ((b & 0x80) === 0) {
        if (v > MAX_U32) this.fail('mb_u_int32 exceeds 32 bits', start);
        return v;
      }
    }
    this.fail('mb_u_int32 longer than 5 bytes', start);
  }

  /** A length that must fit in what is left of the input. */
  length(what: string): number {
    const start = this.pos;
    const n = this.mbUint32();
    if (n > this.buf.length - this.pos) this.fail(`${what} length ${n} exceeds remaining input`, start);
    return n;
  }

  /** A NUL-terminated inline string. */
  cstr(ascii: boolean): string {
    const start = this.pos;
    const end = this.buf.indexOf(0, start);
    if (end < 0) this.fail('unterminated inline string', start);
    this.pos = end + 1;
    return decodeText(this.buf, start, end, ascii, this);
  }
}

function decodeText(buf: Uint8Array, start: number, end: number, ascii: boolean, r: Reader): string {
  // Most SyncML strings are short ASCII (CmdIDs, paths, status codes); skipping TextDecoder
  // for them roughly doubles decode throughput.
  if (end - start <= 64) {
    let i = start;
    while (i < end && buf[i]! < 0x80) i++;
    if (i === end) {
      // One allocation for the whole string; subarray is a view, not a copy.
      return String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
    }
  }
  if (ascii) {
    for (let i = start; i < end; i++) if (buf[i]! >= 0x80) r.fail('non-ASCII byte in US-ASCII document', i);
  }
  try {
    return utf8Fatal.decode(buf.subarray(start, end));
  } catch {
    r.fail('invalid UTF-8', start);
  }
}

interface Frame {
  el: XmlElement;
  /** The namespace in effect for this element (its own ns or inherited). */
  ns: string;
}

/**
 * Decodes a WBXML document into the neutral element tree.
 *
 * Nested WBXML documents in OPAQUE (DevInf inside Data) are left as bytes; see
 * `looksLikeWbxml` and `decodeWbxml` for callers that want to look inside.
 */
export function decodeWbxml(input: Uint8Array, limits?: Partial<DecodeLimits>): XmlElement {
  const lim: DecodeLimits = { ...DEFAULT_LIMITS, ...limits };
  if (input.length > lim.maxBytes) {
    throw new DecodeError('too-large', `WBXML input of ${input.length} bytes exceeds ${lim.maxBytes}`);
  }
  const r: Reader = new Reader(input);

  // --- header -------------------------------------------------------------------------------
  const version = r.byte();
  if (version < 0x01 || version > 0x03) {
    throw new DecodeError('unsupported', `WBXML version byte 0x${version.toString(16)} not supported`, 0);
  }
  const pidAt = r.pos;
  const publicId = r.mbUint32();
  let fpiIndex = -1;
  if (publicId === 0) fpiIndex = r.mbUint32();
  const charsetAt = r.pos;
  const charset = r.mbUint32();
  if (charset !== CHARSET_UTF8 && charset !== CHARSET_US_ASCII) {
    throw new DecodeError('unsupported', `WBXML charset MIBenum ${charset} not supported`, charsetAt);
  }
  const ascii = charset === CHARSET_US_ASCII;
  const tblLen = r.length('string table');
  const tblStart = r.pos;
  const table = input.subarray(tblStart, tblStart + tblLen);
  r.pos += tblLen;

  /*
   * The string table lets a few bytes stand for a long string, as often as the sender
   * likes: left unchecked that is an amplification attack (a 1 KB body naming a 500 KB
   * string a thousand times, or a thousand different suffixes of it). So every byte of
   * content the tree receives is charged against maxBytes, as if the document had come as
   * XML, and the terminator of a table string is found by binary search over the NUL
   * positions rather than by rescanning the table.
   */
  let content = 0;
  const charge = (n: number, at: number): void => {
    content += n;
    if (content > lim.maxBytes) {
      throw new DecodeError('too-large', `WBXML content expands beyond ${lim.maxBytes} bytes`, at);
    }
  };
  let nuls: number[] | undefined;
  const tableEnd = (idx: number): number => {
    if (!nuls) {
      nuls = [];
      for (let i = table.indexOf(0); i >= 0; i = table.indexOf(0, i + 1)) nuls.push(i);
    }
    let lo = 0;
    let hi = nuls.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (nuls[mid]! < idx) lo = mid + 1;
      else hi = mid;
    }
    return lo < nuls.length ? nuls[lo]! : -1;
  };
  const tableCache = new Map<number, string>();
  const tableString = (at: number): string => {
    const idx = r.mbUint32();
    if (idx >= table.length) r.fail(`string table index ${idx} out of range`, at);
    const end = tableEnd(idx);
    if (end < 0) r.fail('unterminated string in string table', at);
    charge(end - idx, at);
    const hit = tableCache.get(idx);
    if (hit !== undefined) return hit;
    const s = decodeText(table, idx, end, ascii, r);
    tableCache.set(idx, s);
    return s;
  };

  let doc: DocType | undefined;
  if (publicId === 0) {
    if (fpiIndex >= table.length) r.fail(`public id string index ${fpiIndex} out of range`, pidAt);
    const end = table.indexOf(0, fpiIndex);
    if (end < 0) r.fail('unterminated public id string', pidAt);
    const fpi = decodeText(table, fpiIndex, end, ascii, r);
    doc = docTypeByFpi(fpi);
    if (!doc) throw new DecodeError('unsupported', `WBXML public id "${fpi.slice(0, 80)}" not supported`, pidAt);
  } else if (publicId === PUBLIC_ID_UNKNOWN) {
    // "Unknown" is what some DM clients send; in a DM exchange that can only mean SyncML.
    doc = SYNCML12;
  } else {
    doc = docTypeByPublicId(publicId);
    if (!doc) {
      throw new DecodeError('unsupported', `WBXML public id 0x${publicId.toString(16)} not supported`, pidAt);
    }
  }

  // --- body ---------------------------------------------------------------------------------
  let page: CodePage | undefined = doc.pages.get(0);
  let pageIndex = 0;
  let root: XmlElement | undefined;
  const stack: Frame[] = [];
  let elements = 0;

  const addText = (s: string, at: number): void => {
    const top = stack[stack.length - 1];
    if (!top) r.fail('text outside the root element', at);
    if (s.length === 0) return;
    const kids = top.el.children;
    const last = kids.length - 1;
    const prev = kids[last];
    if (typeof prev === 'string') kids[last] = prev + s;
    else kids.push(s);
  };

  while (root === undefined || stack.length > 0) {
    const at = r.pos;
    const tok = r.byte();
    switch (tok) {
      case T.SWITCH_PAGE:
        pageIndex = r.byte();
        page = doc.pages.get(pageIndex);
        continue;
      case T.END: {
        if (!stack.pop()) r.fail('END outside any element', at);
        continue;
      }
      case T.STR_I: {
        const str = r.cstr(ascii);
        charge(r.pos - at, at);
        addText(str, at);
        continue;
      }
      case T.STR_T:
        addText(tableString(at), at);
        continue;
      case T.ENTITY: {
        const cp = r.mbUint32();
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) r.fail(`ENTITY ${cp} is not a character`, at);
        addText(String.fromCodePoint(cp), at);
        continue;
      }
      case T.OPAQUE: {
        const n = r.length('OPAQUE');
        const top = stack[stack.length - 1];
        if (!top) r.fail('OPAQUE outside the root element', at);
        charge(n, at);
        // A copy, so the tree does not pin (or alias) the whole request body.
        top.el.children.push(input.slice(r.pos, r.pos + n));
        r.pos += n;
        continue;
      }
      case T.PI:
      case T.EXT_I_0:
      case T.EXT_I_1:
      case T.EXT_I_2:
      case T.EXT_T_0:
      case T.EXT_T_1:
      case T.EXT_T_2:
      case T.EXT_0:
      case T.EXT_1:
      case T.EXT_2:
        throw new DecodeError('unsupported', `WBXML token 0x${tok.toString(16)} not used by SyncML`, at);
      default:
        break;
    }

    // A tag.
    if (tok & 0x80) {
      throw new DecodeError('unsupported', 'WBXML attributes are not used by SyncML', at);
    }
    if (root !== undefined && stack.length === 0) r.fail('content after the root element', at);
    const hasContent = (tok & 0x40) !== 0;
    const id = tok & 0x3f;
    let name: string;
    let ns: string;
    const parent = stack[stack.length - 1];
    if (id === T.LITERAL) {
      name = tableString(at);
      if (!isXmlName(name)) r.fail('LITERAL tag name is not an XML name', at);
      // A literal belongs to whatever page is current; on an unknown page keep the parent's.
      ns = page?.ns ?? parent?.ns ?? doc.ns;
    } else {
      if (!page) {
        throw new DecodeError('unsupported', `WBXML code page ${pageIndex} not defined for ${doc.ns}`, at);
      }
      const known = page.names.get(id);
      if (known === undefined) r.fail(`unknown tag token 0x${id.toString(16)} on code page ${pageIndex}`, at);
      name = known;
      ns = page.ns;
    }
    if (++elements > lim.maxElements) {
      throw new DecodeError('too-many-elements', `more than ${lim.maxElements} elements`, at);
    }
    const el: XmlElement = { name, children: [] };
    if (!parent || parent.ns !== ns) el.ns = ns;
    if (parent) parent.el.children.push(el);
    else root = el;
    if (hasContent) {
      if (stack.length + 1 > lim.maxDepth) {
        throw new DecodeError('too-deep', `nesting deeper than ${lim.maxDepth}`, at);
      }
      stack.push({ el, ns });
    }
  }
  if (r.pos !== input.length) r.fail('trailing bytes after the root element');
  return root;
}

// XML 1.0 Name, restricted to what a LITERAL tag can usefully be; guards serializeXml output.
const XML_NAME = /^[A-Za-z_:][-A-Za-z0-9_.:]*$/;
function isXmlName(s: string): boolean {
  return s.length > 0 && s.length <= 256 && XML_NAME.test(s);
}

/**
 * Whether `bytes` starts like a WBXML document of a type this codec knows (the nested DevInf
 * inside a SyncML Data element, for instance). Cheap: inspects the header only.
 */
export function looksLikeWbxml(bytes: Uint8Array): boolean {
  const v = bytes[0];
  if (v === undefined || v < 0x01 || v > 0x03) return false;
  try {
    const r: Reader = new Reader(bytes);
    r.pos = 1;
    const pid = r.mbUint32();
    if (pid === 0) return true; // literal FPI; decodeWbxml decides whether it knows it
    return docTypeByPublicId(pid) !== undefined;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------------------------

const utf8 = new TextEncoder();

class Writer {
  buf: Uint8Array;
  len = 0;
  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  mb(v: number): void {
    this.ensure(5);
    let n = 1;
    while (v >= 128 ** n && n < 5) n++;
    for (let i = n - 1; i >= 0; i--) {
      const part = Math.floor(v / 128 ** i) & 0x7f;
      this.buf[this.len++] = i > 0 ? part | 0x80 : part;
    }
  }
  /** UTF-8 of `s` without its terminator; returns the byte count. */
  utf8(s: string): number {
    this.ensure(s.length * 3);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.len));
    this.len += written;
    return written;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function mbLen(v: number): number {
  let n = 1;
  while (v >= 128 ** n && n < 5) n++;
  return n;
}

export interface WbxmlEncodeOptions {
  /** Share repeated strings through the string table (default true). */
  stringTable?: boolean;
  /** WBXML version byte: 0x01..0x03 (default 0x02, WBXML 1.2, which every DM client reads). */
  version?: number;
}

/** Strings shorter than this never pay for a table entry. */
const MIN_SHARED = 4;

interface Plan {
  /** Text -> offset in the string table. */
  offsets: Map<string, number>;
  table: Writer;
}

function addToTable(plan: Plan, s: string): number {
  let off = plan.offsets.get(s);
  if (off === undefined) {
    off = plan.table.len;
    plan.table.utf8(s);
    plan.table.byte(0);
    plan.offsets.set(s, off);
  }
  return off;
}

/** The plan of a document that needs no string table: shared, never added to. */
const NO_TABLE: Plan = { offsets: new Map(), table: new Writer(1) };

/**
 * The planner's stack, kept between calls (elements and their namespaces side by side): the
 * outbox measures every command, and a stack of new objects per measure was garbage. Each
 * call uses only what it pushed above `base`, so a call inside another would still be safe.
 */
const planEls: XmlElement[] = [];
const planNs: string[] = [];

/** Counts every text node once and every literal tag name, without recursion. */
function planStringTable(root: XmlElement, doc: DocType, shareText: boolean): Plan {
  // Made only when something goes in the table: most measured commands need none.
  let plan: Plan | undefined;
  let counts: Map<string, number> | undefined;
  const base = planEls.length;
  planEls.push(root);
  planNs.push(doc.ns);
  while (planEls.length > base) {
    const el = planEls.pop()!;
    const inherited = planNs.pop()!;
    const myNs = el.ns ?? inherited;
    const pg = pageFor(doc, myNs);
    // Nested documents get their own table.
    if (!pg && el !== root) continue;
    // Small at first (most documents need no table at all); it grows when it must.
    if (pg && !pg.tokens.has(el.name)) addToTable((plan ??= { offsets: new Map(), table: new Writer(64) }), el.name);
    for (const c of el.children) {
      if (typeof c === 'string') {
        if (shareText && c.length >= MIN_SHARED) (counts ??= new Map()).set(c, (counts.get(c) ?? 0) + 1);
      } else if (isElement(c)) {
        planEls.push(c);
        planNs.push(myNs);
      }
    }
  }
  if (!counts) return plan ?? NO_TABLE;
  for (const [s, n] of counts) {
    if (n < 2) continue;
    plan ??= { offsets: new Map(), table: new Writer(64) };
    // UTF-16 length is a lower bound of the UTF-8 length: good enough to decide.
    const inline = n * (s.length + 2);
    const shared = s.length + 1 + n * (1 + mbLen(plan.table.len));
    // A margin of 2: the table's own length field may grow a byte when this entry lands.
    if (shared + 2 <= inline) addToTable(plan, s);
  }
  return plan ?? NO_TABLE;
}

/** Each document type's code pages as an array: iterating the Map made an iterator per element. */
const PAGE_LISTS = new Map<DocType, CodePage[]>();

function pageFor(doc: DocType, ns: string): CodePage | undefined {
  let pages = PAGE_LISTS.get(doc);
  if (!pages) PAGE_LISTS.set(doc, (pages = [...doc.pages.values()]));
  // The namespaces our own trees carry match exactly: only a peer's odd spelling needs the lower-casing.
  for (const p of pages) if (p.ns === ns) return p;
  const lower = ns.toLowerCase();
  for (const p of pages) if (p.ns.toLowerCase() === lower) return p;
  return undefined;
}

interface EncFrame {
  el: XmlElement;
  ns: string;
  /** Index of the next child to write. */
  next: number;
}

/** Whether an element is written with content: any child but empty text. */
function hasContent(el: XmlElement): boolean {
  for (const c of el.children) if (typeof c !== 'string' || c.length > 0) return true;
  return false;
}

/**
 * Encodes an element tree as WBXML. The root's `ns` picks the document type (SyncML 1.2 when
 * absent). An element whose namespace has no code page in that document type starts a nested
 * document written as OPAQUE: that is how DevInf travels inside a SyncML Data element.
 * Throws a plain Error for trees no WBXML document can express (unknown namespaces).
 */
export function encodeWbxml(root: XmlElement, opts?: WbxmlEncodeOptions): Uint8Array {
  const doc = root.ns === undefined ? SYNCML12 : docTypeByNs(root.ns);
  if (!doc) throw new Error(`encodeWbxml: no WBXML document type for namespace "${root.ns}"`);
  const version = opts?.version ?? 0x02;
  if (!Number.isInteger(version) || version < 1 || version > 3) {
    throw new Error(`encodeWbxml: WBXML version byte ${version} not supported`);
  }
  const shareText = opts?.stringTable ?? true;
  const plan = planStringTable(root, doc, shareText);

  const out = new Writer(4096);
  out.byte(version);
  out.mb(doc.publicId);
  out.mb(CHARSET_UTF8);
  out.mb(plan.table.len);
  out.bytes(plan.table.buf.subarray(0, plan.table.len));

  let pageIndex = 0;
  const writeTag = (pg: CodePage, el: XmlElement, content: boolean): void => {
    const flag = content ? 0x40 : 0;
    if (pageIndex !== pg.index) {
      out.byte(T.SWITCH_PAGE);
      out.byte(pg.index);
      pageIndex = pg.index;
    }
    const tok = pg.tokens.get(el.name);
    if (tok !== undefined) {
      out.byte(tok | flag);
    } else {
      const off = plan.offsets.get(el.name);
      if (off === undefined) throw new Error(`encodeWbxml: literal "${el.name}" missing from string table`);
      out.byte(T.LITERAL | flag);
      out.mb(off);
    }
  };

  const writeText = (s: string): void => {
    const off = plan.offsets.get(s);
    if (off !== undefined) {
      out.byte(T.STR_T);
      out.mb(off);
      return;
    }
    // NUL cannot appear in an inline string; it can only travel as an ENTITY.
    let from = 0;
    for (;;) {
      const nul = s.indexOf('\u0000', from);
      const part = nul < 0 ? s.slice(from) : s.slice(from, nul);
      if (part.length > 0) {
        out.byte(T.STR_I);
        out.utf8(part);
        out.byte(0);
      }
      if (nul < 0) return;
      out.byte(T.ENTITY);
      out.byte(0);
      from = nul + 1;
    }
  };

  const stack: EncFrame[] = [];

  /** Writes an element's start; returns a frame if it has content to walk. */
  const open = (el: XmlElement, inheritedNs: string): EncFrame | undefined => {
    const ns = el.ns ?? inheritedNs;
    const pg = pageFor(doc, ns);
    if (!pg) throw new Error(`encodeWbxml: namespace "${ns}" has no code page in ${doc.ns}`);
    const content = hasContent(el);
    writeTag(pg, el, content);
    return content ? { el, ns, next: 0 } : undefined;
  };

  const rootFrame = open(root, doc.ns);
  if (rootFrame) stack.push(rootFrame);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const kids = f.el.children;
    if (f.next >= kids.length) {
      out.byte(T.END);
      stack.pop();
      continue;
    }
    const c = kids[f.next++]!;
    if (typeof c === 'string') {
      // Empty text is no content: hasContent left it out too.
      if (c.length > 0) writeText(c);
    } else if (c instanceof Uint8Array) {
      out.byte(T.OPAQUE);
      out.mb(c.length);
      out.bytes(c);
    } else {
      const ns = c.ns ?? f.ns;
      if (!pageFor(doc, ns)) {
        // A different document type (DevInf inside Data): its own WBXML document, as OPAQUE.
        const nestedDoc = docTypeByNs(ns);
        if (!nestedDoc) throw new Error(`encodeWbxml: no WBXML document type for namespace "${ns}"`);
        const nested = encodeWbxml({ ...c, ns: nestedDoc.ns }, { stringTable: shareText, version });
        out.byte(T.OPAQUE);
        out.mb(nested.length);
        out.bytes(nested);
        continue;
      }
      const child = open(c, f.ns);
      if (child) stack.push(child);
    }
  }
  return out.result();
}

/**
 * encodeWbxml(root, opts).length, counted without writing the document: the outbox measures
 * every command it packs, and building its bytes only to take their length cost an encoding
 * per command. Mirrors encodeWbxml step for step (the property tests hold them equal).
 */
export function encodedWbxmlSize(root: XmlElement, opts?: WbxmlEncodeOptions): number {
  const doc = root.ns === undefined ? SYNCML12 : docTypeByNs(root.ns);
  if (!doc) throw new Error(`encodeWbxml: no WBXML document type for namespace "${root.ns}"`);
  const version = opts?.version ?? 0x02;
  if (!Number.isInteger(version) || version < 1 || version > 3) {
    throw new Error(`encodeWbxml: WBXML version byte ${version} not supported`);
  }
  return documentSize(root, doc, opts?.stringTable ?? true);
}

function documentSize(root: XmlElement, doc: DocType, shareText: boolean): number {
  const plan = planStringTable(root, doc, shareText);
  const tableLen = plan.table.len;
  const head = 1 + mbLen(doc.publicId) + mbLen(CHARSET_UTF8) + mbLen(tableLen) + tableLen;
  const at: SizeState = { n: head, pageIndex: 0 };
  const stack: EncFrame[] = [];
  const rootFrame = openSize(at, doc, plan, root, doc.ns);
  if (rootFrame) stack.push(rootFrame);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    const kids = f.el.children;
    if (f.next >= kids.length) {
      at.n += 1; // END
      stack.pop();
      continue;
    }
    const c = kids[f.next++]!;
    if (typeof c === 'string') {
      if (c.length > 0) at.n += textSize(c, plan);
    } else if (c instanceof Uint8Array) {
      at.n += 1 + mbLen(c.length) + c.length;
    } else {
      const ns = c.ns ?? f.ns;
      if (!pageFor(doc, ns)) {
        const nestedDoc = docTypeByNs(ns);
        if (!nestedDoc) throw new Error(`encodeWbxml: no WBXML document type for namespace "${ns}"`);
        const nested = documentSize({ ...c, ns: nestedDoc.ns }, nestedDoc, shareText);
        at.n += 1 + mbLen(nested) + nested;
        continue;
      }
      const child = openSize(at, doc, plan, c, f.ns);
      if (child) stack.push(child);
    }
  }
  return at.n;
}

/** Bytes counted so far and the code page the encoder would be on. */
interface SizeState {
  n: number;
  pageIndex: number;
}

/**
 * Counts what writeTag writes for an element's start; returns a frame if it has content.
 * (Module functions rather than closures: the runtime names each closure it creates, and
 * this runs for every command the outbox measures.)
 */
function openSize(at: SizeState, doc: DocType, plan: Plan, el: XmlElement, inheritedNs: string): EncFrame | undefined {
  const ns = el.ns ?? inheritedNs;
  const pg = pageFor(doc, ns);
  if (!pg) throw new Error(`encodeWbxml: namespace "${ns}" has no code page in ${doc.ns}`);
  if (at.pageIndex !== pg.index) {
    at.n += 2;
    at.pageIndex = pg.index;
  }
  if (pg.tokens.has(el.name)) at.n += 1;
  else {
    const off = plan.offsets.get(el.name);
    if (off === undefined) throw new Error(`encodeWbxml: literal "${el.name}" missing from string table`);
    at.n += 1 + mbLen(off);
  }
  return hasContent(el) ? { el, ns, next: 0 } : undefined;
}

/** What writeText writes for `s`: a table reference, or inline strings with each NUL as an ENTITY. */
function textSize(s: string, plan: Plan): number {
  const off = plan.offsets.get(s);
  if (off !== undefined) return 1 + mbLen(off);
  let n = 0;
  let from = 0;
  for (;;) {
    const nul = s.indexOf('\u0000', from);
    const end = nul < 0 ? s.length : nul;
    if (end > from) n += 2 + utf8Length(s, from, end);
    if (nul < 0) return n;
    n += 2;
    from = nul + 1;
  }
}
