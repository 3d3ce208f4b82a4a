/**
 * Test support for the protocol fuzz suites (dm-fuzz, ds-fuzz): seeded randomness, the
 * byte-level mutators and hostile payloads both endpoints get, a keep-alive HTTP poster
 * with a bounded pool, the memory sampler and the violation report. Not used by any
 * shipped code path.
 */
import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { performance } from 'node:perf_hooks';
import type { XmlElement } from '../omadm/codec/element';
import { encodeWbxml } from '../omadm/codec/wbxml';
import { serializeXml } from '../omadm/codec/xml';
import type { Encoding } from '../omadm/message';
import { utf8Encode } from '../omadm/util/bytes';

// ---------------------------------------------------------------------------------------
// Deterministic randomness

/** xorshift32: every run of a suite with the same seed sends the same bytes. */
export class Rng {
  private x: number;
  constructor(seed: number) { this.x = (seed >>> 0) || 0x9e3779b9; }
  next(): number {
    let x = this.x;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number { return n <= 1 ? 0 : this.next() % n; }
  bool(p = 0.5): boolean { return this.next() / 0x1_0000_0000 < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.next() & 0xff;
    return out;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(10));
    return s;
  }
}

/** Fisher-Yates with the suite's Rng. */
export function shuffle<T>(rng: Rng, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) { const j = rng.int(i + 1); [a[i], a[j]] = [a[j]!, a[i]!]; }
  return a;
}

// ---------------------------------------------------------------------------------------
// Memory

/** A real forced GC: --expose-gc is not on vitest's command line, so it is switched on at run time. */
function obtainGc(): (() => void) | undefined {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fromContext = vm.runInNewContext('gc') as unknown;
    return typeof fromContext === 'function' ? (fromContext as () => void) : undefined;
  } catch {
    return undefined;
  }
}
const gc = obtainGc();

/** The heap in use after two full collections, or undefined where no GC can be forced. */
export function settleHeap(): number | undefined {
  if (!gc) return undefined;
  gc(); gc();
  return process.memoryUsage().heapUsed;
}

export const mib = (n: number): string => (n / 2 ** 20).toFixed(0);

// ---------------------------------------------------------------------------------------
// Database

interface SqliteClient { prepare(sql: string): { pluck(): { all(): unknown[]; get(): unknown }; all(): unknown[] } }

/** Row count of every table (migrations' bookkeeping apart). */
export function tableCounts(db: SqliteClient): Map<string, number> {
  const names = db.prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'").pluck().all() as string[];
  return new Map(names.map((n) => [n, db.prepare(`select count(*) from "${n}"`).pluck().get() as number]));
}

// ---------------------------------------------------------------------------------------
// HTTP: keep-alive, a bounded pool, every answer judged and tallied

export interface FuzzCase<K extends string = string> {
  cat: K;
  body: Uint8Array;
  /** undefined: no Content-Type header at all. */
  contentType?: string;
  headers?: Record<string, string | string[]>;
  method?: string;
  path?: string;
  /** The one HTTP status this case must get. */
  expectHttp?: number;
  /** The server may reset instead of answering (it refuses a too-large upload or header). */
  mayReset?: boolean;
}

export interface Answer { status: number; headers: http.IncomingHttpHeaders; body: Buffer; error?: string }

type Tally = { n: number; ms: number; outcomes: Map<string, number> };

/**
 * One suite's traffic: posts cases to 127.0.0.1:port, CONCURRENCY in flight, and keeps per
 * category how many went, how long they took and what the judge called each answer. A judge
 * returns the outcome's name or throws: the first 25 violations are kept with the start of
 * the request and of the answer.
 */
export class FuzzClient<K extends string> {
  readonly agent: http.Agent;
  private readonly tallies = new Map<K, Tally>();
  readonly failures: string[] = [];
  failureCount = 0;
  peakRss = 0;

  constructor(private readonly o: { port: number; defaultPath: string; concurrency: number; timeoutMs: number }) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  }

  private sendOnce(c: FuzzCase): Promise<Answer & { reused: boolean }> {
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = { ...(c.headers ?? {}) };
      if (c.contentType !== undefined) headers['content-type'] = c.contentType;
      headers['content-length'] = String(c.body.length);
      let settled = false;
      const done = (a: Answer) => { if (!settled) { settled = true; resolve({ ...a, reused: req.reusedSocket }); } };
      const req = http.request({ host: '127.0.0.1', port: this.o.port, path: c.path ?? this.o.defaultPath, method: c.method ?? 'POST', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (b: Buffer) => chunks.push(b));
        res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (e) => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: e.message }));
      });
      req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error(`no answer in ${this.o.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.code ?? e.message }));
      // A body with every method, so Content-Length always holds and the keep-alive socket stays in step.
      req.end(c.body);
    });
  }

  /** A keep-alive socket the server closed under us gets the request once more (as Node's docs advise). */
  async send(c: FuzzCase): Promise<Answer> {
    const a = await this.sendOnce(c);
    if (a.status === 0 && a.reused && a.error === 'ECONNRESET') return this.sendOnce(c);
    return a;
  }

  /** Judges one answer into the tallies; `where` names the case in a violation (default: the request's start). */
  judge<C extends FuzzCase<K>>(c: C, a: Answer, judge: (c: C, a: Answer) => string, started: number, where?: string): string {
    const t = this.tallies.get(c.cat) ?? { n: 0, ms: 0, outcomes: new Map() };
    this.tallies.set(c.cat, t);
    t.n++;
    let outcome: string;
    try {
      outcome = judge(c, a);
    } catch (err) {
      outcome = 'VIOLATION';
      this.failureCount++;
      if (this.failures.length < 25) {
        this.failures.push(where !== undefined
          ? `${where}: ${(err as Error).message} | ${a.status} ${a.body.subarray(0, 300).toString('latin1')}`
          : `${c.cat}: ${(err as Error).message} | request ${c.method ?? 'POST'} ${c.path ?? this.o.defaultPath} ${c.contentType ?? '-'} `
            + `${c.body.length} B ${JSON.stringify(Buffer.from(c.body.subarray(0, 160)).toString('latin1'))} | answer ${a.status} ${a.error ?? ''} `
            + `${JSON.stringify(a.body.subarray(0, 200).toString('latin1'))}`);
      }
    }
    t.outcomes.set(outcome, (t.outcomes.get(outcome) ?? 0) + 1);
    t.ms += performance.now() - started;
    this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    return outcome;
  }

  /** Sends and judges one case (in order, for a session's messages). */
  async exchange<C extends FuzzCase<K>>(c: C, judge: (c: C, a: Answer) => string, where?: string): Promise<{ answer: Answer; outcome: string }> {
    const started = performance.now();
    const answer = await this.send(c);
    return { answer, outcome: this.judge(c, answer, judge, started, where) };
  }

  /** Sends every case, CONCURRENCY at a time, each answer judged. */
  async runPool<C extends FuzzCase<K>>(cases: Iterable<C>, judge: (c: C, a: Answer) => string): Promise<void> {
    const it = cases[Symbol.iterator]();
    const worker = async () => {
      for (;;) {
        const next = it.next();
        if (next.done) return;
        await this.exchange(next.value, judge);
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
  }

  resetFailures(): void { this.failures.length = 0; this.failureCount = 0; }
  sent(cat: K): number { return this.tallies.get(cat)?.n ?? 0; }
  outcomes(cat: K): Map<string, number> { return this.tallies.get(cat)?.outcomes ?? new Map(); }
  totalSent(): number { return [...this.tallies.values()].reduce((n, t) => n + t.n, 0); }

  report(title: string, cats: K[], wallMs: number): void {
    const sent = cats.reduce((n, c) => n + this.sent(c), 0);
    const lines = [`${title}: ${sent} messages in ${(wallMs / 1000).toFixed(1)} s (rss now ${mib(process.memoryUsage.rss())} MiB, peak so far ${mib(this.peakRss)} MiB)`];
    for (const c of cats) {
      const t = this.tallies.get(c);
      if (!t) continue;
      const outcomes = [...t.outcomes].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
      lines.push(`  ${c.padEnd(16)} ${String(t.n).padStart(5)}  avg ${(t.ms / t.n).toFixed(1).padStart(6)} ms  ${outcomes}`);
    }
    console.log(lines.join('\n'));
  }
}

// ---------------------------------------------------------------------------------------
// Trees and bytes

export function findAll(root: XmlElement, name: string): XmlElement[] {
  const out: XmlElement[] = [];
  const stack: XmlElement[] = [root];
  while (stack.length) {
    const el = stack.pop()!;
    if (el.name === name) out.push(el);
    for (const c of el.children) if (typeof c === 'object' && !(c instanceof Uint8Array)) stack.push(c);
  }
  return out;
}

export function encodeTree(root: XmlElement, enc: Encoding): Uint8Array {
  return enc === 'xml' ? utf8Encode(serializeXml(root, { declaration: true })) : encodeWbxml(root);
}

export function splice(b: Uint8Array, at: number, del: number, ins: Uint8Array): Uint8Array {
  const a = Math.min(at, b.length);
  const d = Math.min(del, b.length - a);
  const out = new Uint8Array(b.length - d + ins.length);
  out.set(b.subarray(0, a), 0);
  out.set(ins, a);
  out.set(b.subarray(a + d), a + ins.length);
  return out;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(Buffer.from(needle.buffer, needle.byteOffset, needle.length));
}

/** Replaces every occurrence of an ASCII marker with raw bytes. */
export function replaceMarker(b: Uint8Array, marker: string, bytes: Uint8Array): Uint8Array {
  const m = utf8Encode(marker);
  let out = b;
  for (let i = indexOfBytes(out, m); i >= 0; i = indexOfBytes(out, m)) out = splice(out, i, m.length, bytes);
  return out;
}

// ---------------------------------------------------------------------------------------
// Mutations and hostile payloads

export const XML_JUNK = ['<', '>', '&', ']]>', '<!--', '-->', '<![CDATA[', '</SyncHdr>', '<SyncBody>', '<Atomic>', '\u0000', '<?x?>',
  '"', "'", ' xmlns:a="x"', '<a:b>', '&#xD800;', '&#0;', '&bogus;', '</>', '<SyncML xmlns="SYNCML:SYNCML1.2">', '\uffff', '\r\n', '<!DOCTYPE x>', '<MsgID>-1</MsgID>', '<Final/>', '<MoreData/>'];
export const WBXML_JUNK: number[][] = [[0x00, 0xff], [0x00, 0x01], [0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f], [0x83, 0x8f, 0xff, 0xff, 0xff, 0x7f],
  [0x04, 0x7f], [0x02, 0x81, 0x80, 0x00], [0x40, 0x41, 0x00], [0xc0], [0x01], [0x01, 0x01, 0x01], [0x03, 0x41, 0x41], [0x43],
  [0x83, 0x00], [0xc3, 0x00], [0xc3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0x80, 0x01], [0x44, 0x45, 0x46], [0x6d, 0x6c, 0x71]];

/** One to three byte-level edits: truncation, junk, deletion, duplication, bit flips, a broken prolog or WBXML header. */
export function mutate(rng: Rng, src: Uint8Array, enc: Encoding): Uint8Array {
  let b = src;
  for (let r = 1 + rng.int(3); r > 0 && b.length > 0; r--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0: b = b.subarray(0, rng.int(b.length)); break; // truncation
      case 1: { const m = new Uint8Array(b); for (let k = 1 + rng.int(8); k > 0; k--) m[rng.int(m.length)] = rng.int(256); b = m; break; }
      case 2: b = splice(b, at, 0, rng.bytes(1 + rng.int(64))); break; // garbage
      case 3: b = splice(b, at, 0, enc === 'xml' ? utf8Encode(rng.pick(XML_JUNK)) : Uint8Array.from(rng.pick(WBXML_JUNK))); break;
      case 4: b = splice(b, at, 1 + rng.int(48), new Uint8Array(0)); break; // deletion
      case 5: { const from = rng.int(b.length); b = splice(b, at, 0, b.slice(from, from + 1 + rng.int(96))); break; } // duplication
      case 6: { const m = new Uint8Array(b); const i = rng.int(m.length); m[i] = m[i]! ^ (1 << rng.int(8)); b = m; break; } // bit flip
      default: { // the header: WBXML version/public id/charset/string table; XML declaration
        const m = new Uint8Array(b);
        m[rng.int(Math.min(enc === 'xml' ? 40 : 6, m.length))] = rng.int(256);
        b = m;
      }
    }
  }
  return b;
}

export const WRONG_NUMBERS = ['abc', '-1', '-0', '1e3', '0x1F', '1.5', '+1', '', ' ', 'NaN', 'Infinity', '-Infinity', '4294967296', '4294967295',
  '99999999999999999999', '9007199254740993', '18446744073709551616', '1'.repeat(17), `${'0'.repeat(1000)}1`, '١٢٣', '１２', '12\u000034',
  'null', 'true', '[]', '{"a":1}', '<x/>', '&amp;', '0', '00000000000000001', '2147483648', '-2147483649'];
export const NUMERIC_FIELDS = ['MsgID', 'CmdID', 'MsgRef', 'CmdRef', 'MaxMsgSize', 'MaxObjSize', 'Size', 'NumberOfChanges'];
export const TEXT_FIELDS = ['SessionID', 'VerDTD', 'VerProto', 'Data', 'Type', 'Format', 'Cmd', 'LocURI'];
export const REQUIRED = ['SyncHdr', 'SyncBody', 'VerDTD', 'VerProto', 'SessionID', 'MsgID', 'Target', 'Source', 'LocURI', 'CmdID', 'Data', 'Cmd', 'MsgRef', 'CmdRef', 'Item'];

const laughs = `<!DOCTYPE SyncML [<!ENTITY lol0 "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('')}]>`;
/** Declarations: a SyncML document has none, so each is refused wherever it is. */
export const DTD_PAYLOADS = [
  '<!DOCTYPE SyncML>',
  '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN" "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">',
  '<!DOCTYPE SyncML SYSTEM "file:///etc/passwd">',
  '<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
  '<!DOCTYPE SyncML [<!ENTITY xxe SYSTEM "http://127.0.0.1:1/xxe">]>',
  '<!DOCTYPE SyncML [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p.dtd"> %p;]>',
  '<!DOCTYPE SyncML [<!ENTITY % a "<!ENTITY b SYSTEM \'file:///etc/shadow\'>"> %a;]>',
  laughs,
  `<!DOCTYPE SyncML [<!ENTITY a "${'x'.repeat(50_000)}">]>`,
  '<!ENTITY xxe SYSTEM "file:///etc/passwd">',
  '<!ELEMENT SyncML ANY>',
  '<!ATTLIST SyncML xmlns CDATA #FIXED "x">',
  '<!NOTATION n SYSTEM "x">',
  '<!doctype SyncML>',
  '<!DOCTYPE',
  '<![INCLUDE[ <x/> ]]>',
];
/** Entity references no SyncML document can contain: refused wherever they appear. */
export const BAD_REFS = ['&xxe;', '&lol9;', '&passwd;', '&#xD800;', '&#xDFFF;', '&#x110000;', '&#1114112;', '&#99999999;', '&#;', '&#x;', '&;',
  '&AMP;', `&${'a'.repeat(13)};`, '&xxe ;', '&#X41;', '&nbsp;', '&copy;'];
/** Odd but harmless, or not entity syntax at all: judged by the general rule only. */
export const OTHER_PAYLOADS = ['&#x41;&#65;', '&#0000065;', '&apos;&quot;&lt;&gt;&amp;', '&#x0;', '%p;', '&amp;xxe;',
  '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
  '<?xml-stylesheet type="text/xsl" href="file:///etc/passwd"?>', '<!-- <!ENTITY x "y"> -->',
  '<![CDATA[<!DOCTYPE x [<!ENTITY y SYSTEM "file:///etc/passwd">]>&y;]]>', '<![CDATA[ ]]> ]]>', '<?xml version="1.0"?>',
  '<x xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></x>', '<!-- -- -->', '<!---->', '<?php system("id"); ?>'];

export const BAD_UTF8: number[][] = [[0x80], [0xc0, 0xaf], [0xc0, 0xae], [0xe0, 0x80, 0xaf], [0xf0, 0x80, 0x80, 0xaf], [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80], [0xff], [0xfe], [0xe2, 0x82], [0xc0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xc1, 0xbf]];

/** Traversal, injection, NULs, odd Unicode and huge paths; `others` are identities of other peers to aim at. */
export function hostileUri(rng: Rng, others: readonly [string, string]): string {
  const [a, b] = others;
  const other = rng.bool() ? a : b;
  const list = [
    '..', '../', '/../', './..', './DevInfo/../../../etc/passwd', '../../../../../../etc/passwd', './Vendor/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '..%2f..%2f..%2fetc%2fpasswd', '..%252f..%252f', '..\\..\\..\\windows\\win.ini', './DevDetail/..;/..;/', 'file:///etc/passwd',
    'http://169.254.169.254/latest/meta-data/', '//evil.example/x', '.\u0000/DevInfo', './DevInfo/DevId\u0000', '\u0000', '%00', './a/%00/b',
    '\r\nX-Injected: 1', "' OR '1'='1", '"; DROP TABLE devices; --', '%s%s%s%n', '${jndi:ldap://127.0.0.1:1/a}', '\u202e/cte/..',
    'ＩＭＥＩ：１２３', './DevInfo/\ud800', '🙂/../🙂', '.', '/', './', '//', './/..//..//', `${a}/../${b}`, `${other}/..`,
    `./${other}`, `${other}\u0000`, `../${other}`, `./DevInfo/../../${other}/DevInfo/DevId`,
    'a/'.repeat(1 + rng.int(50_000)), `./${'x'.repeat(1 + rng.int(1_000_000))}`, '../'.repeat(1 + rng.int(10_000)),
  ];
  return rng.pick(list);
}
