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
import type { XmlElement, XmlNode } from '../../lib/omadm/codec/element';
import { NS_METINF } from '../../lib/omadm/codec/syncml';
import { encodeWbxml } from '../../lib/omadm/codec/wbxml';
import { serializeXml } from '../../lib/omadm/codec/xml';
import type { Encoding } from '../../lib/omadm/message';
import { utf8Encode } from '../../lib/omadm/util/bytes';
import { sql } from 'drizzle-orm';
import { isPg, type Db } from '@/db/client';
import { column, rows, value } from '@/db/sql';

// ---------------------------------------------------------------------------------------
// Deterministic randomness

/** xorshift32: every run of a suite with the same seed sends the same bytes. */
export class Rng {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  int(n: number): number {
    return n <= 1 ? 0 : this.next() % n;
  }
  bool(p = 0.5): boolean {
    return this.next() / 0x1_0000_0000 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
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
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
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
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export const mib = (n: number): string => (n / 2 ** 20).toFixed(0);

// ---------------------------------------------------------------------------------------
// Database

/** The database's tables (migrations' bookkeeping apart), from its own catalog. */
export async function tableNames(db: Db): Promise<string[]> {
  return isPg(db)
    ? column<string>(
        db,
        sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like '__drizzle%' order by table_name`,
      )
    : column<string>(
        db,
        sql`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like '__drizzle%'`,
      );
}

/** A table's column names, from the catalog. */
export async function columnNames(db: Db, table: string): Promise<string[]> {
  return isPg(db)
    ? column<string>(
        db,
        sql`select column_name from information_schema.columns where table_schema = current_schema() and table_name = ${table} order by ordinal_position`,
      )
    : (await rows<{ name: string }>(db, sql.raw(`pragma table_info("${table}")`))).map((c) => c.name);
}

/** Row count of every table (migrations' bookkeeping apart). */
export async function tableCounts(db: Db): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const n of await tableNames(db)) out.set(n, Number(await value(db, sql.raw(`select count(*) from "${n}"`))));
  return out;
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

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  error?: string;
}

/** Names an answer's outcome, or throws: a violation. It may look in the database. */
export type Judge<C> = (c: C, a: Answer) => string | Promise<string>;

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
  private judged = 0;

  constructor(private readonly o: { port: number; defaultPath: string; concurrency: number; timeoutMs: number }) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: o.concurrency });
  }

  private sendOnce(c: FuzzCase): Promise<Answer & { reused: boolean }> {
    return new Promise((resolve) => {
      const headers: http.OutgoingHttpHeaders = { ...(c.headers ?? {}) };
      if (c.contentType !== undefined) headers['content-type'] = c.contentType;
      headers['content-length'] = String(c.body.length);
      let settled = false;
      const done = (a: Answer) => {
        if (!settled) {
          settled = true;
          resolve({ ...a, reused: req.reusedSocket });
        }
      };
      const req = http.request(
        {
          host: '127.0.0.1',
          port: this.o.port,
          path: c.path ?? this.o.defaultPath,
          method: c.method ?? 'POST',
          headers,
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (b: Buffer) => chunks.push(b));
          res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          res.on('error', (e) =>
            done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: e.message }),
          );
        },
      );
      req.setTimeout(this.o.timeoutMs, () => req.destroy(new Error(`no answer in ${this.o.timeoutMs} ms`)));
      req.on('error', (e: NodeJS.ErrnoException) =>
        done({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.code ?? e.message }),
      );
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
  async judge<C extends FuzzCase<K>>(
    c: C,
    a: Answer,
    judge: Judge<C>,
    started: number,
    where?: string,
  ): Promise<string> {
    const t = this.tallies.get(c.cat) ?? { n: 0, ms: 0, outcomes: new Map() };
    this.tallies.set(c.cat, t);
    t.n++;
    let outcome: string;
    try {
      outcome = await judge(c, a);
    } catch (err) {
      outcome = 'VIOLATION';
      this.failureCount++;
      if (this.failures.length < 25) {
        this.failures.push(
          where !== undefined
            ? `${where}: ${(err as Error).message} | ${a.status} ${a.body.subarray(0, 300).toString('latin1')}`
            : `${c.cat}: ${(err as Error).message} | request ${c.method ?? 'POST'} ${c.path ?? this.o.defaultPath} ${c.contentType ?? '-'} ` +
                `${c.body.length} B ${JSON.stringify(Buffer.from(c.body.subarray(0, 160)).toString('latin1'))} | answer ${a.status} ${a.error ?? ''} ` +
                `${JSON.stringify(a.body.subarray(0, 200).toString('latin1'))}`,
        );
      }
    }
    t.outcomes.set(outcome, (t.outcomes.get(outcome) ?? 0) + 1);
    t.ms += performance.now() - started;
    // Sampled: reading the RSS costs a system call, and a peak lasts longer than 16 answers.
    if (++this.judged % 16 === 0 || c.body.length > 256 * 1024)
      this.peakRss = Math.max(this.peakRss, process.memoryUsage.rss());
    return outcome;
  }

  /** Sends and judges one case (in order, for a session's messages). */
  async exchange<C extends FuzzCase<K>>(
    c: C,
    judge: Judge<C>,
    where?: string,
  ): Promise<{ answer: Answer; outcome: string }> {
    const started = performance.now();
    const answer = await this.send(c);
    return { answer, outcome: await this.judge(c, answer, judge, started, where) };
  }

  /**
   * Sends every case, CONCURRENCY at a time, each answer judged. `beforeNext` runs before each case is generated:
   * it reads from the database whatever the (synchronous) generators need to be current.
   */
  async runPool<C extends FuzzCase<K>>(
    cases: Iterable<C>,
    judge: Judge<C>,
    opts: { beforeNext?: () => Promise<void> } = {},
  ): Promise<void> {
    const it = cases[Symbol.iterator]();
    const worker = async () => {
      for (;;) {
        await opts.beforeNext?.();
        const next = it.next();
        if (next.done) return;
        await this.exchange(next.value, judge);
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
  }

  resetFailures(): void {
    this.failures.length = 0;
    this.failureCount = 0;
  }
  sent(cat: K): number {
    return this.tallies.get(cat)?.n ?? 0;
  }
  outcomes(cat: K): Map<string, number> {
    return this.tallies.get(cat)?.outcomes ?? new Map();
  }
  totalSent(): number {
    return [...this.tallies.values()].reduce((n, t) => n + t.n, 0);
  }

  report(title: string, cats: K[], wallMs: number): void {
    const sent = cats.reduce((n, c) => n + this.sent(c), 0);
    const lines = [
      `${title}: ${sent} messages in ${(wallMs / 1000).toFixed(1)} s (rss now ${mib(process.memoryUsage.rss())} MiB, peak so far ${mib(this.peakRss)} MiB)`,
    ];
    for (const c of cats) {
      const t = this.tallies.get(c);
      if (!t) continue;
      const outcomes = [...t.outcomes]
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      lines.push(
        `  ${c.padEnd(16)} ${String(t.n).padStart(5)}  avg ${(t.ms / t.n).toFixed(1).padStart(6)} ms  ${outcomes}`,
      );
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
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(
    Buffer.from(needle.buffer, needle.byteOffset, needle.length),
  );
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

export const XML_JUNK = [
  '<',
  '>',
  '&',
  ']]>',
  '<!--',
  '-->',
  '<![CDATA[',
  '</SyncHdr>',
  '<SyncBody>',
  '<Atomic>',
  '\u0000',
  '<?x?>',
  '"',
  "'",
  ' xmlns:a="x"',
  '<a:b>',
  '&#xD800;',
  '&#0;',
  '&bogus;',
  '</>',
  '<SyncML xmlns="SYNCML:SYNCML1.2">',
  '\uffff',
  '\r\n',
  '<!DOCTYPE x>',
  '<MsgID>-1</MsgID>',
  '<Final/>',
  '<MoreData/>',
];
export const WBXML_JUNK: number[][] = [
  [0x00, 0xff],
  [0x00, 0x01],
  [0xc3, 0x8f, 0xff, 0xff, 0xff, 0x7f],
  [0x83, 0x8f, 0xff, 0xff, 0xff, 0x7f],
  [0x04, 0x7f],
  [0x02, 0x81, 0x80, 0x00],
  [0x40, 0x41, 0x00],
  [0xc0],
  [0x01],
  [0x01, 0x01, 0x01],
  [0x03, 0x41, 0x41],
  [0x43],
  [0x83, 0x00],
  [0xc3, 0x00],
  [0xc3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01],
  [0x80, 0x01],
  [0x44, 0x45, 0x46],
  [0x6d, 0x6c, 0x71],
];

/** One to three byte-level edits: truncation, junk, deletion, duplication, bit flips, a broken prolog or WBXML header. */
export function mutate(rng: Rng, src: Uint8Array, enc: Encoding): Uint8Array {
  let b = src;
  for (let r = 1 + rng.int(3); r > 0 && b.length > 0; r--) {
    const at = rng.int(b.length + 1);
    switch (rng.int(8)) {
      case 0:
        b = b.subarray(0, rng.int(b.length));
        break; // truncation
      case 1: {
        const m = new Uint8Array(b);
        for (let k = 1 + rng.int(8); k > 0; k--) m[rng.int(m.length)] = rng.int(256);
        b = m;
        break;
      }
      case 2:
        b = splice(b, at, 0, rng.bytes(1 + rng.int(64)));
        break; // garbage
      case 3:
        b = splice(b, at, 0, enc === 'xml' ? utf8Encode(rng.pick(XML_JUNK)) : Uint8Array.from(rng.pick(WBXML_JUNK)));
        break;
      case 4:
        b = splice(b, at, 1 + rng.int(48), new Uint8Array(0));
        break; // deletion
      case 5: {
        const from = rng.int(b.length);
        b = splice(b, at, 0, b.slice(from, from + 1 + rng.int(96)));
        break;
      } // duplication
      case 6: {
        const m = new Uint8Array(b);
        const i = rng.int(m.length);
        m[i] = m[i]! ^ (1 << rng.int(8));
        b = m;
        break;
      } // bit flip
      default: {
        // the header: WBXML version/public id/charset/string table; XML declaration
        const m = new Uint8Array(b);
        m[rng.int(Math.min(enc === 'xml' ? 40 : 6, m.length))] = rng.int(256);
        b = m;
      }
    }
  }
  return b;
}

export const WRONG_NUMBERS = [
  'abc',
  '-1',
  '-0',
  '1e3',
  '0x1F',
  '1.5',
  '+1',
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  '4294967296',
  '4294967295',
  '99999999999999999999',
  '9007199254740993',
  '18446744073709551616',
  '1'.repeat(17),
  `${'0'.repeat(1000)}1`,
  '١٢٣',
  '１２',
  '12\u000034',
  'null',
  'true',
  '[]',
  '{"a":1}',
  '<x/>',
  '&amp;',
  '0',
  '00000000000000001',
  '2147483648',
  '-2147483649',
];
export const NUMERIC_FIELDS = [
  'MsgID',
  'CmdID',
  'MsgRef',
  'CmdRef',
  'MaxMsgSize',
  'MaxObjSize',
  'Size',
  'NumberOfChanges',
];
export const TEXT_FIELDS = ['SessionID', 'VerDTD', 'VerProto', 'Data', 'Type', 'Format', 'Cmd', 'LocURI'];
export const REQUIRED = [
  'SyncHdr',
  'SyncBody',
  'VerDTD',
  'VerProto',
  'SessionID',
  'MsgID',
  'Target',
  'Source',
  'LocURI',
  'CmdID',
  'Data',
  'Cmd',
  'MsgRef',
  'CmdRef',
  'Item',
];

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
export const BAD_REFS = [
  '&xxe;',
  '&lol9;',
  '&passwd;',
  '&#xD800;',
  '&#xDFFF;',
  '&#x110000;',
  '&#1114112;',
  '&#99999999;',
  '&#;',
  '&#x;',
  '&;',
  '&AMP;',
  `&${'a'.repeat(13)};`,
  '&xxe ;',
  '&#X41;',
  '&nbsp;',
  '&copy;',
];
/** Odd but harmless, or not entity syntax at all: judged by the general rule only. */
export const OTHER_PAYLOADS = [
  '&#x41;&#65;',
  '&#0000065;',
  '&apos;&quot;&lt;&gt;&amp;',
  '&#x0;',
  '%p;',
  '&amp;xxe;',
  '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd"/>',
  '<?xml-stylesheet type="text/xsl" href="file:///etc/passwd"?>',
  '<!-- <!ENTITY x "y"> -->',
  '<![CDATA[<!DOCTYPE x [<!ENTITY y SYSTEM "file:///etc/passwd">]>&y;]]>',
  '<![CDATA[ ]]> ]]>',
  '<?xml version="1.0"?>',
  '<x xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></x>',
  '<!-- -- -->',
  '<!---->',
  '<?php system("id"); ?>',
];

export const BAD_UTF8: number[][] = [
  [0x80],
  [0xc0, 0xaf],
  [0xc0, 0xae],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xff],
  [0xfe],
  [0xe2, 0x82],
  [0xc0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc1, 0xbf],
];

/** Traversal, injection, NULs, odd Unicode and huge paths; `others` are identities of other peers to aim at. */
export function hostileUri(rng: Rng, others: readonly [string, string]): string {
  const [a, b] = others;
  const other = rng.bool() ? a : b;
  const list = [
    '..',
    '../',
    '/../',
    './..',
    './DevInfo/../../../etc/passwd',
    '../../../../../../etc/passwd',
    './Vendor/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    '..%2f..%2f..%2fetc%2fpasswd',
    '..%252f..%252f',
    '..\\..\\..\\windows\\win.ini',
    './DevDetail/..;/..;/',
    'file:///etc/passwd',
    'http://169.254.169.254/latest/meta-data/',
    '//evil.example/x',
    '.\u0000/DevInfo',
    './DevInfo/DevId\u0000',
    '\u0000',
    '%00',
    './a/%00/b',
    '\r\nX-Injected: 1',
    "' OR '1'='1",
    '"; DROP TABLE devices; --',
    '%s%s%s%n',
    '${jndi:ldap://127.0.0.1:1/a}',
    '\u202e/cte/..',
    'ＩＭＥＩ：１２３',
    './DevInfo/\ud800',
    '🙂/../🙂',
    '.',
    '/',
    './',
    '//',
    './/..//..//',
    `${a}/../${b}`,
    `${other}/..`,
    `./${other}`,
    `${other}\u0000`,
    `../${other}`,
    `./DevInfo/../../${other}/DevInfo/DevId`,
    'a/'.repeat(1 + rng.int(50_000)),
    `./${'x'.repeat(1 + rng.int(1_000_000))}`,
    '../'.repeat(1 + rng.int(10_000)),
  ];
  return rng.pick(list);
}

/** One way of breaking a message's tree: numbers that are not, text where none goes, required elements gone, duplicates, unknown elements. */
export function breakTypes(rng: Rng, root: XmlElement): void {
  const op = rng.int(8);
  const els = (name: string) => findAll(root, name);
  const some = (list: XmlElement[]) => (rng.bool(0.5) ? list : list.slice(0, 1 + rng.int(Math.max(1, list.length))));
  switch (op) {
    case 0:
    case 1:
    case 2: // a number field that is not a number
      for (const el of some(els(rng.pick(NUMERIC_FIELDS)))) el.children = [rng.pick(WRONG_NUMBERS)];
      break;
    case 3: // text fields with numbers' junk, or huge
      for (const el of some(els(rng.pick(TEXT_FIELDS))))
        el.children = [rng.bool(0.3) ? 'x'.repeat(1 + rng.int(100_000)) : rng.pick(WRONG_NUMBERS)];
      break;
    case 4: {
      // an element where text goes, or bytes that are not UTF-8
      const f = rng.pick([...NUMERIC_FIELDS, ...TEXT_FIELDS]);
      const bad: XmlNode = rng.bool(0.5)
        ? { name: rng.pick(['Atomic', 'Item', 'Meta', 'Final']), children: [] }
        : Uint8Array.from([0xff, 0xfe, 0xc0, 0x80]);
      for (const el of some(els(f))) el.children = [bad];
      break;
    }
    case 5: {
      // a required element missing
      const name = rng.pick(REQUIRED);
      const stack: XmlElement[] = [root];
      while (stack.length) {
        const el = stack.pop()!;
        el.children = el.children.filter(
          (c) => !(typeof c === 'object' && !(c instanceof Uint8Array) && c.name === name && rng.bool(0.7)),
        );
        for (const c of el.children) if (typeof c === 'object' && !(c instanceof Uint8Array)) stack.push(c);
      }
      break;
    }
    case 6: {
      // duplicated, reordered, emptied, renamed
      const hdr = els('SyncHdr')[0]!;
      const body = els('SyncBody')[0]!;
      const choice = rng.int(6);
      if (choice === 0) root.children = [hdr, hdr, body];
      else if (choice === 1) root.children = [body, hdr];
      else if (choice === 2)
        hdr.children = [
          ...hdr.children,
          { name: 'MsgID', children: ['2'] },
          { name: 'SessionID', children: ['other'] },
        ];
      else if (choice === 3) for (const el of els(rng.pick(REQUIRED))) el.children = [];
      else if (choice === 4) root.name = rng.pick(['SyncML2', 'syncml', 'DevInf', 'MetInf']);
      else
        body.children = [
          ...body.children,
          { name: 'Final', children: ['false'] },
          { name: 'Final', children: [] },
          { name: 'NoResp', children: ['yes'] },
        ];
      break;
    }
    default: // unknown elements and namespaces all over
      for (const el of some(els(rng.pick(['SyncHdr', 'Item', 'Meta', 'Alert', 'Replace'])))) {
        el.children = [
          ...el.children,
          {
            name: rng.pick(['Foo', 'Script', 'DevInf', 'Anchor', 'EMI']),
            ns: rng.pick([undefined, NS_METINF, 'syncml:devinf']),
            children: ['x'],
          },
        ];
      }
  }
}

/** Depths from harmless to far past any decoder's limit. */
export const NEST_DEPTHS = [...Array.from({ length: 45 }, (_, d) => d + 1), 64, 100, 1000, 10_000];

function nested(depth: number, rng: Rng, inner: XmlElement): XmlElement {
  let el = inner;
  for (let d = 0; d < depth; d++) {
    const name = rng.pick(['Atomic', 'Sequence', 'Sync']);
    el = { name, children: [{ name: 'CmdID', children: [String(1000 + d)] }, el] };
  }
  return el;
}

/** Nests `depth` levels somewhere in a message (its second command, the first Item's Data, or the header). */
export function nestDeep(rng: Rng, root: XmlElement, depth: number): void {
  const body = findAll(root, 'SyncBody')[0]!;
  const kind = rng.int(3);
  if (kind === 0) {
    // Commands inside containers inside containers...
    body.children = [body.children[0]!, nested(depth, rng, body.children[1] as XmlElement), ...body.children.slice(2)];
  } else if (kind === 1) {
    // Nested XML inside an Item's Data (MetInf elements, as an Anchor would be).
    let data: XmlElement = { name: 'Last', ns: NS_METINF, children: ['x'] };
    for (let d = 0; d < depth; d++) data = { name: 'Mem', ns: NS_METINF, children: [data] };
    const item = findAll(root, 'Item')[0]!;
    item.children = [
      ...item.children.filter((c) => !(typeof c === 'object' && !(c instanceof Uint8Array) && c.name === 'Data')),
      { name: 'Data', children: [data] },
    ];
  } else {
    // Unknown elements nested anywhere (the header this time).
    let junk: XmlElement = { name: 'Foo', children: ['x'] };
    for (let d = 0; d < depth; d++) junk = { name: 'Foo', children: [junk] };
    const hdr = findAll(root, 'SyncHdr')[0]!;
    hdr.children = [...hdr.children, junk];
  }
}

/**
 * A wrong-types case: `root` with values of the wrong type put in (breakTypes), in XML or
 * WBXML (XML when WBXML cannot carry the tree); undefined when neither can.
 */
export function wrongTypesCase(rng: Rng, root: XmlElement): { body: Uint8Array; enc: Encoding } | undefined {
  const enc: Encoding = rng.bool(0.6) ? 'xml' : 'wbxml';
  breakTypes(rng, root);
  for (const e of enc === 'wbxml' ? (['wbxml', 'xml'] as const) : (['xml'] as const)) {
    try {
      return { body: encodeTree(root, e), enc: e };
    } catch {
      /* the next encoding, or none */
    }
  }
  return undefined;
}

/**
 * A deep-nesting case: the tree `makeRoot` builds, nested to a depth from NEST_DEPTHS, in
 * WBXML or XML (XML when WBXML cannot carry it). 40 levels and more must be refused before
 * decoding (HTTP 400).
 */
export function deepNestingCase(
  rng: Rng,
  makeRoot: () => XmlElement,
): { body: Uint8Array; enc: Encoding; expectHttp?: number } {
  const depth = rng.pick(NEST_DEPTHS);
  const enc: Encoding = rng.bool() ? 'xml' : 'wbxml';
  const root = makeRoot();
  nestDeep(rng, root, depth);
  let body: Uint8Array;
  try {
    body = encodeTree(root, enc);
  } catch {
    body = encodeTree(root, 'xml');
  }
  return { body, enc: body[0] === 0x3c ? 'xml' : enc, ...(depth >= 40 ? { expectHttp: 400 } : {}) };
}

/**
 * An entity case from a message carrying `mark` in a text and a URI: mostly its XML with a
 * DTD or odd reference injected (injectEntity); one time in ten the message `inWbxml` makes
 * around the payload instead, to be sent as WBXML, where the payload is only ever text.
 */
export function entityCase<M>(
  rng: Rng,
  tree: XmlElement,
  mark: string,
  inWbxml: (payload: string) => M,
): { wbxml: M } | { xml: Uint8Array; expectHttp?: number } {
  const { xml, payload, refuse } = injectEntity(rng, serializeXml(tree, { declaration: false }), mark);
  if (rng.bool(0.1)) return { wbxml: inWbxml(payload) };
  return { xml: utf8Encode(xml), ...(refuse ? { expectHttp: 400 } : {}) };
}

/**
 * Puts a DTD, a bad entity reference or another odd payload into serialized XML: in the
 * prolog, the header, a text (`>mark<`), a URI (`/mark`), the body's end or the epilog.
 * `refuse`: a conforming decoder must refuse the result.
 */
export function injectEntity(
  rng: Rng,
  source: string,
  mark: string,
): { xml: string; payload: string; refuse: boolean } {
  let xml = source;
  const decl = rng.bool(0.8) ? '<?xml version="1.0" encoding="UTF-8"?>' : '';
  const family = rng.int(3);
  const payload = family === 0 ? rng.pick(DTD_PAYLOADS) : family === 1 ? rng.pick(BAD_REFS) : rng.pick(OTHER_PAYLOADS);
  const where = rng.pick(['prolog', 'hdr', 'text', 'uri', 'body-end', 'epilog'] as const);
  const inText = where === 'text' || where === 'uri';
  switch (where) {
    case 'prolog':
      xml = `${decl}${payload}${xml}`;
      break;
    case 'hdr':
      xml = decl + xml.replace('<SyncHdr>', `<SyncHdr>${payload}`);
      break;
    case 'text':
      xml = decl + xml.replace(`>${mark}<`, `>${payload}<`);
      break;
    case 'uri':
      xml = decl + xml.replace(`/${mark}`, `/${payload}`);
      break;
    case 'body-end':
      xml = decl + xml.replace('</SyncBody>', `${payload}</SyncBody>`);
      break;
    case 'epilog':
      xml = `${decl}${xml}${payload}`;
      break;
  }
  xml = xml.split(mark).join('m');
  // A declaration is refused wherever it is; a bad reference wherever it is read as a reference.
  const refuse = family === 0 || (family === 1 && (inText || where === 'hdr' || where === 'body-end'));
  return { xml, payload, refuse };
}

/**
 * A message's bytes in an encoding it must not have, or with bad bytes where `mark` is:
 * invalid and overlong UTF-8, UTF-16/32, declared charsets we do not read, raw NULs, a
 * WBXML charset other than UTF-8, a LocURI (`markedUri`) as opaque non-UTF-8 bytes.
 * `plain` is the message encoded as `enc`, `tree` gives its element tree anew.
 */
export function oddEncoding(
  rng: Rng,
  enc: Encoding,
  plain: Uint8Array,
  tree: () => XmlElement,
  mark: string,
  markedUri: string,
): { body: Uint8Array; expectHttp?: number } {
  const mode = rng.int(enc === 'xml' ? 9 : 3);
  let body: Uint8Array;
  let expectHttp: number | undefined;
  const xmlNoDecl = () => serializeXml(tree(), { declaration: false });
  switch (enc === 'xml' ? mode : 10 + mode) {
    case 0:
    case 1:
      body = replaceMarker(plain, mark, Uint8Array.from(rng.pick(BAD_UTF8)));
      expectHttp = 400;
      break;
    case 2: {
      // UTF-16 with a BOM, either byte order
      const s = xmlNoDecl().replace(mark, 'x');
      const le = Buffer.from(`\ufeff${s}`, 'utf16le');
      body = rng.bool() ? new Uint8Array(le) : new Uint8Array(Buffer.from(le).swap16());
      expectHttp = 400;
      break;
    }
    case 3:
      body = Uint8Array.from([0xef, 0xbb, 0xbf, ...replaceMarker(plain, mark, utf8Encode('x'))]);
      break; // UTF-8 BOM: fine
    case 4:
      body = replaceMarker(
        utf8Encode(`<?xml version="1.0" encoding="ISO-8859-1"?>${xmlNoDecl()}`),
        mark,
        Uint8Array.from([0xe9, 0xff, 0x80]),
      );
      break;
    case 5: {
      const label = rng.pick([
        'UTF-16',
        'UTF-32',
        'EBCDIC-US',
        'UTF-7',
        'Shift_JIS',
        'x'.repeat(200),
        'utf-16le',
        'GB18030',
      ]);
      body = utf8Encode(`<?xml version="1.0" encoding="${label}"?>${xmlNoDecl().replace(mark, 'x')}`);
      expectHttp = 400;
      break;
    }
    case 6:
      body = Uint8Array.from([0xff, 0xfe, 0x00, 0x00, ...Buffer.from(xmlNoDecl(), 'utf16le')]);
      expectHttp = 400;
      break; // UTF-32LE BOM
    case 7:
      body = replaceMarker(plain, mark, Uint8Array.from([0xc0, 0xae, 0xc0, 0xae, 0xc0, 0xaf]));
      expectHttp = 400;
      break; // overlong "../"
    case 8:
      body = replaceMarker(plain, mark, utf8Encode('\u0000\u0000'));
      break; // raw NULs: not XML characters
    case 10:
      body = replaceMarker(plain, mark, Uint8Array.from(rng.pick(BAD_UTF8).filter((x) => x !== 0)));
      break; // inside a WBXML string
    case 11: {
      // the WBXML charset: US-ASCII, Latin-1, UTF-16, unknown
      const m = new Uint8Array(plain);
      m[3] = rng.pick([0x03, 0x04, 0x00, 0x7f]);
      body = m;
      break;
    }
    default: {
      // LocURI as OPAQUE bytes that are not UTF-8
      const root = tree();
      for (const el of findAll(root, 'LocURI'))
        if (el.children[0] === markedUri) el.children = [Uint8Array.from([0x2e, 0x2f, 0xc0, 0xaf, 0x00, 0xff])];
      body = encodeWbxml(root);
    }
  }
  return { body, ...(expectHttp ? { expectHttp } : {}) };
}

const GARBAGE: Array<string | number[]> = [
  '',
  ' ',
  '\n',
  '<',
  '<?xml version="1.0"?>',
  '<SyncML/>',
  '<SyncML xmlns="SYNCML:SYNCML1.2"/>',
  '<SyncML><SyncHdr/></SyncML>',
  '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr/><SyncBody/></SyncML>',
  '<foo/>',
  '<SyncML></SyncML><SyncML></SyncML>',
  '{"SyncML":{}}',
  '<html><body>hi</body></html>',
  '%PDF-1.4',
  'PK\u0003\u0004',
  [0x1f, 0x8b, 0x08, 0x00],
  [0x89, 0x50, 0x4e, 0x47],
  [0x02, 0xa4, 0x01, 0x6a, 0x00],
  [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d],
  [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x6d, 0x01],
  [0x03, 0x01, 0x6a, 0x00, 0x45, 0x01],
  [0x00],
  [0xff, 0xff, 0xff, 0xff],
  [0x02, 0x00, 0x00, 0x6a, 0x8f, 0xff, 0xff, 0xff, 0x7f],
  [0x02, 0xa4, 0x01, 0x6a, 0x00, 0x00, 0x05, 0x6d, 0x01],
];

/** The i-th body that is no SyncML at all: the fixed ones twice over, then random bytes or printable text. */
export function garbageBody(rng: Rng, i: number): Uint8Array {
  const fixed = GARBAGE;
  let body: Uint8Array;
  if (i < fixed.length * 2) {
    const f = fixed[i % fixed.length]!;
    body = typeof f === 'string' ? utf8Encode(f) : Uint8Array.from(f);
  } else if (rng.bool(0.5)) {
    body = rng.bytes(rng.int(8192));
  } else {
    let s = '';
    for (let k = rng.int(2000); k > 0; k--) s += String.fromCharCode(32 + rng.int(95));
    body = utf8Encode(s);
  }
  return body;
}
