/**
 * Full storage, told apart from other failures: a job meeting it stops with the reason
 * (lib/jobs/handler.ts onStorageFull) and the handset still gets its answer.
 */
import { BlobStoreError } from '../backup/blob-store';
import { isDiskFull } from '@/db/sql';

/** Why storage refused a write, when it is full: the blob store or the database's disk. */
export function storageFull(err: unknown): string | undefined {
  if (err instanceof BlobStoreError && err.code === 'no-space') return 'the blob store is out of space';
  if (isDiskFull(err)) return 'the database disk is full';
  return undefined;
}
