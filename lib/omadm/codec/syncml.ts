/**
 * SyncML <-> neutral element tree, shared by the XML and WBXML codecs.
 *
 * Reading is order-tolerant: real clients put a Correlator before Data or Meta after an
 * Item, so children are always looked up by name, never by position, and elements this
 * model does not know are ignored. Writing follows the SyncML 1.2 / MetInf 1.2 DTD order
 * exactly, which is what the specifications' examples and libwbxml produce.
 *
 * Text outside Data is trimmed of XML whitespace (pretty-printed messages indent it);
 * Data is kept exactly, because node values can begin or end with significant spaces.
 */
import { isElement } from './element';
import type { XmlElement, XmlNode } from './element';
import { DecodeError } from '../errors';
import { utf8Decode, utf8Encode, concatBytes } from '../util/bytes';
import type { Chal, Command, Cred, Item, ItemData, LocInfo, MapItem, Meta, SyncHdr, SyncMLMessage } from '../message';

export const NS_SYNCML12 = 'SYNCML:SYNCML1.2';
export const NS_METINF = 'syncml:metinf';

/** Largest CmdID/MsgID/MsgRef/CmdRef accepted: the spec's numbers fit 32 bits. */
const MAX_ID = 0xffffffff;

// ---------------------------------------------------------------------------------------------
// Element -> message
// ---------------------------------------------------------------------------------------------

function invalid(message: string): never {
  throw new DecodeError('invalid', `SyncML: ${message}`);
}

function child(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) if (isElement(c) && c.name === name) return c;
  return undefined;
}

function childrenNamed(el: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of el.children) if (isElement(c) && c.name === name) out.push(c);
  return out;
}

function has(el: XmlElement, name: string): boolean {
  return child(el, name) !== undefined;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function trimXml(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isXmlSpace(s.charCodeAt(a))) a++;
  while (b > a && isXmlSpace(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Opaque bytes where text is expected (some WBXML encoders do that) must still be UTF-8. */
function opaqueText(b: Uint8Array, where: string): string {
  try {
    return utf8Decode(b);
  } catch {
    return invalid(`${where} is not UTF-8 text`);
  }
}

/** The text content of an element, ignoring any element children. */
function rawText(el: XmlElement): string {
  let s = '';
  for (const c of el.children) {
    if (typeof c === 'string') s += c;
    else if (c instanceof Uint8Array) s += opaqueText(c, el.name);
  }
  return s;
}

const text = (el: XmlElement): string => trimXml(rawText(el));

function optText(el: XmlElement, name: string): string | undefined {
  const c = child(el, name);
  return c ? text(c) : undefined;
}

function reqText(el: XmlElement, name: string): string {
  const c = child(el, name);
  if (!c) invalid(`<${el.name}> lacks <${name}>`);
  return text(c);
}

/** `<parent><name>` names the element in the error, built only on failure: this runs for every CmdID. */
function parseNumber(s: string, parent: string, name: string, max: number): number {
  if (s.length === 0 || s.length > 16 || !isDigits(s))
    invalid(`<${parent}><${name}> "${s.slice(0, 32)}" is not a non-negative integer`);
  const v = Number(s);
  if (v > max) invalid(`<${parent}><${name}> ${s} is out of range`);
  return v;
}

function isDigits(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function reqNumber(el: XmlElement, name: string, max = MAX_ID): number {
  return parseNumber(reqText(el, name), el.name, name, max);
}

function optNumber(el: XmlElement, name: string, max = MAX_ID): number | undefined {
  const s = optText(el, name);
  return s === undefined ? undefined : parseNumber(s, el.name, name, max);
}

function readLocInfo(el: XmlElement): LocInfo {
  // One pass for both children (the first of each, as child() finds them).
  let uri: XmlElement | undefined;
  let name: XmlElement | undefined;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    if (c.name === 'LocURI') uri ??= c;
    else if (c.name === 'LocName') name ??= c;
  }
  if (!uri) invalid(`<${el.name}> lacks <LocURI>`);
  const loc: LocInfo = { locURI: text(uri) };
  if (name) loc.locName = text(name);
  return loc;
}

function optLocInfo(el: XmlElement, name: string): LocInfo | undefined {
  const c = child(el, name);
  return c ? readLocInfo(c) : undefined;
}

function reqLocInfo(el: XmlElement, name: string): LocInfo {
  const c = child(el, name);
  if (!c) invalid(`<${el.name}> lacks <${name}>`);
  return readLocInfo(c);
}

/** The MetInf fields read into Meta, each with a bit to note it was seen. */
const KNOWN_METINF = new Map([
  ['Format', 1],
  ['Type', 2],
  ['Mark', 4],
  ['Size', 8],
  ['NextNonce', 16],
  ['Version', 32],
  ['MaxMsgSize', 64],
  ['MaxObjSize', 128],
  ['Anchor', 256],
]);

/** MetInf children, whether written straight into Meta or wrapped in a MetInf element. */
function readMeta(el: XmlElement): Meta {
  const meta: Meta = {};
  visitMeta(meta, el, false, 0);
  return meta;
}

/**
 * Reads `parent`'s MetInf fields into `meta`; `seen` has the bits of the fields read
 * already, and the result those read now as well. (A function of its own, not a closure:
 * the runtime names every closure it creates, a cost on each Meta.)
 */
function visitMeta(meta: Meta, parent: XmlElement, nested: boolean, seen: number): number {
  for (const c of parent.children) {
    if (!isElement(c)) continue;
    if (c.name === 'MetInf' && !nested) {
      seen = visitMeta(meta, c, true, seen);
      continue;
    }
    // The first occurrence wins; a repeated MetInf field is noise, not a second value.
    // Other elements all go to extra, however often they come.
    const bit = KNOWN_METINF.get(c.name);
    if (bit === undefined) {
      (meta.extra ??= []).push(c);
      continue;
    }
    if (seen & bit) continue;
    seen |= bit;
    switch (c.name) {
      case 'Format':
        meta.format = text(c);
        break;
      case 'Type':
        meta.type = text(c);
        break;
      case 'Mark':
        meta.mark = text(c);
        break;
      case 'Size':
        meta.size = parseNumber(text(c), 'Meta', c.name, Number.MAX_SAFE_INTEGER);
        break;
      case 'NextNonce':
        meta.nextNonce = text(c);
        break;
      case 'Version':
        meta.version = text(c);
        break;
      case 'MaxMsgSize':
        meta.maxMsgSize = parseNumber(text(c), 'Meta', c.name, Number.MAX_SAFE_INTEGER);
        break;
      case 'MaxObjSize':
        meta.maxObjSize = parseNumber(text(c), 'Meta', c.name, Number.MAX_SAFE_INTEGER);
        break;
      case 'Anchor': {
        const anchor: { last?: string; next?: string } = {};
        const last = optText(c, 'Last');
        const next = optText(c, 'Next');
        if (last !== undefined) anchor.last = last;
        if (next !== undefined) anchor.next = next;
        meta.anchor = anchor;
        break;
      }
      default:
        (meta.extra ??= []).push(c);
    }
  }
  return seen;
}

function optMeta(el: XmlElement): Meta | undefined {
  const c = child(el, 'Meta');
  return c ? readMeta(c) : undefined;
}

/**
 * Item Data: nested elements (DevInf, Anchor) when there are any, else opaque bytes when
 * the content is opaque, else the text exactly as sent.
 */
function readData(el: XmlElement): ItemData {
  let elements: XmlElement[] | undefined;
  let opaque = false;
  for (const c of el.children) {
    if (isElement(c)) (elements ??= []).push(c);
    else if (c instanceof Uint8Array) opaque = true;
  }
  if (elements) return elements;
  if (!opaque) return el.children.length === 1 ? (el.children[0] as string) : (el.children as string[]).join('');
  if (el.children.length === 1) return el.children[0] as Uint8Array;
  return concatBytes(el.children.map((c) => (typeof c === 'string' ? utf8Encode(c) : (c as Uint8Array))));
}

function readItem(el: XmlElement): Item {
  // One pass over the children for all five (the first of each, as child() finds them).
  let target: XmlElement | undefined;
  let source: XmlElement | undefined;
  let meta: XmlElement | undefined;
  let data: XmlElement | undefined;
  let moreData = false;
  for (const c of el.children) {
    if (!isElement(c)) continue;
    switch (c.name) {
      case 'Target':
        target ??= c;
        break;
      case 'Source':
        source ??= c;
        break;
      case 'Meta':
        meta ??= c;
        break;
      case 'Data':
        data ??= c;
        break;
      case 'MoreData':
        moreData = true;
        break;
    }
  }
  const item: Item = {};
  if (target) item.target = readLocInfo(target);
  if (source) item.source = readLocInfo(source);
  if (meta) item.meta = readMeta(meta);
  if (data) item.data = readData(data);
  if (moreData) item.moreData = true;
  return item;
}

const readItems = (el: XmlElement): Item[] => childrenNamed(el, 'Item').map(readItem);

function readCred(el: XmlElement): Cred {
  const cred: Cred = { data: reqText(el, 'Data') };
  const meta = optMeta(el);
  if (meta) cred.meta = meta;
  return cred;
}

function optCred(el: XmlElement): Cred | undefined {
  const c = child(el, 'Cred');
  return c ? readCred(c) : undefined;
}

function readChal(el: XmlElement): Chal {
  return { meta: optMeta(el) ?? {} };
}

const COMMAND_NAMES = new Set([
  'Status',
  'Results',
  'Alert',
  'Get',
  'Add',
  'Replace',
  'Delete',
  'Copy',
  'Exec',
  'Put',
  'Atomic',
  'Sequence',
  'Sync',
  'Map',
]);

/** Sets the optional fields every command shares, only when present. */
function common<T extends { noResp?: boolean; cred?: Cred; meta?: Meta }>(
  el: XmlElement,
  cmd: T,
  fields: { noResp?: boolean; cred?: boolean; meta?: boolean },
): T {
  if (fields.noResp && has(el, 'NoResp')) cmd.noResp = true;
  if (fields.cred) {
    const cred = optCred(el);
    if (cred) cmd.cred = cred;
  }
  if (fields.meta) {
    const meta = optMeta(el);
    if (meta) cmd.meta = meta;
  }
  return cmd;
}

const ALL = { noResp: true, cred: true, meta: true } as const;

/**
 * Nested commands are walked with an explicit stack: a decoder's maxDepth bounds the tree
 * already, but this mapping must not depend on the caller having used one.
 */
function readCommands(container: XmlElement): Command[] {
  const top: Command[] = [];
  const work: { el: XmlElement; into: Command[] }[] = [];
  for (const c of container.children) if (isElement(c) && COMMAND_NAMES.has(c.name)) work.push({ el: c, into: top });
  // Children are pushed in reverse below, so pop order is document order per container.
  work.reverse();
  while (work.length > 0) {
    const { el, into } = work.pop()!;
    const cmd = readCommand(el);
    into.push(cmd);
    if (cmd.kind === 'Atomic' || cmd.kind === 'Sequence' || cmd.kind === 'Sync') {
      const nested: XmlElement[] = [];
      for (const c of el.children) if (isElement(c) && COMMAND_NAMES.has(c.name)) nested.push(c);
      for (let k = nested.length - 1; k >= 0; k--) work.push({ el: nested[k]!, into: cmd.commands });
    }
  }
  return top;
}

/** One command without its nested commands (readCommands fills those in). */
function readCommand(el: XmlElement): Command {
  const cmdId = reqNumber(el, 'CmdID');
  switch (el.name) {
    case 'Status': {
      const st: Extract<Command, { kind: 'Status' }> = {
        kind: 'Status',
        cmdId,
        msgRef: reqNumber(el, 'MsgRef'),
        cmdRef: reqNumber(el, 'CmdRef'),
        cmd: reqText(el, 'Cmd'),
        data: reqText(el, 'Data'),
      };
      const targetRef = childrenNamed(el, 'TargetRef').map(text);
      const sourceRef = childrenNamed(el, 'SourceRef').map(text);
      if (targetRef.length > 0) st.targetRef = targetRef;
      if (sourceRef.length > 0) st.sourceRef = sourceRef;
      const cred = optCred(el);
      if (cred) st.cred = cred;
      const chal = child(el, 'Chal');
      if (chal) st.chal = readChal(chal);
      const items = readItems(el);
      if (items.length > 0) st.items = items;
      return st;
    }
    case 'Results': {
      const r: Extract<Command, { kind: 'Results' }> = {
        kind: 'Results',
        cmdId,
        cmdRef: reqNumber(el, 'CmdRef'),
        items: [],
      };
      const msgRef = optNumber(el, 'MsgRef');
      if (msgRef !== undefined) r.msgRef = msgRef;
      const meta = optMeta(el);
      if (meta) r.meta = meta;
      const targetRef = optText(el, 'TargetRef');
      const sourceRef = optText(el, 'SourceRef');
      if (targetRef !== undefined) r.targetRef = targetRef;
      if (sourceRef !== undefined) r.sourceRef = sourceRef;
      r.items = readItems(el);
      return r;
    }
    case 'Alert': {
      const a = common(
        el,
        { kind: 'Alert', cmdId, data: reqText(el, 'Data'), items: [] } as Extract<Command, { kind: 'Alert' }>,
        { noResp: true, cred: true },
      );
      const correlator = optText(el, 'Correlator');
      if (correlator !== undefined) a.correlator = correlator;
      a.items = readItems(el);
      return a;
    }
    case 'Get':
    case 'Put': {
      const g = common(
        el,
        { kind: el.name, cmdId, items: readItems(el) } as Extract<Command, { kind: 'Get' | 'Put' }>,
        ALL,
      );
      const lang = optText(el, 'Lang');
      if (lang !== undefined) g.lang = lang;
      return g;
    }
    case 'Add':
    case 'Replace':
    case 'Copy':
      return common(
        el,
        { kind: el.name, cmdId, items: readItems(el) } as Extract<Command, { kind: 'Add' | 'Replace' | 'Copy' }>,
        ALL,
      );
    case 'Delete': {
      const d = common(
        el,
        { kind: 'Delete', cmdId, items: readItems(el) } as Extract<Command, { kind: 'Delete' }>,
        ALL,
      );
      if (has(el, 'Archive')) d.archive = true;
      if (has(el, 'SftDel')) d.sftDel = true;
      return d;
    }
    case 'Exec': {
      const x = common(el, { kind: 'Exec', cmdId, items: readItems(el) } as Extract<Command, { kind: 'Exec' }>, ALL);
      const correlator = optText(el, 'Correlator');
      if (correlator !== undefined) x.correlator = correlator;
      return x;
    }
    case 'Atomic':
    case 'Sequence':
      return common(el, { kind: el.name, cmdId, commands: [] } as Extract<Command, { kind: 'Atomic' | 'Sequence' }>, {
        noResp: true,
        meta: true,
      });
    case 'Sync': {
      const s = common(el, { kind: 'Sync', cmdId, commands: [] } as Extract<Command, { kind: 'Sync' }>, ALL);
      const target = optLocInfo(el, 'Target');
      const source = optLocInfo(el, 'Source');
      if (target) s.target = target;
      if (source) s.source = source;
      const changes = optNumber(el, 'NumberOfChanges');
      if (changes !== undefined) s.numberOfChanges = changes;
      return s;
    }
    case 'Map': {
      const mapItems: MapItem[] = childrenNamed(el, 'MapItem').map((mi) => ({
        target: reqLocInfo(mi, 'Target'),
        source: reqLocInfo(mi, 'Source'),
      }));
      const m: Extract<Command, { kind: 'Map' }> = {
        kind: 'Map',
        cmdId,
        target: reqLocInfo(el, 'Target'),
        source: reqLocInfo(el, 'Source'),
        mapItems,
      };
      return common(el, m, { cred: true, meta: true });
    }
    default:
      return invalid(`<${el.name}> is not a command`);
  }
}

function readHdr(el: XmlElement): SyncHdr {
  const hdr: SyncHdr = {
    verDTD: reqText(el, 'VerDTD'),
    verProto: reqText(el, 'VerProto'),
    sessionId: reqText(el, 'SessionID'),
    msgId: reqNumber(el, 'MsgID'),
    target: reqLocInfo(el, 'Target'),
    source: reqLocInfo(el, 'Source'),
  };
  const respURI = optText(el, 'RespURI');
  if (respURI !== undefined) hdr.respURI = respURI;
  return common(el, hdr, ALL);
}

/** Maps a decoded SyncML document to the typed message. Throws DecodeError('invalid'). */
export function elementToMessage(root: XmlElement): SyncMLMessage {
  if (root.name !== 'SyncML') invalid(`root element is <${root.name.slice(0, 64)}>, not <SyncML>`);
  const hdr = child(root, 'SyncHdr');
  const body = child(root, 'SyncBody');
  if (!hdr) invalid('no <SyncHdr>');
  if (!body) invalid('no <SyncBody>');
  return { hdr: readHdr(hdr), body: { commands: readCommands(body), final: has(body, 'Final') } };
}

/** Maps a single command element (a fragment, or one taken from a SyncBody). */
export function elementToCommand(el: XmlElement): Command {
  if (!COMMAND_NAMES.has(el.name)) invalid(`<${el.name.slice(0, 64)}> is not a command`);
  const [cmd] = readCommands({ name: 'SyncBody', children: [el] });
  return cmd!;
}

// ---------------------------------------------------------------------------------------------
// Message -> element
// ---------------------------------------------------------------------------------------------

function el(name: string, children: XmlNode[] = [], ns?: string): XmlElement {
  return ns === undefined ? { name, children } : { name, ns, children };
}

const leaf = (name: string, value: string, ns?: string): XmlElement => el(name, value === '' ? [] : [value], ns);
const num = (name: string, value: number): XmlElement => leaf(name, String(value));

/** Writers push optional children in DTD order; `undefined` means "absent". */
class Children {
  readonly list: XmlNode[] = [];
  add(node: XmlElement | undefined): this {
    if (node) this.list.push(node);
    return this;
  }
  text(name: string, value: string | undefined, ns?: string): this {
    return this.add(value === undefined ? undefined : leaf(name, value, ns));
  }
  num(name: string, value: number | undefined, ns?: string): this {
    return this.add(value === undefined ? undefined : leaf(name, String(value), ns));
  }
  flag(name: string, on: boolean | undefined): this {
    return this.add(on ? el(name) : undefined);
  }
}

function writeLocInfo(name: string, loc: LocInfo | undefined): XmlElement | undefined {
  if (!loc) return undefined;
  return el(name, new Children().text('LocURI', loc.locURI).text('LocName', loc.locName).list);
}

/** MetInf 1.2 order: Format, Type, Mark, Size, Anchor, Version, NextNonce, MaxMsgSize, MaxObjSize, then the rest. */
export function metaChildren(meta: Meta): XmlNode[] {
  const c = new Children()
    .text('Format', meta.format, NS_METINF)
    .text('Type', meta.type, NS_METINF)
    .text('Mark', meta.mark, NS_METINF)
    .num('Size', meta.size, NS_METINF);
  if (meta.anchor) {
    c.add(el('Anchor', new Children().text('Last', meta.anchor.last).text('Next', meta.anchor.next).list, NS_METINF));
  }
  c.text('Version', meta.version, NS_METINF)
    .text('NextNonce', meta.nextNonce, NS_METINF)
    .num('MaxMsgSize', meta.maxMsgSize, NS_METINF)
    .num('MaxObjSize', meta.maxObjSize, NS_METINF);
  for (const x of meta.extra ?? []) c.add(x);
  return c.list;
}

const writeMeta = (meta: Meta | undefined): XmlElement | undefined =>
  meta ? el('Meta', metaChildren(meta)) : undefined;

function writeCred(cred: Cred | undefined): XmlElement | undefined {
  if (!cred) return undefined;
  return el('Cred', new Children().add(writeMeta(cred.meta)).text('Data', cred.data).list);
}

function writeData(data: ItemData | undefined): XmlElement | undefined {
  if (data === undefined) return undefined;
  if (typeof data === 'string') return leaf('Data', data);
  if (data instanceof Uint8Array) return el('Data', [data]);
  return el('Data', [...data]);
}

function writeItem(item: Item): XmlElement {
  return el(
    'Item',
    new Children()
      .add(writeLocInfo('Target', item.target))
      .add(writeLocInfo('Source', item.source))
      .add(writeMeta(item.meta))
      .add(writeData(item.data))
      .flag('MoreData', item.moreData).list,
  );
}

function addItems(c: Children, items: readonly Item[] | undefined): Children {
  for (const it of items ?? []) c.add(writeItem(it));
  return c;
}

/** One command as an element, nested commands included, in DTD order. */
export function commandToElement(cmd: Command): XmlElement {
  // Containers nest: build them with an explicit stack so depth never reaches the JS stack.
  const root = shallowCommand(cmd);
  const work: { cmd: Command; into: XmlElement }[] = [{ cmd, into: root }];
  while (work.length > 0) {
    const { cmd: c, into } = work.pop()!;
    if (c.kind === 'Atomic' || c.kind === 'Sequence' || c.kind === 'Sync') {
      for (const sub of c.commands) {
        const subEl = shallowCommand(sub);
        into.children.push(subEl);
        work.push({ cmd: sub, into: subEl });
      }
    }
  }
  return root;
}

function shallowCommand(cmd: Command): XmlElement {
  const c = new Children().num('CmdID', cmd.cmdId);
  switch (cmd.kind) {
    case 'Status':
      c.num('MsgRef', cmd.msgRef).num('CmdRef', cmd.cmdRef).text('Cmd', cmd.cmd);
      for (const r of cmd.targetRef ?? []) c.text('TargetRef', r);
      for (const r of cmd.sourceRef ?? []) c.text('SourceRef', r);
      c.add(writeCred(cmd.cred));
      if (cmd.chal) c.add(el('Chal', [el('Meta', metaChildren(cmd.chal.meta))]));
      c.text('Data', cmd.data);
      addItems(c, cmd.items);
      break;
    case 'Results':
      c.num('MsgRef', cmd.msgRef)
        .num('CmdRef', cmd.cmdRef)
        .add(writeMeta(cmd.meta))
        .text('TargetRef', cmd.targetRef)
        .text('SourceRef', cmd.sourceRef);
      addItems(c, cmd.items);
      break;
    case 'Alert':
      c.flag('NoResp', cmd.noResp).add(writeCred(cmd.cred)).text('Data', cmd.data).text('Correlator', cmd.correlator);
      addItems(c, cmd.items);
      break;
    case 'Get':
    case 'Put':
      c.flag('NoResp', cmd.noResp).text('Lang', cmd.lang).add(writeCred(cmd.cred)).add(writeMeta(cmd.meta));
      addItems(c, cmd.items);
      break;
    case 'Add':
    case 'Replace':
    case 'Copy':
      c.flag('NoResp', cmd.noResp).add(writeCred(cmd.cred)).add(writeMeta(cmd.meta));
      addItems(c, cmd.items);
      break;
    case 'Delete':
      c.flag('NoResp', cmd.noResp)
        .flag('Archive', cmd.archive)
        .flag('SftDel', cmd.sftDel)
        .add(writeCred(cmd.cred))
        .add(writeMeta(cmd.meta));
      addItems(c, cmd.items);
      break;
    case 'Exec':
      c.flag('NoResp', cmd.noResp).add(writeCred(cmd.cred)).add(writeMeta(cmd.meta)).text('Correlator', cmd.correlator);
      addItems(c, cmd.items);
      break;
    case 'Atomic':
    case 'Sequence':
      c.flag('NoResp', cmd.noResp).add(writeMeta(cmd.meta));
      break;
    case 'Sync':
      c.flag('NoResp', cmd.noResp)
        .add(writeCred(cmd.cred))
        .add(writeLocInfo('Target', cmd.target))
        .add(writeLocInfo('Source', cmd.source))
        .add(writeMeta(cmd.meta))
        .num('NumberOfChanges', cmd.numberOfChanges);
      break;
    case 'Map':
      c.add(writeLocInfo('Target', cmd.target))
        .add(writeLocInfo('Source', cmd.source))
        .add(writeCred(cmd.cred))
        .add(writeMeta(cmd.meta));
      for (const mi of cmd.mapItems) {
        c.add(el('MapItem', [writeLocInfo('Target', mi.target)!, writeLocInfo('Source', mi.source)!]));
      }
      break;
  }
  return el(cmd.kind, c.list);
}

export function hdrToElement(hdr: SyncHdr): XmlElement {
  return el(
    'SyncHdr',
    new Children()
      .text('VerDTD', hdr.verDTD)
      .text('VerProto', hdr.verProto)
      .text('SessionID', hdr.sessionId)
      .add(num('MsgID', hdr.msgId))
      .add(writeLocInfo('Target', hdr.target))
      .add(writeLocInfo('Source', hdr.source))
      .text('RespURI', hdr.respURI)
      .flag('NoResp', hdr.noResp)
      .add(writeCred(hdr.cred))
      .add(writeMeta(hdr.meta)).list,
  );
}

/** The whole message as a SyncML 1.2 document tree. */
export function messageToElement(msg: SyncMLMessage): XmlElement {
  const body: XmlNode[] = msg.body.commands.map(commandToElement);
  if (msg.body.final) body.push(el('Final'));
  return el('SyncML', [hdrToElement(msg.hdr), el('SyncBody', body)], NS_SYNCML12);
}
