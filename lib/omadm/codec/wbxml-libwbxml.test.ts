/**
 * Cross-checks against libwbxml2 (Debian's libwbxml2-utils: xml2wbxml, wbxml2xml), the
 * reference codec most DM stacks were tested against. Skipped when the tools are missing.
 *
 * libwbxml makes representational choices that are not differences in the document, so
 * trees are compared after `canon`: it trims text (xml2wbxml drops leading and trailing
 * whitespace), and it writes Data inside Add/Replace items as OPAQUE, which we decode to
 * bytes; canon reads those bytes back as UTF-8 text.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeCorpus } from '../../../scripts/bench/corpus';
import { isElement } from './element';
import type { XmlElement } from './element';
import { decodeWbxml, encodeWbxml, looksLikeWbxml } from './wbxml';
import { parseXml } from './xml';

const hasTool =
  spawnSync('xml2wbxml', [], { encoding: 'utf8' }).error === undefined &&
  spawnSync('wbxml2xml', [], { encoding: 'utf8' }).error === undefined;

const VECTORS = '/work/shared/omadm-vectors/spec-examples';
const vectorFiles = readdirSync(VECTORS)
  .filter((f) => /^(oma-dm121-sec2\.6\.1-pkg|oma-dm121-sec2\.4-md5-|ms-mdm-).*\.xml$/.test(f))
  .sort();

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Plain-object copy with libwbxml's representational choices normalised away. */
function canon(el: XmlElement): unknown {
  const kids: unknown[] = [];
  for (const c of el.children) {
    if (isElement(c)) {
      kids.push(canon(c));
      continue;
    }
    const s = (typeof c === 'string' ? c : utf8.decode(c)).trim();
    if (s.length === 0) continue;
    const last = kids.length - 1;
    if (typeof kids[last] === 'string') kids[last] += s;
    else kids.push(s);
  }
  return { name: el.name, ns: el.ns, children: kids };
}

let dir: string | undefined;
function tmp(name: string): string {
  dir ??= mkdtempSync(join(tmpdir(), 'rewind-wbxml-'));
  return join(dir, name);
}
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}${r.stdout}`);
}

/** wbxml2xml writes a DOCTYPE (no internal subset), which our XML parser refuses by design. */
function libwbxmlDecode(wb: Uint8Array, name: string): XmlElement {
  const inFile = tmp(`${name}.wbxml`);
  const outFile = tmp(`${name}.out.xml`);
  writeFileSync(inFile, wb);
  run('wbxml2xml', ['-m', '0', '-o', outFile, inFile]);
  const xml = readFileSync(outFile, 'utf8').replace(/<!DOCTYPE[^>]*>/, '');
  return parseXml(xml);
}

function libwbxmlEncode(xml: string, name: string, stringTable: boolean): Uint8Array {
  const inFile = tmp(`${name}.in.xml`);
  const outFile = tmp(`${name}.${stringTable ? 's' : 'n'}.wbxml`);
  writeFileSync(inFile, xml);
  run('xml2wbxml', ['-v', '1.3', ...(stringTable ? [] : ['-n']), '-o', outFile, inFile]);
  return new Uint8Array(readFileSync(outFile));
}

function find(el: XmlElement, name: string): XmlElement | undefined {
  const stack: XmlElement[] = [el];
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.name === name) return e;
    for (const c of e.children) if (isElement(c)) stack.push(c);
  }
  return undefined;
}

describe.skipIf(!hasTool)('WBXML against libwbxml2', () => {
  it('finds the vectors', () => {
    expect(vectorFiles.length).toBeGreaterThanOrEqual(9);
  });

  for (const f of vectorFiles) {
    const xml = readFileSync(join(VECTORS, f), 'utf8');
    const base = f.replace(/\.xml$/, '');

    it(`${f}: our WBXML decodes with wbxml2xml to the same document`, () => {
      const tree = parseXml(xml);
      for (const stringTable of [true, false]) {
        const back = libwbxmlDecode(encodeWbxml(tree, { stringTable }), `${base}-ours-${stringTable}`);
        expect(canon(back)).toEqual(canon(tree));
      }
    });

    it(`${f}: xml2wbxml output (with and without string table) decodes with ours to the same document`, () => {
      const tree = parseXml(xml);
      for (const stringTable of [true, false]) {
        const wb = libwbxmlEncode(xml, base, stringTable);
        expect(canon(decodeWbxml(wb))).toEqual(canon(tree));
      }
    });
  }

  it('writes the same header as xml2wbxml for SyncML 1.2 (public id 0x1201, UTF-8)', () => {
    const xml = readFileSync(join(VECTORS, vectorFiles[0]!), 'utf8');
    const theirs = libwbxmlEncode(xml, 'hdr', false);
    const ours = encodeWbxml(parseXml(xml), { stringTable: false, version: 0x03 });
    expect(Array.from(ours.subarray(0, 5))).toEqual(Array.from(theirs.subarray(0, 5)));
  });

  it('agrees on a 100 KB realistic corpus in both directions', () => {
    const { xml } = makeCorpus(100_000);
    const tree = parseXml(xml);
    expect(canon(libwbxmlDecode(encodeWbxml(tree), 'corpus-ours'))).toEqual(canon(tree));
    expect(canon(decodeWbxml(libwbxmlEncode(xml, 'corpus', true)))).toEqual(canon(tree));
    expect(canon(decodeWbxml(libwbxmlEncode(xml, 'corpus', false)))).toEqual(canon(tree));
  });

  describe('DevInf inside Data (a nested WBXML document in OPAQUE)', () => {
    const devinfXml =
      '<DevInf xmlns="syncml:devinf"><VerDTD>1.2</VerDTD><Man>Acme &amp; Co</Man><Mod>X1</Mod>' +
      '<DevID>IMEI:1</DevID><DevTyp>phone</DevTyp><UTC/><SupportLargeObjs/>' +
      '<DataStore><SourceRef>./contacts</SourceRef><Rx-Pref><CTType>text/x-vcard</CTType><VerCT>2.1</VerCT></Rx-Pref>' +
      '<SyncCap><SyncType>1</SyncType><SyncType>2</SyncType></SyncCap></DataStore></DevInf>';
    const doc = (type: string): string =>
      '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>SyncML/1.2</VerProto>' +
      '<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>http://x</LocURI></Target>' +
      '<Source><LocURI>IMEI:1</LocURI></Source></SyncHdr><SyncBody><Put><CmdID>1</CmdID>' +
      `<Meta><Type xmlns="syncml:metinf">${type}</Type></Meta>` +
      `<Item><Source><LocURI>./devinf12</LocURI></Source><Data>${devinfXml}</Data></Item></Put><Final/></SyncBody></SyncML>`;

    it("reads xml2wbxml's nested DevInf as bytes that decode to the DevInf tree", () => {
      const wb = libwbxmlEncode(doc('application/vnd.syncml-devinf+xml'), 'devinf', false);
      const data = find(decodeWbxml(wb), 'Data')!;
      const nested = data.children[0];
      expect(nested).toBeInstanceOf(Uint8Array);
      expect(looksLikeWbxml(nested as Uint8Array)).toBe(true);
      expect(decodeWbxml(nested as Uint8Array)).toEqual(parseXml(devinfXml));
    });

    it('writes nested DevInf that wbxml2xml expands (when Type says +wbxml, as libwbxml requires)', () => {
      const tree = parseXml(doc('application/vnd.syncml-devinf+wbxml'));
      for (const stringTable of [true, false]) {
        const back = libwbxmlDecode(encodeWbxml(tree, { stringTable }), `devinf-ours-${stringTable}`);
        // libwbxml rewrites the Type back to +xml once it has expanded the document.
        expect(canon(back)).toEqual(canon(parseXml(doc('application/vnd.syncml-devinf+xml'))));
      }
    });
  });
});
