/**
 * A snapshot's manifest: every node it holds (path, category, format, MIME type, size and
 * the SHA-256 of the value), sorted by path, as canonical JSON. The manifest is itself a
 * blob, and its SHA-256 is the snapshot's root hash: two backups of an unchanged handset
 * give byte-identical manifests, so the second adds nothing to the store.
 */
import { z } from 'zod';
import { CATEGORIES, type Category } from '../omadm/mo/backup-restore';
import { sha256Hex } from './blob-store';

export interface ManifestEntry {
  path: string;
  category: Category;
  /** DM format: chr, int, bool, b64, bin, xml, float, date, time, null, or node for interior nodes. */
  format: string;
  type?: string;
  /** Bytes of the value (0 for interior nodes). */
  size: number;
  /** SHA-256 hex of the value; absent for interior nodes. */
  hash?: string;
}

export interface Manifest {
  v: 1;
  entries: ManifestEntry[];
}

const entrySchema = z
  .object({
    path: z.string().min(1).max(1024),
    category: z.enum(CATEGORIES),
    format: z.string().min(1).max(16),
    type: z.string().max(256).optional(),
    size: z.number().int().min(0),
    hash: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  })
  .strict();

const manifestSchema = z.object({ v: z.literal(1), entries: z.array(entrySchema) }).strict();

function byPath(a: ManifestEntry, b: ManifestEntry): number {
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** Canonical bytes: entries sorted by path, keys in a fixed order, no whitespace. */
export function encodeManifest(entries: readonly ManifestEntry[]): Uint8Array {
  const sorted = [...entries].sort(byPath);
  const canonical = sorted.map((e) => ({
    path: e.path,
    category: e.category,
    format: e.format,
    ...(e.type !== undefined ? { type: e.type } : {}),
    size: e.size,
    ...(e.hash !== undefined ? { hash: e.hash } : {}),
  }));
  return new TextEncoder().encode(JSON.stringify({ v: 1, entries: canonical }));
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  const parsed = manifestSchema.parse(JSON.parse(new TextDecoder().decode(bytes)));
  return parsed as Manifest;
}

export function rootHash(manifestBytes: Uint8Array): string {
  return sha256Hex(manifestBytes);
}

/** Bytes of every value in the manifest. */
export function logicalSize(entries: readonly ManifestEntry[]): number {
  return entries.reduce((n, e) => n + e.size, 0);
}
