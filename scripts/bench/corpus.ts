/**
 * Deterministic corpus of realistic OMA-DM messages for codec benchmarks: one SyncML 1.2
 * message per call, a client package full of Results and Replace items as a backup run
 * produces them (deep ./Vendor paths, chr and int leaves, some b64 binary blobs), grown until
 * its XML text reaches the requested size.
 *
 * The XML text is written here rather than by the codec under test, so the corpus does not
 * depend on what it measures and libwbxml's tools get the same bytes.
 */
import type { XmlElement, XmlNode } from '../../lib/omadm/codec/element';
import { elementToMessage } from '../../lib/omadm/codec/syncml';
import type { SyncMLMessage } from '../../lib/omadm/message';
import { base64Encode } from '../../lib/omadm/util/bytes';

export interface Corpus {
  root: XmlElement;
  /** Compact XML text of `root` (no declaration, no indentation). */
  xml: string;
  /** UTF-8 bytes of `xml`. */
  bytes: Uint8Array;
  /** How many Item elements the message carries. */
  items: number;
}

/** mulberry32: tiny, fast, and the same sequence on every platform. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MI = 'syncml:metinf';

function el(name: string, ...children: XmlNode[]): XmlElement {
  return { name, children };
}
function meta(name: string, value: string): XmlElement {
  return { name, ns: MI, children: [value] };
}

const WORDS = [
  'Alice',
  'Bob',
  'Carol',
  'Dupont',
  'Müller',
  'Østergaard',
  'Jiménez',
  'Nguyễn',
  '山田',
  'home',
  'work',
  'mobile',
  'Main St',
  'Rue de la Paix',
  'note',
  'meeting',
  'birthday',
];
const APPS = ['com.example.mail', 'com.example.maps', 'org.acme.notes', 'net.chat.app', 'com.bank.secure'];

function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function text(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(pick(r, WORDS));
  return out.join(' ');
}

function leaf(r: () => number, i: number): { path: string; format: string; type: string; data: string } {
  const k = r();
  if (k < 0.45) {
    const field = pick(r, ['Name', 'Tel', 'Email', 'Note', 'Org', 'Adr']);
    return {
      path: `./Vendor/Rewind/Backup/Contacts/${i}/${field}`,
      format: 'chr',
      type: 'text/plain',
      data: field === 'Tel' ? `+44 20 7946 ${String(i % 10000).padStart(4, '0')}` : text(r, 1 + Math.floor(r() * 5)),
    };
  }
  if (k < 0.75) {
    const field = pick(r, ['Size', 'Count', 'Flags', 'Version', 'LastUsed']);
    return {
      path: `./Vendor/Rewind/Backup/Apps/${pick(r, APPS)}/${field}`,
      format: 'int',
      type: 'text/plain',
      data: String(Math.floor(r() * 2 ** 31)),
    };
  }
  if (k < 0.93) {
    return {
      path: `./Vendor/Rewind/Backup/Settings/${pick(r, ['Wifi', 'Display', 'Sound', 'Locale'])}/${i}`,
      format: 'chr',
      type: 'text/plain',
      data: pick(r, ['true', 'false', 'en-GB', 'auto', '0.75', 'WPA2-PSK']),
    };
  }
  // Some binary: photos thumbnails, app data blobs.
  const n = 256 + Math.floor(r() * 1792);
  const b = new Uint8Array(n);
  for (let j = 0; j < n; j++) b[j] = Math.floor(r() * 256);
  return {
    path: `./Vendor/Rewind/Backup/Blobs/${i}/Data`,
    format: 'b64',
    type: 'application/octet-stream',
    data: base64Encode(b),
  };
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function toXml(root: XmlElement): string {
  const parts: string[] = [];
  // Explicit stack: a benchmark helper should not be the thing that overflows.
  const stack: (XmlNode | { close: string })[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (typeof n === 'string') parts.push(escapeText(n));
    else if (n instanceof Uint8Array) parts.push(base64Encode(n));
    else if ('close' in n) parts.push(n.close);
    else {
      parts.push(n.ns ? `<${n.name} xmlns="${n.ns}">` : `<${n.name}>`);
      stack.push({ close: `</${n.name}>` });
      for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i]!);
    }
  }
  return parts.join('');
}

/**
 * A single SyncML 1.2 DM message whose XML is at least `targetBytes` long (and at most one
 * command's worth more). Same seed and size, same message.
 */
export function makeCorpus(targetBytes = 1_000_000, seed = 0x5eed): Corpus {
  const r = rng(seed);
  const hdr = el(
    'SyncHdr',
    el('VerDTD', '1.2'),
    el('VerProto', 'DM/1.2'),
    el('SessionID', '4F2A'),
    el('MsgID', '3'),
    el('Target', el('LocURI', 'https://rewind.example.com/dm')),
    el('Source', el('LocURI', 'IMEI:493005100592800')),
    el('Meta', meta('MaxMsgSize', '2000000'), meta('MaxObjSize', '4000000')),
  );
  const commands: XmlElement[] = [
    el(
      'Status',
      el('CmdID', '1'),
      el('MsgRef', '2'),
      el('CmdRef', '0'),
      el('Cmd', 'SyncHdr'),
      el('TargetRef', 'IMEI:493005100592800'),
      el('SourceRef', 'https://rewind.example.com/dm'),
      el('Data', '200'),
    ),
  ];
  const root: XmlElement = { name: 'SyncML', ns: 'SYNCML:SYNCML1.2', children: [hdr] };
  const body = el('SyncBody');
  root.children.push(body);

  // Sizes are tracked from the pieces rather than re-serialising: keeps generation linear.
  let size = toXml(root).length;
  let cmdId = 2;
  let items = 0;
  while (size < targetBytes) {
    const isResults = r() < 0.7;
    const n = 5 + Math.floor(r() * 20);
    const kids: XmlNode[] = [el('CmdID', String(cmdId))];
    if (isResults) kids.push(el('MsgRef', '2'), el('CmdRef', String(cmdId + 100)));
    for (let j = 0; j < n; j++) {
      const l = leaf(r, items++);
      kids.push(
        el(
          'Item',
          el('Source', el('LocURI', l.path)),
          el('Meta', meta('Format', l.format), meta('Type', l.type)),
          el('Data', l.data),
        ),
      );
    }
    const cmd = el(isResults ? 'Results' : 'Replace', ...kids);
    commands.push(cmd);
    size += toXml(cmd).length;
    cmdId++;
  }
  body.children.push(...commands, el('Final'));
  const xml = toXml(root);
  return { root, xml, bytes: new TextEncoder().encode(xml), items };
}

/** The corpus as a typed message, for benchmarks of the whole encodeMessage/decodeMessage path. */
export function corpusMessage(c: Corpus): SyncMLMessage {
  return elementToMessage(c.root);
}
