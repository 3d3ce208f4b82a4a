/**
 * Persists virtual handsets on disk, one directory each:
 *
 *   DIR/<devId sanitised>/identity.json   who it is, nonces, pending Generic Alerts, counters
 *   DIR/<devId sanitised>/tree.json       every node: path, kind, format, type, access, value
 *   DIR/<devId sanitised>/blobs/<sha256>  leaf values over 64 bytes, named by content hash
 *   DIR/<devId sanitised>/local/<id>.json local backups (their values also in blobs/)
 *
 * Values live in content-addressed files so tree.json stays small and diffable, a value
 * kept by the tree and by several local backups is stored once, and a later restore can be
 * compared with what was there before byte for byte. Loading is exact: a saved and
 * reloaded tree is identical, node order included.
 *
 * Writes go to a temporary file and are renamed into place, so a crash mid-save leaves
 * the previous state rather than half a JSON document.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientNonces } from '../lib/omadm/session/client';
import type { LocalManifest } from '../lib/omadm/mo/backup-restore';
import type { GenericAlert } from '../lib/omadm/mo/generic-alert';
import { base64Decode, base64Encode } from '../lib/omadm/util/bytes';
import type { HandsetDs } from './ds-store';
import type { HandsetIdentity } from './generate';
import {
  ACCESS_TYPES,
  DmTree,
  joinPath,
  parseUri,
  type AccessType,
  type InteriorNode,
  type LeafFormat,
  type TreeNode,
  type TreeOptions,
} from './tree';

/** What a handset keeps besides its tree. */
export interface HandsetState {
  identity: HandsetIdentity;
  nonces: ClientNonces;
  /** Generic Alerts not yet delivered to the server, oldest first. */
  pendingAlerts: PendingAlert[];
  /** Counter for client-initiated SessionIDs. */
  nextSessionId: number;
  /** A firmware package downloaded by FUMO Download and waiting for Update. */
  downloadedFirmware?: { version: string; name?: string; model?: string };
  /** Whether a smart card is inserted (LocalBackup target smartcard). */
  smartcard: boolean;
  /** When the B&R policy last fired an automatic backup request (ISO-8601). */
  lastPolicyBackupAt?: string;
  /** Contacts, calendar, DS accounts and anchors (ds.json on disk); generated on first use. */
  ds?: HandsetDs;
  /**
   * A firmware defect to reproduce: 'stale' digests are computed once per path and never
   * again, so a change goes unreported (what the server's verification walks exist to catch).
   */
  digestFault?: 'stale';
}

export interface PendingAlert {
  id: string;
  /** Items' data are strings: everything the handset reports is text or JSON. */
  alert: GenericAlert;
  createdAt: string;
}

/** One local backup: the subtrees it copied (null: the subtree did not exist). */
export interface LocalBackupRecord {
  manifest: LocalManifest;
  roots: Array<{ path: string; node: TreeNode | null }>;
}

/** A node as stored: `a` access letters (G R A D E C), `v` inline value (base64), `h` blob hash. */
interface StoredNode {
  p: string;
  k: 'i' | 'l';
  f?: LeafFormat;
  t?: string;
  a: string;
  v?: string;
  h?: string;
  /** VerNo and TStamp (ms) of the node, where the tree has them. */
  n?: number;
  s?: number;
}

const ACCESS_LETTER: Record<AccessType, string> = {
  Get: 'G',
  Replace: 'R',
  Add: 'A',
  Delete: 'D',
  Exec: 'E',
  Copy: 'C',
};
const LETTER_ACCESS = new Map(ACCESS_TYPES.map((a) => [ACCESS_LETTER[a], a] as const));

/** Values up to this size stay inline in tree.json. */
export const INLINE_MAX = 64;
const FORMAT_VERSION = 1;

export function sanitizeDevId(devId: string): string {
  const s = devId.replace(/[^A-Za-z0-9._-]/g, '_');
  if (s === '' || s === '.' || s === '..') throw new RangeError(`unusable devId ${JSON.stringify(devId)}`);
  return s;
}

export function sha256Hex(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function writeAtomic(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

function accessString(a: readonly AccessType[]): string {
  return a.map((x) => ACCESS_LETTER[x]).join('');
}

function accessList(s: string): AccessType[] {
  const out: AccessType[] = [];
  for (const ch of s) {
    const a = LETTER_ACCESS.get(ch);
    if (!a) throw new Error(`unknown access letter ${ch}`);
    out.push(a);
  }
  return out;
}

export class HandsetStore {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
    mkdirSync(root, { recursive: true });
  }

  dirOf(devId: string): string {
    return join(this.root, sanitizeDevId(devId));
  }

  exists(devId: string): boolean {
    return existsSync(join(this.dirOf(devId), 'identity.json'));
  }

  /** DevIds of every handset stored here. */
  list(): string[] {
    if (!existsSync(this.root)) return [];
    const out: string[] = [];
    for (const d of readdirSync(this.root, { withFileTypes: true })) {
      if (!d.isDirectory()) continue;
      const f = join(this.root, d.name, 'identity.json');
      if (!existsSync(f)) continue;
      const s = JSON.parse(readFileSync(f, 'utf8')) as { state: HandsetState };
      out.push(s.state.identity.devId);
    }
    return out.sort();
  }

  // -------------------------------------------------------------------------------------

  private blobDir(devId: string): string {
    return join(this.dirOf(devId), 'blobs');
  }

  private serialize(
    devId: string,
    entries: Array<{ path: string; node: TreeNode }>,
    referenced: Set<string>,
  ): StoredNode[] {
    const blobs = this.blobDir(devId);
    mkdirSync(blobs, { recursive: true });
    return entries.map(({ path, node }) => {
      const s: StoredNode = { p: path, k: node.kind === 'leaf' ? 'l' : 'i', a: accessString(node.access) };
      if (node.type !== undefined) s.t = node.type;
      if (node.ver !== undefined) s.n = node.ver;
      if (node.ts !== undefined) s.s = node.ts;
      if (node.kind === 'leaf') {
        s.f = node.format;
        if (node.value.length <= INLINE_MAX) {
          s.v = base64Encode(node.value);
        } else {
          const h = sha256Hex(node.value);
          const file = join(blobs, h);
          if (!referenced.has(h) && !existsSync(file)) writeAtomic(file, node.value);
          referenced.add(h);
          s.h = h;
        }
      }
      return s;
    });
  }

  private readBlob(devId: string, h: string): Uint8Array {
    if (!/^[0-9a-f]{64}$/.test(h)) throw new Error(`bad blob reference ${h}`);
    const b = new Uint8Array(readFileSync(join(this.blobDir(devId), h)));
    if (sha256Hex(b) !== h) throw new Error(`blob ${h} of ${devId} is corrupt`);
    return b;
  }

  /** Rebuilds nodes (parents before children) into a subtree rooted at the first entry's path. */
  private deserialize(devId: string, nodes: readonly StoredNode[]): Map<string, TreeNode> {
    const byPath = new Map<string, TreeNode>();
    for (const s of nodes) {
      const access = accessList(s.a);
      let node: TreeNode;
      if (s.k === 'l') {
        const value = s.h !== undefined ? this.readBlob(devId, s.h) : base64Decode(s.v ?? '');
        node = { kind: 'leaf', format: s.f ?? 'chr', value, access };
      } else {
        node = { kind: 'interior', children: new Map(), access };
      }
      if (s.t !== undefined) node.type = s.t;
      if (typeof s.n === 'number') node.ver = s.n;
      if (typeof s.s === 'number') node.ts = s.s;
      const p = parseUri(s.p);
      if (!p.ok) throw new Error(`bad stored path ${s.p}`);
      if (p.segments.length > 0) {
        const parent = byPath.get(joinPath(p.segments.slice(0, -1)));
        if (parent?.kind === 'interior') parent.children.set(p.segments[p.segments.length - 1]!, node);
      }
      byPath.set(joinPath(p.segments), node);
    }
    return byPath;
  }

  // -------------------------------------------------------------------------------------

  /** Saves state and tree; removes blobs nothing refers to any more. */
  save(state: HandsetState, tree: DmTree): void {
    const devId = state.identity.devId;
    const dir = this.dirOf(devId);
    mkdirSync(dir, { recursive: true });
    const referenced = new Set<string>();
    const nodes = this.serialize(devId, tree.walk('.'), referenced);
    writeAtomic(join(dir, 'tree.json'), JSON.stringify({ version: FORMAT_VERSION, options: tree.options, nodes }));
    // The phonebook and calendar go in a file of their own: identity.json stays small and readable.
    const { ds, ...rest } = state;
    if (ds) writeAtomic(join(dir, 'ds.json'), JSON.stringify({ version: FORMAT_VERSION, ds }));
    writeAtomic(join(dir, 'identity.json'), `${JSON.stringify({ version: FORMAT_VERSION, state: rest }, null, 2)}\n`);
    for (const id of this.localBackupIds(devId)) {
      const raw = JSON.parse(readFileSync(this.localFile(devId, id), 'utf8')) as {
        roots: Array<{ nodes: StoredNode[] | null }>;
      };
      for (const r of raw.roots) for (const n of r.nodes ?? []) if (n.h) referenced.add(n.h);
    }
    this.gcBlobs(devId, referenced);
  }

  private gcBlobs(devId: string, keep: Set<string>): void {
    const blobs = this.blobDir(devId);
    if (!existsSync(blobs)) return;
    for (const f of readdirSync(blobs)) {
      if (!keep.has(f)) rmSync(join(blobs, f), { force: true });
    }
  }

  load(devId: string): { state: HandsetState; tree: DmTree } {
    const dir = this.dirOf(devId);
    const ident = JSON.parse(readFileSync(join(dir, 'identity.json'), 'utf8')) as {
      version: number;
      state: HandsetState;
    };
    if (ident.version !== FORMAT_VERSION)
      throw new Error(`${devId}: unsupported identity.json version ${ident.version}`);
    const raw = JSON.parse(readFileSync(join(dir, 'tree.json'), 'utf8')) as {
      version: number;
      options: TreeOptions;
      nodes: StoredNode[];
    };
    if (raw.version !== FORMAT_VERSION) throw new Error(`${devId}: unsupported tree.json version ${raw.version}`);
    const tree = new DmTree(raw.options);
    const byPath = this.deserialize(devId, raw.nodes);
    const root = byPath.get('.');
    if (root?.kind !== 'interior') throw new Error(`${devId}: tree.json has no root`);
    tree.root = root as InteriorNode;
    tree.resumeClock();
    const dsFile = join(dir, 'ds.json');
    if (existsSync(dsFile)) {
      const d = JSON.parse(readFileSync(dsFile, 'utf8')) as { version: number; ds: HandsetDs };
      if (d.version !== FORMAT_VERSION) throw new Error(`${devId}: unsupported ds.json version ${d.version}`);
      ident.state.ds = d.ds;
    }
    return { state: ident.state, tree };
  }

  // -------------------------------------------------------------------------------------
  // Local backups

  private localFile(devId: string, id: string): string {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id) || id === '.' || id === '..')
      throw new RangeError(`bad local backup id ${id}`);
    return join(this.dirOf(devId), 'local', `${id}.json`);
  }

  localBackupIds(devId: string): string[] {
    const d = join(this.dirOf(devId), 'local');
    if (!existsSync(d)) return [];
    return readdirSync(d)
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -5))
      .sort();
  }

  saveLocalBackup(devId: string, rec: LocalBackupRecord): void {
    mkdirSync(join(this.dirOf(devId), 'local'), { recursive: true });
    const referenced = new Set<string>();
    const roots = rec.roots.map((r) => {
      if (r.node === null) return { path: r.path, nodes: null };
      const entries: Array<{ path: string; node: TreeNode }> = [];
      const visit = (path: string, n: TreeNode) => {
        entries.push({ path, node: n });
        if (n.kind === 'interior') for (const [k, c] of n.children) visit(`${path}/${k}`, c);
      };
      visit(r.path, r.node);
      return { path: r.path, nodes: this.serialize(devId, entries, referenced) };
    });
    writeAtomic(
      this.localFile(devId, rec.manifest.id),
      JSON.stringify({ version: FORMAT_VERSION, manifest: rec.manifest, roots }),
    );
  }

  loadLocalBackup(devId: string, id: string): LocalBackupRecord | undefined {
    const f = this.localFile(devId, id);
    if (!existsSync(f)) return undefined;
    const raw = JSON.parse(readFileSync(f, 'utf8')) as {
      manifest: LocalManifest;
      roots: Array<{ path: string; nodes: StoredNode[] | null }>;
    };
    return {
      manifest: raw.manifest,
      roots: raw.roots.map((r) => ({
        path: r.path,
        node: r.nodes === null ? null : (this.deserialize(devId, r.nodes).get(r.path) ?? null),
      })),
    };
  }

  deleteLocalBackup(devId: string, id: string): void {
    rmSync(this.localFile(devId, id), { force: true });
  }

  /** Removes a handset's directory entirely. */
  remove(devId: string): void {
    rmSync(this.dirOf(devId), { recursive: true, force: true });
  }
}
