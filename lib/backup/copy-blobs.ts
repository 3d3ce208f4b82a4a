/**
 * Moving a deployment's content to another store (files under DATA_DIR to an S3-compatible
 * bucket): every stored value is copied as it is (sealed values stay sealed; the keys stay in
 * the database), read back and compared byte for byte. Values the target already holds with
 * the same bytes are left alone, so an interrupted copy is simply run again. Pack files are
 * copied the same way, whole (copyPacks): the index in the database names them by id.
 */
import { sha256Hex, type RawBlobStore } from './blob-store';
import type { PackStore } from './packs';

export interface CopyResult {
  /** Values in the source. */
  listed: number;
  copied: number;
  /** Already in the target with the same bytes. */
  present: number;
  bytes: number;
  /** Hashes whose copy did not read back the same (or could not be written). */
  failed: string[];
  /** Hashes the database records (`known`) that the source does not hold. */
  missing: string[];
}

export async function copyBlobs(
  from: RawBlobStore,
  to: RawBlobStore,
  opts: { known?: readonly string[]; concurrency?: number; onProgress?: (done: number, listed: number) => void } = {},
): Promise<CopyResult> {
  const hashes: string[] = [];
  for await (const h of from.list()) hashes.push(h);
  const out: CopyResult = { listed: hashes.length, copied: 0, present: 0, bytes: 0, failed: [], missing: [] };
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < hashes.length) {
      const hash = hashes[next++]!;
      try {
        const bytes = await from.get(hash);
        if (!bytes) continue; // removed meanwhile (garbage collection)
        const there = await to.get(hash);
        if (there && sha256Hex(there) === sha256Hex(bytes)) out.present++;
        else {
          await to.write(hash, bytes, { replace: !!there });
          const back = await to.get(hash);
          if (!back || sha256Hex(back) !== sha256Hex(bytes)) throw new Error('read back differs');
          out.copied++;
          out.bytes += bytes.length;
        }
      } catch {
        out.failed.push(hash);
      }
      opts.onProgress?.(++done, hashes.length);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 8) }, worker));
  const inSource = new Set(hashes);
  out.missing = (opts.known ?? []).filter((h) => !inSource.has(h));
  out.failed.sort();
  return out;
}

/** Copies the packs the index names (`ids`), whole, each read back and compared; `listed` counts packs. */
export async function copyPacks(
  from: PackStore,
  to: PackStore,
  ids: readonly string[],
  opts: { onProgress?: (done: number, listed: number) => void } = {},
): Promise<CopyResult> {
  const out: CopyResult = { listed: ids.length, copied: 0, present: 0, bytes: 0, failed: [], missing: [] };
  let done = 0;
  for (const id of ids) {
    try {
      const bytes = await from.readAll(id);
      if (!bytes) out.missing.push(id);
      else {
        const there = await to.readAll(id);
        if (there && sha256Hex(there) === sha256Hex(bytes)) out.present++;
        else {
          await to.put(id, bytes);
          const back = await to.readAll(id);
          if (!back || sha256Hex(back) !== sha256Hex(bytes)) throw new Error('read back differs');
          out.copied++;
          out.bytes += bytes.length;
        }
      }
    } catch {
      out.failed.push(id);
    }
    opts.onProgress?.(++done, ids.length);
  }
  return out;
}
