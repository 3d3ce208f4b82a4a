/**
 * Codec benchmark: our XML and WBXML codecs on a ~1 MB DM message, beside libwbxml2's
 * command-line tools on the same bytes.
 *
 * Every throughput is MB of the corpus's XML text per second, whichever side of the codec
 * it is measured on, so rows compare directly. libwbxml is only reachable as a process, so
 * its rows subtract the cost of running the tool on a tiny document (reported on its own
 * row) before dividing. libwbxml's string-table encoder is super-linear (the 1 MB corpus
 * takes about a minute), so it runs on 100 KB and 200 KB only, and our string-table encoder
 * runs at 100 KB, 1 MB and 4 MB to show it is not. Figures on a loaded machine are noisy:
 * each is the median of many runs after a warm-up, and garbage collection still shows.
 *
 *   npx tsx scripts/bench/codec.ts
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeMessage, encodeMessage } from '../../lib/omadm/codec/index';
import { decodeWbxml, encodeWbxml } from '../../lib/omadm/codec/wbxml';
import { parseXml, serializeXml } from '../../lib/omadm/codec/xml';
import { corpusMessage, makeCorpus } from './corpus';
import type { Corpus } from './corpus';

export interface Row {
  name: string;
  value: number;
  unit: string;
  baseline?: string;
}

const MB = 1024 * 1024;

/** Median milliseconds per call, after a warm-up long enough for the JIT to settle. */
export function timeMs(fn: () => void, budgetMs = 600): number {
  const warmEnd = performance.now() + budgetMs / 3;
  do fn();
  while (performance.now() < warmEnd);
  const samples: number[] = [];
  const end = performance.now() + budgetMs;
  while (samples.length < 5 || (performance.now() < end && samples.length < 200)) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

function mbps(c: Corpus, ms: number): number {
  return round(c.bytes.length / MB / (ms / 1000));
}

function round(v: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function hasTool(cmd: string): boolean {
  return spawnSync(cmd, [], { stdio: 'ignore' }).error === undefined;
}

/** Median wall time of running a tool, in ms. */
function timeProcess(cmd: string, args: string[], runs: number): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 120_000 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr?.toString() ?? r.error}`);
    samples.push(ms);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export async function benchCodec(): Promise<Row[]> {
  const rows: Row[] = [];
  const big = makeCorpus(1_000_000);
  const small = makeCorpus(100_000);
  const mid = makeCorpus(200_000);
  const kb = (n: number) => round(n / 1024);

  rows.push({ name: 'corpus: XML text', value: kb(big.bytes.length), unit: 'KB', baseline: `${big.items} items` });
  const wbPlain = encodeWbxml(big.root, { stringTable: false });
  const wbTable = encodeWbxml(big.root);
  rows.push({ name: 'corpus: WBXML, no string table', value: kb(wbPlain.length), unit: 'KB' });
  rows.push({ name: 'corpus: WBXML, string table', value: kb(wbTable.length), unit: 'KB' });

  // Ours, 1 MB.
  const xmlDecode = timeMs(() => parseXml(big.bytes));
  const xmlEncode = timeMs(() => serializeXml(big.root));
  const wbDecode = timeMs(() => decodeWbxml(wbPlain));
  const wbDecodeTable = timeMs(() => decodeWbxml(wbTable));
  const wbEncode = timeMs(() => encodeWbxml(big.root, { stringTable: false }));
  const wbEncodeTable = timeMs(() => encodeWbxml(big.root));
  const wbEncodeTableSmall = timeMs(() => encodeWbxml(small.root));

  rows.push({ name: 'ours: XML decode (parseXml) 1 MB', value: mbps(big, xmlDecode), unit: 'MB/s' });
  rows.push({ name: 'ours: XML encode (serializeXml) 1 MB', value: mbps(big, xmlEncode), unit: 'MB/s' });
  rows.push({ name: 'ours: WBXML decode 1 MB (no string table)', value: mbps(big, wbDecode), unit: 'MB/s' });
  rows.push({ name: 'ours: WBXML decode 1 MB (string table)', value: mbps(big, wbDecodeTable), unit: 'MB/s' });
  rows.push({ name: 'ours: WBXML encode 1 MB (no string table)', value: mbps(big, wbEncode), unit: 'MB/s' });
  rows.push({ name: 'ours: WBXML encode 100 KB (string table)', value: mbps(small, wbEncodeTableSmall), unit: 'MB/s' });
  rows.push({ name: 'ours: WBXML encode 1 MB (string table)', value: mbps(big, wbEncodeTable), unit: 'MB/s' });
  // 100 KB sits in CPU cache and 1 MB does not, so linearity shows best from 1 MB upwards.
  const huge = makeCorpus(4_000_000);
  const wbEncodeTableHuge = timeMs(() => encodeWbxml(huge.root));
  const perMb = (c: Corpus, ms: number) => round(ms / (c.bytes.length / MB), 1);
  rows.push({
    name: 'ours: WBXML encode 4 MB (string table)',
    value: mbps(huge, wbEncodeTableHuge),
    unit: 'MB/s',
    baseline: `ms per MB at 100 KB / 1 MB / 4 MB: ${perMb(small, wbEncodeTableSmall)} / ${perMb(big, wbEncodeTable)} / ${perMb(huge, wbEncodeTableHuge)}`,
  });

  // The whole path a request takes: bytes <-> typed message.
  const msg = corpusMessage(big);
  const msgXml = encodeMessage(msg, 'xml');
  const msgWbxml = encodeMessage(msg, 'wbxml');
  rows.push({
    name: 'ours: decodeMessage xml 1 MB',
    value: mbps(
      big,
      timeMs(() => decodeMessage(msgXml, 'xml')),
    ),
    unit: 'MB/s',
  });
  rows.push({
    name: 'ours: decodeMessage wbxml 1 MB',
    value: mbps(
      big,
      timeMs(() => decodeMessage(msgWbxml, 'wbxml')),
    ),
    unit: 'MB/s',
  });
  rows.push({
    name: 'ours: encodeMessage xml 1 MB',
    value: mbps(
      big,
      timeMs(() => encodeMessage(msg, 'xml')),
    ),
    unit: 'MB/s',
  });
  rows.push({
    name: 'ours: encodeMessage wbxml 1 MB',
    value: mbps(
      big,
      timeMs(() => encodeMessage(msg, 'wbxml')),
    ),
    unit: 'MB/s',
  });

  if (!hasTool('xml2wbxml') || !hasTool('wbxml2xml')) {
    rows.push({ name: 'libwbxml2: tools not installed, comparison skipped', value: 0, unit: '-' });
    return rows;
  }

  const dir = mkdtempSync(join(tmpdir(), 'rewind-bench-'));
  try {
    const file = (n: string) => join(dir, n);
    writeFileSync(
      file('tiny.xml'),
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD></SyncHdr></SyncML>',
    );
    writeFileSync(file('big.xml'), big.bytes);
    writeFileSync(file('small.xml'), small.bytes);
    writeFileSync(file('mid.xml'), mid.bytes);

    const spawn = timeProcess('xml2wbxml', ['-v', '1.3', '-n', '-o', file('tiny.wbxml'), file('tiny.xml')], 7);
    rows.push({
      name: 'libwbxml2: process spawn + tiny document',
      value: round(spawn, 2),
      unit: 'ms',
      baseline: 'subtracted below',
    });
    const net = (ms: number) => Math.max(ms - spawn, 0.001);

    const enc = timeProcess('xml2wbxml', ['-v', '1.3', '-n', '-o', file('big.wbxml'), file('big.xml')], 3);
    rows.push({
      name: 'libwbxml2: xml2wbxml -n 1 MB',
      value: mbps(big, net(enc)),
      unit: 'MB/s',
      baseline: `ours ${mbps(big, wbEncode)} MB/s; ${round(enc)} ms wall`,
    });
    const dec = timeProcess('wbxml2xml', ['-m', '0', '-o', file('big.back.xml'), file('big.wbxml')], 3);
    rows.push({
      name: 'libwbxml2: wbxml2xml 1 MB',
      value: mbps(big, net(dec)),
      unit: 'MB/s',
      baseline: `ours ${mbps(big, wbDecode)} MB/s; ${round(dec)} ms wall`,
    });
    const encSmall = timeProcess('xml2wbxml', ['-v', '1.3', '-o', file('small.wbxml'), file('small.xml')], 3);
    rows.push({
      name: 'libwbxml2: xml2wbxml string table 100 KB',
      value: mbps(small, net(encSmall)),
      unit: 'MB/s',
      baseline: `ours ${mbps(small, wbEncodeTableSmall)} MB/s; ${round(encSmall)} ms wall`,
    });
    const encMid = timeProcess('xml2wbxml', ['-v', '1.3', '-o', file('mid.wbxml'), file('mid.xml')], 3);
    rows.push({
      name: 'libwbxml2: xml2wbxml string table 200 KB',
      value: mbps(mid, net(encMid)),
      unit: 'MB/s',
      baseline: `${round(net(encMid) / net(encSmall))}x the 100 KB time for 2x the input; 1 MB not run (about a minute)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatRows(rows: readonly Row[]): string {
  const w = Math.max(...rows.map((r) => r.name.length));
  return rows
    .map(
      (r) =>
        `${r.name.padEnd(w)}  ${String(r.value).padStart(9)} ${r.unit.padEnd(5)}${r.baseline ? `  (${r.baseline})` : ''}`,
    )
    .join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchCodec().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
