/**
 * An OMA DM management tree (OMA-TS-DM_TND-V1_2) as a virtual handset keeps it: interior
 * nodes with named children, leaves with a format, a MIME type and their value as bytes,
 * and per-node access types that decide which commands a node accepts.
 *
 * Every server-facing operation answers with a SyncML status code instead of throwing,
 * because that is what the handset puts in its Status: 404 for a missing node, 405 for an
 * access type the node lacks, 418 for an Add of something that exists, 413/420 for
 * values too big for the handset, 406 for a `?list=` form the handset refuses, 400 for a
 * path with '..' in it. Programmatic setters (`set`, `mkdir`) bypass access types: they
 * are the handset's own firmware writing its tree, not a server.
 *
 * Values are never mutated in place (every write stores a new Uint8Array), so snapshots
 * for Atomic share value buffers and only copy the node structure.
 */
import { utf8Decode, utf8Encode } from '../lib/omadm/util/bytes';
import { formatTStamp, propOfQuery, type ChangeProperty } from '../lib/omadm/mo/tnd-props';

export type LeafFormat = 'chr' | 'int' | 'bool' | 'b64' | 'bin' | 'xml' | 'date' | 'time' | 'float' | 'null';
export const LEAF_FORMATS: readonly LeafFormat[] = [
  'chr',
  'int',
  'bool',
  'b64',
  'bin',
  'xml',
  'date',
  'time',
  'float',
  'null',
];

/** DDF AccessType values. */
export type AccessType = 'Get' | 'Replace' | 'Add' | 'Delete' | 'Exec' | 'Copy';
export const ACCESS_TYPES: readonly AccessType[] = ['Get', 'Replace', 'Add', 'Delete', 'Exec', 'Copy'];

/** What most nodes allow: everything but Exec. */
export const ACCESS_RW: readonly AccessType[] = ['Get', 'Replace', 'Add', 'Delete', 'Copy'];
/** Permanent, read-only nodes (DevInfo, DevDetail). */
export const ACCESS_RO: readonly AccessType[] = ['Get'];
/** Read and overwrite but neither create nor remove (policy leaves, settings a user cannot delete). */
export const ACCESS_GR: readonly AccessType[] = ['Get', 'Replace'];
/** Operation nodes (FUMO Download, SCOMO Remove, B&R operations). */
export const ACCESS_EXEC: readonly AccessType[] = ['Exec'];
/** Secrets: writable, never readable (DMAcc AAuthSecret). */
export const ACCESS_SECRET: readonly AccessType[] = ['Replace', 'Add', 'Delete'];

/** What the tree keeps of a node's changes (TND properties VerNo and TStamp). */
interface Versioned {
  /** VerNo: the tree's change counter when the node (or, for an interior node, anything below it) last changed. */
  ver?: number;
  /** TStamp: when that was, ms since the epoch. */
  ts?: number;
}

export interface LeafNode extends Versioned {
  kind: 'leaf';
  format: LeafFormat;
  type?: string;
  value: Uint8Array;
  access: AccessType[];
}

export interface InteriorNode extends Versioned {
  kind: 'interior';
  /** DDF MO type (e.g. urn:oma:mo:oma-fumo:1.0), reported as Meta Type of a Get. */
  type?: string;
  children: Map<string, TreeNode>;
  access: AccessType[];
}

export type TreeNode = LeafNode | InteriorNode;

export interface TreeOptions {
  /** Answer `?list=Struct`; false gives 406 as some real clients do. Default true. */
  listStruct?: boolean;
  /** Answer `?list=StructData`; false gives 406. Default true. */
  listStructData?: boolean;
  /**
   * Add of a node whose parent interior nodes are missing creates them (DM 1.2 implicit
   * Add) when true; false answers 404 as stricter clients do. Default true.
   */
  autoCreateParents?: boolean;
  /** Largest single leaf value; bigger writes get 413. Default 16 MiB. */
  maxLeafBytes?: number;
  /** Storage for all leaf values together; a write past it gets 420 Device Full. Default 256 MiB. */
  capacityBytes?: number;
  /** URI limits as DevDetail/URI announces them; 0 = unlimited. Violations get 414. */
  maxDepth?: number;
  maxTotLen?: number;
  maxSegLen?: number;
  /** Node properties answered to `?prop=` (TND): a model may keep VerNo, TStamp, both or neither. Default none. */
  props?: ChangeProperty[];
}

const DEFAULTS: Required<TreeOptions> = {
  listStruct: true,
  listStructData: true,
  autoCreateParents: true,
  maxLeafBytes: 16 * 1024 * 1024,
  capacityBytes: 256 * 1024 * 1024,
  maxDepth: 0,
  maxTotLen: 0,
  maxSegLen: 0,
  props: [],
};

/** One node as read out of the tree: leaves with their value, interior nodes with their child list. */
export interface TreeEntry {
  path: string;
  format: LeafFormat | 'node';
  type?: string;
  /** Leaf value; for an interior node the child names joined by '/' (UTF-8). */
  value?: Uint8Array;
}

export interface GetResult {
  status: number;
  entries?: TreeEntry[];
}

export interface LeafInput {
  format?: LeafFormat | 'node' | string;
  type?: string;
  value?: Uint8Array;
}

export type ParsedUri = { ok: true; segments: string[]; query?: string } | { ok: false; status: number };

/** SyncML status codes the tree answers with. */
const S = {
  ok: 200,
  badRequest: 400,
  notFound: 404,
  notAllowed: 405,
  notSupported: 406,
  tooLarge: 413,
  uriTooLong: 414,
  unsupportedFormat: 415,
  exists: 418,
  deviceFull: 420,
} as const;

/**
 * Splits a node URI into segments. './A/B', 'A/B', './A//B' and 'A/B/' all name the same
 * node; '.' alone (or '') is the root. A '..' segment is refused with 400: a handset must
 * never let a server climb out of the node it addressed.
 */
export function parseUri(
  uri: string | undefined,
  opts: Pick<TreeOptions, 'maxDepth' | 'maxTotLen' | 'maxSegLen'> = {},
): ParsedUri {
  if (typeof uri !== 'string') return { ok: false, status: S.badRequest };
  let s = uri.trim();
  let query: string | undefined;
  const q = s.indexOf('?');
  if (q >= 0) {
    query = s.slice(q + 1);
    s = s.slice(0, q);
  }
  if (opts.maxTotLen && s.length > opts.maxTotLen) return { ok: false, status: S.uriTooLong };
  if (s.startsWith('/')) return { ok: false, status: S.badRequest };
  const segments: string[] = [];
  const parts = s.split('/');
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p === '' || (p === '.' && i === 0)) continue;
    if (p === '..' || p === '.') return { ok: false, status: S.badRequest };
    if (opts.maxSegLen && p.length > opts.maxSegLen) return { ok: false, status: S.uriTooLong };
    segments.push(p);
  }
  if (opts.maxDepth && segments.length > opts.maxDepth) return { ok: false, status: S.uriTooLong };
  return query !== undefined ? { ok: true, segments, query } : { ok: true, segments };
}

/** './A/B' for segments ['A','B']; '.' for the root. */
export function joinPath(segments: readonly string[]): string {
  return segments.length === 0 ? '.' : `./${segments.join('/')}`;
}

/** Canonical './A/B' form of a path, or undefined if it is not a valid node path. */
export function canonicalPath(uri: string): string | undefined {
  const p = parseUri(uri);
  return p.ok && p.query === undefined ? joinPath(p.segments) : undefined;
}

function isLeafFormat(f: string): f is LeafFormat {
  return (LEAF_FORMATS as readonly string[]).includes(f);
}

function cloneNode(n: TreeNode): TreeNode {
  if (n.kind === 'leaf') return { ...n, access: [...n.access] };
  const children = new Map<string, TreeNode>();
  for (const [k, c] of n.children) children.set(k, cloneNode(c));
  return {
    kind: 'interior',
    children,
    access: [...n.access],
    ...(n.type !== undefined ? { type: n.type } : {}),
    ...(n.ver !== undefined ? { ver: n.ver } : {}),
    ...(n.ts !== undefined ? { ts: n.ts } : {}),
  };
}

/** The latest TStamp in a subtree. */
function maxTs(n: TreeNode): number {
  let m = n.ts ?? 0;
  if (n.kind === 'interior') for (const c of n.children.values()) m = Math.max(m, maxTs(c));
  return m;
}

/** The largest VerNo in a subtree (a loaded tree's change counter continues from it). */
export function maxVer(n: TreeNode): number {
  let m = n.ver ?? 0;
  if (n.kind === 'interior') for (const c of n.children.values()) m = Math.max(m, maxVer(c));
  return m;
}

function leafBytes(n: TreeNode): number {
  if (n.kind === 'leaf') return n.value.length;
  let sum = 0;
  for (const c of n.children.values()) sum += leafBytes(c);
  return sum;
}

export interface TreeSnapshot {
  readonly root: InteriorNode;
}

export class DmTree {
  root: InteriorNode;
  readonly options: Required<TreeOptions>;
  /**
   * The change counter: every change takes the next number, which becomes the VerNo of the
   * node changed and of every node above it. One counter for the tree, so a node deleted and
   * made again never gets back a number the server saw on its predecessor.
   */
  private clock = 0;
  private lastTs = 0;
  /** The clock TStamps are read from (a test moves it). */
  now: () => number = () => Date.now();

  constructor(opts: TreeOptions = {}) {
    this.options = { ...DEFAULTS, ...opts };
    this.root = { kind: 'interior', children: new Map(), access: ['Get', 'Add'] };
  }

  /** Records a change at `segments` (the node there, if any, and every node above it). */
  private touch(segments: readonly string[]): void {
    const ver = ++this.clock;
    // Strictly later than any TStamp handed out before: a change in the same millisecond as a
    // server's read still shows (a handset whose clock is that coarse would hide it).
    const ts = Math.max(this.now(), this.lastTs + 1);
    this.lastTs = ts;
    let n: TreeNode | undefined = this.root;
    for (let i = 0; n; i++) {
      n.ver = ver;
      n.ts = ts;
      if (i >= segments.length || n.kind !== 'interior') break;
      n = n.children.get(segments[i]!);
    }
  }

  /** Records a change at a path (for code that edits a node object in place). */
  changed(path: string): void {
    const p = parseUri(path);
    if (p.ok) this.touch(p.segments);
  }

  /** After a load: the counter continues above every VerNo the tree holds. */
  resumeClock(): void {
    this.clock = Math.max(this.clock, maxVer(this.root));
    this.lastTs = Math.max(this.lastTs, maxTs(this.root));
  }

  // -------------------------------------------------------------------------------------
  // Lookup

  private parse(uri: string): ParsedUri {
    return parseUri(uri, this.options);
  }

  /** The node at `segments`, or undefined. */
  private find(segments: readonly string[]): TreeNode | undefined {
    let n: TreeNode = this.root;
    for (const s of segments) {
      if (n.kind !== 'interior') return undefined;
      const c = n.children.get(s);
      if (!c) return undefined;
      n = c;
    }
    return n;
  }

  /** The node at a path (programmatic; no access checks). */
  node(path: string): TreeNode | undefined {
    const p = parseUri(path);
    return p.ok ? this.find(p.segments) : undefined;
  }

  has(path: string): boolean {
    return this.node(path) !== undefined;
  }

  /** A leaf's value (programmatic). */
  read(path: string): Uint8Array | undefined {
    const n = this.node(path);
    return n?.kind === 'leaf' ? n.value : undefined;
  }

  /** A leaf's value as UTF-8 text (programmatic). */
  text(path: string): string | undefined {
    const v = this.read(path);
    return v === undefined ? undefined : utf8Decode(v, false);
  }

  /** Child names of an interior node, in insertion order. */
  children(path: string): string[] {
    const n = this.node(path);
    return n?.kind === 'interior' ? [...n.children.keys()] : [];
  }

  /** Total bytes of leaf values (what counts against capacityBytes). */
  usedBytes(): number {
    return leafBytes(this.root);
  }

  /**
   * Every node under `path` (inclusive), depth first, parents before children. Interior
   * entries carry no value here; leaves carry theirs.
   */
  walk(path = '.'): Array<{ path: string; node: TreeNode }> {
    const p = parseUri(path);
    if (!p.ok) return [];
    const start = this.find(p.segments);
    if (!start) return [];
    const out: Array<{ path: string; node: TreeNode }> = [];
    const visit = (segs: string[], n: TreeNode) => {
      out.push({ path: joinPath(segs), node: n });
      if (n.kind === 'interior') for (const [k, c] of n.children) visit([...segs, k], c);
    };
    visit(p.segments, start);
    return out;
  }

  // -------------------------------------------------------------------------------------
  // Programmatic writes (the handset's own firmware; no access checks)

  /** Creates interior nodes along `path` as needed; sets access/type on the last one if given. */
  mkdir(path: string, opts: { access?: readonly AccessType[]; type?: string } = {}): InteriorNode {
    const p = parseUri(path);
    if (!p.ok) throw new RangeError(`invalid path ${path}`);
    let n: InteriorNode = this.root;
    let changed = false;
    for (const s of p.segments) {
      const c = n.children.get(s);
      if (c === undefined) {
        const created: InteriorNode = { kind: 'interior', children: new Map(), access: [...ACCESS_RW] };
        n.children.set(s, created);
        n = created;
        changed = true;
      } else if (c.kind === 'interior') {
        n = c;
      } else {
        throw new RangeError(`${path}: ${s} is a leaf`);
      }
    }
    if (opts.access) n.access = [...opts.access];
    if (opts.type !== undefined && opts.type !== n.type) {
      n.type = opts.type;
      changed = true;
    }
    if (changed) this.touch(p.segments);
    return n;
  }

  /** Sets (creating or overwriting) a leaf; parents are created. Strings are stored as UTF-8. */
  set(
    path: string,
    value: string | Uint8Array,
    opts: { format?: LeafFormat; type?: string; access?: readonly AccessType[] } = {},
  ): void {
    const p = parseUri(path);
    if (!p.ok || p.segments.length === 0) throw new RangeError(`invalid leaf path ${path}`);
    const parent = this.mkdir(joinPath(p.segments.slice(0, -1)));
    const name = p.segments[p.segments.length - 1]!;
    const prev = parent.children.get(name);
    if (prev?.kind === 'interior') throw new RangeError(`${path} is an interior node`);
    const bytes = typeof value === 'string' ? utf8Encode(value) : value.slice();
    const leaf: LeafNode = {
      kind: 'leaf',
      format: opts.format ?? prev?.format ?? (typeof value === 'string' ? 'chr' : 'bin'),
      value: bytes,
      access: [...(opts.access ?? prev?.access ?? ACCESS_RW)],
    };
    const type = opts.type ?? prev?.type;
    if (type !== undefined) leaf.type = type;
    parent.children.set(name, leaf);
    this.touch(p.segments);
  }

  /** Removes a node and its subtree (programmatic). True if something was removed. */
  remove(path: string): boolean {
    const p = parseUri(path);
    if (!p.ok || p.segments.length === 0) return false;
    const parent = this.find(p.segments.slice(0, -1));
    if (parent?.kind !== 'interior') return false;
    const removed = parent.children.delete(p.segments[p.segments.length - 1]!);
    if (removed) this.touch(p.segments);
    return removed;
  }

  /** Puts a whole node (e.g. from a local backup) at `path`, replacing what is there. */
  graft(path: string, node: TreeNode): void {
    const p = parseUri(path);
    if (!p.ok || p.segments.length === 0) throw new RangeError(`invalid path ${path}`);
    const parent = this.mkdir(joinPath(p.segments.slice(0, -1)));
    parent.children.set(p.segments[p.segments.length - 1]!, cloneNode(node));
    this.touchAll(p.segments);
  }

  /** A whole subtree put in place: every node in it is new to a server, so each takes the new number. */
  private touchAll(segments: readonly string[]): void {
    this.touch(segments);
    const at = this.find(segments);
    if (!at) return;
    const mark = (n: TreeNode) => {
      n.ver = at.ver;
      n.ts = at.ts;
      if (n.kind === 'interior') for (const c of n.children.values()) mark(c);
    };
    mark(at);
  }

  /** A deep copy of the node at `path` (values shared: they are never mutated). */
  cloneAt(path: string): TreeNode | undefined {
    const n = this.node(path);
    return n ? cloneNode(n) : undefined;
  }

  // -------------------------------------------------------------------------------------
  // Server operations: status codes, access types, limits

  /**
   * Get. A leaf gives its value; an interior node its child names joined by '/' (format
   * node). `?list=Struct` gives every node under it without values, `?list=StructData`
   * with leaf values; any other query is an optional feature we do not support (406).
   */
  get(uri: string): GetResult {
    const p = this.parse(uri);
    if (!p.ok) return { status: p.status };
    const n = this.find(p.segments);
    if (!n) return { status: S.notFound };
    if (!n.access.includes('Get')) return { status: S.notAllowed };
    if (p.query !== undefined) {
      const q = p.query.trim();
      const prop = propOfQuery(q);
      if (prop) return this.property(joinPath(p.segments), n, prop);
      const list = /^list=(Struct|StructData)$/i.exec(q);
      if (!list) return { status: S.notSupported };
      const withData = list[1]!.toLowerCase() === 'structdata';
      if (withData ? !this.options.listStructData : !this.options.listStruct) return { status: S.notSupported };
      const entries: TreeEntry[] = [];
      const visit = (segs: string[], node: TreeNode) => {
        // Nodes the server may not read are left out rather than failing the whole listing.
        if (!node.access.includes('Get')) return;
        if (node.kind === 'leaf') {
          const e: TreeEntry = { path: joinPath(segs), format: node.format };
          if (node.type !== undefined) e.type = node.type;
          if (withData) e.value = node.value;
          entries.push(e);
          return;
        }
        const e: TreeEntry = { path: joinPath(segs), format: 'node' };
        if (node.type !== undefined) e.type = node.type;
        entries.push(e);
        for (const [k, c] of node.children) visit([...segs, k], c);
      };
      visit(p.segments, n);
      return { status: S.ok, entries };
    }
    return { status: S.ok, entries: [this.entryOf(joinPath(p.segments), n)] };
  }

  /** `?prop=`: the two change properties where the model keeps them (chr, as the TND has them); others 406. */
  private property(path: string, n: TreeNode, prop: string): GetResult {
    if (prop !== 'VerNo' && prop !== 'TStamp') return { status: S.notSupported };
    if (!this.options.props.includes(prop)) return { status: S.notSupported };
    const value = prop === 'VerNo' ? String(n.ver ?? 0) : formatTStamp(n.ts ?? 0);
    return { status: S.ok, entries: [{ path: `${path}?prop=${prop}`, format: 'chr', value: utf8Encode(value) }] };
  }

  private entryOf(path: string, n: TreeNode): TreeEntry {
    if (n.kind === 'leaf') {
      const e: TreeEntry = { path, format: n.format, value: n.value };
      if (n.type !== undefined) e.type = n.type;
      return e;
    }
    const e: TreeEntry = { path, format: 'node', value: utf8Encode([...n.children.keys()].join('/')) };
    if (n.type !== undefined) e.type = n.type;
    return e;
  }

  private checkSize(value: Uint8Array, replacing: number): number | undefined {
    if (value.length > this.options.maxLeafBytes) return S.tooLarge;
    if (this.usedBytes() - replacing + value.length > this.options.capacityBytes) return S.deviceFull;
    return undefined;
  }

  /**
   * Add. Format 'node' creates an interior node; any other format a leaf (no format
   * means chr, the DM default). 418 if the node exists; missing parents are
   * created when autoCreateParents, else 404. The closest existing ancestor must allow Add.
   */
  add(uri: string, input: LeafInput, access?: readonly AccessType[]): number {
    const p = this.parse(uri);
    if (!p.ok) return p.status;
    if (p.query !== undefined) return S.badRequest;
    if (p.segments.length === 0) return S.exists;
    const format = input.format ?? 'chr';
    if (format !== 'node' && !isLeafFormat(format)) return S.unsupportedFormat;
    // Walk down to the closest existing ancestor.
    let n: InteriorNode = this.root;
    let depth = 0;
    for (; depth < p.segments.length; depth++) {
      const c = n.children.get(p.segments[depth]!);
      if (c === undefined) break;
      if (c.kind === 'leaf') return depth === p.segments.length - 1 ? S.exists : S.notAllowed;
      n = c;
    }
    if (depth === p.segments.length) return S.exists;
    if (depth < p.segments.length - 1 && !this.options.autoCreateParents) return S.notFound;
    if (!n.access.includes('Add')) return S.notAllowed;
    let value: Uint8Array | undefined;
    if (format !== 'node') {
      value = input.value ?? new Uint8Array(0);
      const err = this.checkSize(value, 0);
      if (err !== undefined) return err;
    }
    for (; depth < p.segments.length - 1; depth++) {
      const created: InteriorNode = { kind: 'interior', children: new Map(), access: [...ACCESS_RW] };
      n.children.set(p.segments[depth]!, created);
      n = created;
    }
    const name = p.segments[p.segments.length - 1]!;
    if (format === 'node') {
      const node: InteriorNode = { kind: 'interior', children: new Map(), access: [...(access ?? ACCESS_RW)] };
      if (input.type !== undefined && input.type !== '') node.type = input.type;
      n.children.set(name, node);
    } else {
      const leaf: LeafNode = {
        kind: 'leaf',
        format: format as LeafFormat,
        value: value!.slice(),
        access: [...(access ?? ACCESS_RW)],
      };
      if (input.type !== undefined && input.type !== '') leaf.type = input.type;
      n.children.set(name, leaf);
    }
    this.touch(p.segments);
    return S.ok;
  }

  /** Replace of a leaf's value (and format/type when given). Interior nodes: 405. Missing: 404. */
  replace(uri: string, input: LeafInput): number {
    const p = this.parse(uri);
    if (!p.ok) return p.status;
    if (p.query !== undefined) return S.notSupported;
    const n = this.find(p.segments);
    if (!n) return S.notFound;
    if (!n.access.includes('Replace')) return S.notAllowed;
    if (n.kind === 'interior') return S.notAllowed;
    const format = input.format ?? n.format;
    if (!isLeafFormat(format)) return S.unsupportedFormat;
    const value = input.value ?? new Uint8Array(0);
    const err = this.checkSize(value, n.value.length);
    if (err !== undefined) return err;
    n.value = value.slice();
    n.format = format;
    if (input.type !== undefined && input.type !== '') n.type = input.type;
    this.touch(p.segments);
    return S.ok;
  }

  /** Delete of a node and its whole subtree. The root cannot be deleted. */
  delete(uri: string): number {
    const p = this.parse(uri);
    if (!p.ok) return p.status;
    if (p.query !== undefined) return S.badRequest;
    if (p.segments.length === 0) return S.notAllowed;
    const n = this.find(p.segments);
    if (!n) return S.notFound;
    if (!n.access.includes('Delete')) return S.notAllowed;
    const parent = this.find(p.segments.slice(0, -1)) as InteriorNode;
    parent.children.delete(p.segments[p.segments.length - 1]!);
    this.touch(p.segments);
    return S.ok;
  }

  /**
   * Copy `from` to `to` (DM 1.2 §6.6.3). The source needs Get (or Copy). An existing leaf
   * target is overwritten (needs Replace); a missing target is added (its parent needs
   * Add). Interior sources copy their subtree.
   */
  copy(fromUri: string, toUri: string): number {
    const f = this.parse(fromUri);
    if (!f.ok) return f.status;
    const t = this.parse(toUri);
    if (!t.ok) return t.status;
    if (f.query !== undefined || t.query !== undefined) return S.badRequest;
    const src = this.find(f.segments);
    if (!src) return S.notFound;
    if (!src.access.includes('Get') && !src.access.includes('Copy')) return S.notAllowed;
    // Copying a node into its own subtree would recurse forever.
    if (t.segments.length >= f.segments.length && f.segments.every((s, i) => t.segments[i] === s)) return S.badRequest;
    const dst = this.find(t.segments);
    if (dst) {
      if (dst.kind !== src.kind) return S.notAllowed;
      if (!dst.access.includes('Replace')) return S.notAllowed;
      if (src.kind === 'leaf' && dst.kind === 'leaf') {
        const err = this.checkSize(src.value, dst.value.length);
        if (err !== undefined) return err;
        dst.value = src.value;
        dst.format = src.format;
        if (src.type !== undefined) dst.type = src.type;
        else delete dst.type;
        this.touch(t.segments);
        return S.ok;
      }
      const err =
        leafBytes(src) > this.options.capacityBytes - this.usedBytes() + leafBytes(dst) ? S.deviceFull : undefined;
      if (err !== undefined) return err;
      const parent = this.find(t.segments.slice(0, -1)) as InteriorNode;
      parent.children.set(t.segments[t.segments.length - 1]!, cloneNode(src));
      this.touchAll(t.segments);
      return S.ok;
    }
    if (t.segments.length === 0) return S.notAllowed;
    const parent = this.find(t.segments.slice(0, -1));
    if (!parent) {
      if (!this.options.autoCreateParents) return S.notFound;
    } else if (parent.kind !== 'interior' || !parent.access.includes('Add')) {
      return S.notAllowed;
    }
    if (this.usedBytes() + leafBytes(src) > this.options.capacityBytes) return S.deviceFull;
    const target = this.mkdirChecked(t.segments.slice(0, -1));
    if (typeof target === 'number') return target;
    target.children.set(t.segments[t.segments.length - 1]!, cloneNode(src));
    this.touchAll(t.segments);
    return S.ok;
  }

  /** Creates missing parents for copy, refusing when an existing ancestor does not allow Add. */
  private mkdirChecked(segments: readonly string[]): InteriorNode | number {
    let n: InteriorNode = this.root;
    for (const s of segments) {
      const c = n.children.get(s);
      if (c === undefined) {
        if (!n.access.includes('Add')) return S.notAllowed;
        const created: InteriorNode = { kind: 'interior', children: new Map(), access: [...ACCESS_RW] };
        n.children.set(s, created);
        n = created;
      } else if (c.kind === 'interior') {
        n = c;
      } else {
        return S.notAllowed;
      }
    }
    return n;
  }

  /** Whether Exec may run on `uri`: 200, or 404 / 405 / 400. */
  checkExec(uri: string): number {
    const p = this.parse(uri);
    if (!p.ok) return p.status;
    if (p.query !== undefined) return S.badRequest;
    const n = this.find(p.segments);
    if (!n) return S.notFound;
    return n.access.includes('Exec') ? S.ok : S.notAllowed;
  }

  // -------------------------------------------------------------------------------------
  // Atomic

  snapshot(): TreeSnapshot {
    return { root: cloneNode(this.root) as InteriorNode };
  }

  restore(s: TreeSnapshot): void {
    // The counter is not rolled back: numbers handed out inside the rolled-back Atomic stay used.
    this.root = cloneNode(s.root) as InteriorNode;
  }
}
