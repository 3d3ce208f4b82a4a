/**
 * Digests of the B&R MO (docs/backup-restore-mo.md, "Digests"): how a handset tells the
 * server what changed without sending it. The server Execs `BR/Operations/Digest` with a
 * small JSON request and Gets `BR/Digest/Result` in the same message; the handset answers
 * with the digest of each subtree asked for and, on request, its direct children's or all its
 * descendants' (a leaf's digest is the SHA-256 of its value, an interior node's the digest
 * of its subtree).
 *
 * The canonical form is defined here once, for both sides: the handset computes it over its
 * tree, the server over the last snapshot's manifest, so nothing extra is stored. It covers
 * every readable node of the subtree (the subtree's own root included): its path relative
 * to the subtree, its format, its MIME type and, for a leaf, the SHA-256 of its value; so a
 * renamed interior node, a new empty node or a changed type changes every digest above it.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError } from '../errors';
import type { ItemData } from '../message';
import { concatBytes, toHex, utf8Encode } from '../util/bytes';
import { dataText } from './common';
import { BR_ROOT } from './backup-restore';

export const BR_DIGEST = {
  /** Exec with the request as JSON data; answered 200 once the result is filled. */
  Exec: `${BR_ROOT}/Operations/Digest`,
  Node: `${BR_ROOT}/Digest`,
  /** The last request's answer, JSON (chr, application/json). */
  Result: `${BR_ROOT}/Digest/Result`,
} as const;

/** Domain separation: a digest of version 1 of the canonical form, never confused with a value's SHA-256. */
const DIGEST_TAG = utf8Encode('rewind-br-digest-1\n');

/** One node as the canonical form sees it. `rel` is '' for the subtree's own root. */
export interface DigestRecord {
  rel: string;
  /** As a Get reports it (normalised by digestFormat). */
  format: string;
  type?: string | undefined;
  /** SHA-256 of a leaf's value; absent for interior nodes. */
  valueHash?: Uint8Array | undefined;
}

/** The format as the canonical form (and a manifest) records it: lower case, chr when absent, b64 as bin. */
export function digestFormat(format: string | undefined): string {
  const f = (format ?? '').trim().toLowerCase() || 'chr';
  return f === 'b64' ? 'bin' : f;
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
}

function field(s: string): Uint8Array[] {
  const b = utf8Encode(s);
  return [u32(b.length), b];
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * The digest of a subtree: SHA-256 of the tag, then every record in the order of its
 * relative path's UTF-8 bytes, each as len‖rel, len‖format, len‖type (lengths 32-bit big
 * endian, type empty when absent), then 0x01‖SHA-256(value) for a leaf or 0x00 for an
 * interior node. Lowercase hex.
 */
export function subtreeDigest(records: readonly DigestRecord[]): string {
  const keyed = records.map((r) => ({ key: utf8Encode(r.rel), r }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  const parts: Uint8Array[] = [DIGEST_TAG];
  for (const { r } of keyed) {
    parts.push(...field(r.rel), ...field(digestFormat(r.format)), ...field(r.type ?? ''));
    if (r.valueHash) parts.push(new Uint8Array([1]), r.valueHash);
    else parts.push(new Uint8Array([0]));
  }
  return toHex(sha256(concatBytes(parts)));
}

// ---------------------------------------------------------------------------------------
// Request and result

export interface DigestRequest {
  /** Echoed in the result, so a stale Result node (from an earlier request) is never taken for this one's. */
  id: string;
  /** Subtrees whose own digest is wanted. */
  paths: string[];
  /** Interior nodes whose direct children's digests are wanted. */
  children: string[];
  /** Interior nodes whose every descendant's digest is wanted (names relative, with '/'): one round trip for a small subtree. */
  deep: string[];
}

/** A node's digest entry: a leaf's value SHA-256, or an interior node's subtree digest (format node). */
export interface DigestEntry {
  format: string;
  type?: string;
  digest: string;
}

export type DigestAnswer = ({ path: string } & DigestEntry) | { path: string; status: number };

export interface ChildrenAnswer {
  path: string;
  status?: number;
  children?: Array<{ name: string } & DigestEntry>;
}

export interface DigestResult {
  id: string;
  nodes: DigestAnswer[];
  lists: ChildrenAnswer[];
}

/** Paths per request: enough for any profile's roots, bounded for the handset's sake. */
export const MAX_DIGEST_PATHS = 256;
/** A result may list many children; bounded all the same. */
const MAX_RESULT_BYTES = 4 * 1024 * 1024;
const MAX_REQUEST_BYTES = 64 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

function bad(msg: string): never {
  throw new DecodeError('invalid', msg);
}

function parseJson(data: ItemData | undefined, max: number, what: string): Record<string, unknown> {
  if (data === undefined || Array.isArray(data)) bad(`${what} must be JSON text`);
  if (data.length > max) throw new DecodeError('too-large', `${what} of ${data.length} exceeds ${max}`);
  const text = dataText(data);
  if (text === undefined) throw new DecodeError('malformed', `${what} is not UTF-8`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new DecodeError('malformed', `${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function pathList(v: unknown, k: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > MAX_DIGEST_PATHS) bad(`${k} must be a list of at most ${MAX_DIGEST_PATHS}`);
  return v.map((p) => (typeof p === 'string' && p.length > 0 && p.length <= 1024 ? p : bad(`${k} has a bad path`)));
}

function idOf(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(v) ? v : bad('id must be a short token');
}

export function encodeDigestRequest(r: DigestRequest): string {
  return JSON.stringify({
    id: r.id,
    paths: r.paths,
    ...(r.children.length ? { children: r.children } : {}),
    ...(r.deep.length ? { deep: r.deep } : {}),
  });
}

/** The handset's reading of the Exec data. Throws DecodeError. */
export function parseDigestRequest(data: ItemData | undefined): DigestRequest {
  const o = parseJson(data, MAX_REQUEST_BYTES, 'digest request');
  const req = {
    id: idOf(o.id),
    paths: pathList(o.paths, 'paths'),
    children: pathList(o.children, 'children'),
    deep: pathList(o.deep, 'deep'),
  };
  if (req.paths.length + req.children.length + req.deep.length === 0) bad('digest request names no path');
  return req;
}

/** Compact on the air: [name, format, type, digest] per child. */
export function encodeDigestResult(r: DigestResult): string {
  return JSON.stringify({
    id: r.id,
    nodes: r.nodes.map((n) =>
      'status' in n ? { path: n.path, status: n.status } : [n.path, n.format, n.type ?? '', n.digest],
    ),
    ...(r.lists.length
      ? {
          lists: r.lists.map((l) =>
            l.status !== undefined
              ? { path: l.path, status: l.status }
              : { path: l.path, children: (l.children ?? []).map((c) => [c.name, c.format, c.type ?? '', c.digest]) },
          ),
        }
      : {}),
  });
}

function entryOf(v: unknown, what: string): [string, DigestEntry] {
  if (!Array.isArray(v) || v.length !== 4 || !v.every((x) => typeof x === 'string')) bad(`${what} must be a 4-list`);
  const [name, format, type, digest] = v as [string, string, string, string];
  if (name.length === 0 || name.length > 1024) bad(`${what} has a bad name`);
  if (format.length === 0 || format.length > 16 || type.length > 256) bad(`${what} has a bad format or type`);
  if (!HEX64.test(digest)) bad(`${what} has a bad digest`);
  return [name, { format: digestFormat(format), ...(type ? { type } : {}), digest }];
}

function statusOf(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 100 && v <= 599 ? v : bad('bad status');
}

/** The server's reading of the Result node: every field checked, fresh objects built. Throws DecodeError. */
export function parseDigestResult(data: ItemData | undefined): DigestResult {
  const o = parseJson(data, MAX_RESULT_BYTES, 'digest result');
  const nodes: DigestAnswer[] = [];
  if (!Array.isArray(o.nodes) || o.nodes.length > MAX_DIGEST_PATHS) bad('nodes must be a list');
  for (const n of o.nodes as unknown[]) {
    if (Array.isArray(n)) {
      const [path, e] = entryOf(n, 'node');
      nodes.push({ path, ...e });
    } else if (typeof n === 'object' && n !== null) {
      const r = n as Record<string, unknown>;
      if (typeof r.path !== 'string' || r.path.length === 0 || r.path.length > 1024) bad('node has a bad path');
      nodes.push({ path: r.path, status: statusOf(r.status) });
    } else bad('node must be a list or an object');
  }
  const lists: ChildrenAnswer[] = [];
  if (o.lists !== undefined) {
    if (!Array.isArray(o.lists) || o.lists.length > MAX_DIGEST_PATHS) bad('lists must be a list');
    for (const l of o.lists as unknown[]) {
      if (typeof l !== 'object' || l === null || Array.isArray(l)) bad('list must be an object');
      const r = l as Record<string, unknown>;
      if (typeof r.path !== 'string' || r.path.length === 0 || r.path.length > 1024) bad('list has a bad path');
      if (r.status !== undefined) {
        lists.push({ path: r.path, status: statusOf(r.status) });
        continue;
      }
      if (!Array.isArray(r.children) || r.children.length > 100_000) bad('children must be a list');
      const names = new Set<string>();
      const children = (r.children as unknown[]).map((c) => {
        const [name, e] = entryOf(c, 'child');
        // A descendant of a deep listing names its path below the listed node: every segment a real name.
        if (names.has(name) || name.split('/').some((seg) => seg === '' || seg === '.' || seg === '..'))
          bad('child has a bad name');
        names.add(name);
        return { name, ...e };
      });
      lists.push({ path: r.path, children });
    }
  }
  return { id: idOf(o.id), nodes, lists };
}
