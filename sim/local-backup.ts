/**
 * What a handset puts in a local backup (Rewind B&R MO, LocalBackup / LocalRestore) and
 * how it proves a backup is intact: which subtrees each category covers, and the SHA-256
 * Merkle root over the backup's leaves that the manifest carries and a restore checks first.
 *
 * Merkle root: leaves sorted by path; leaf hash = SHA-256(0x00 ‖ path ‖ 0x00 ‖ format ‖
 * 0x00 ‖ value); parent = SHA-256(0x01 ‖ left ‖ right); an odd node is carried up as is;
 * no leaves = SHA-256 of nothing. The 0x00/0x01 prefixes keep a leaf from posing as a
 * parent (the second-preimage trick on naive Merkle trees).
 */
import { createHash } from 'node:crypto';
import type { Category } from '../lib/omadm/mo/backup-restore';
import { utf8Encode } from '../lib/omadm/util/bytes';
import { PATHS } from './generate';
import type { TreeNode } from './tree';

/** The subtrees each category covers. Firmware is recorded (FwV/SwV) but never written back locally. */
export const CATEGORY_PATHS: Readonly<Record<Category, readonly string[]>> = {
  settings: [PATHS.settings],
  certificates: [PATHS.certificates],
  appdata: [PATHS.appData],
  applications: ['./SCOMO/Inventory/Deployed'],
  firmware: ['./DevDetail/FwV', './DevDetail/SwV'],
};

/** Categories a local restore may write back (a handset cannot flash firmware from a backup). */
export const RESTORABLE: ReadonlySet<Category> = new Set<Category>([
  'settings',
  'certificates',
  'appdata',
  'applications',
]);

export interface LeafRecord {
  path: string;
  format: string;
  value: Uint8Array;
}

/** Every leaf under `node` (at `path`), depth first. */
export function leavesOf(path: string, node: TreeNode): LeafRecord[] {
  const out: LeafRecord[] = [];
  const visit = (p: string, n: TreeNode) => {
    if (n.kind === 'leaf') out.push({ path: p, format: n.format, value: n.value });
    else for (const [k, c] of n.children) visit(`${p}/${k}`, c);
  };
  visit(path, node);
  return out;
}

function sha(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function merkleRoot(leaves: readonly LeafRecord[]): string {
  const sorted = [...leaves].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const zero = Uint8Array.of(0);
  let level = sorted.map((l) => sha(zero, utf8Encode(l.path), zero, utf8Encode(l.format), zero, l.value));
  if (level.length === 0) return Buffer.from(sha()).toString('hex');
  const one = Uint8Array.of(1);
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const r = level[i + 1];
      next.push(r === undefined ? level[i]! : sha(one, level[i]!, r));
    }
    level = next;
  }
  return Buffer.from(level[0]!).toString('hex');
}
