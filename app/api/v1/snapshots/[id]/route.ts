import { apiHandler } from '@/lib/server/api';
import { readManifest } from '@/lib/backup/read';
import { publicSnapshot } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** A complete snapshot and its manifest (every node: path, category, format, type, size, hash). */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db, blobs }, { id }) => {
  const { snapshot, entries } = await readManifest(db, blobs, id);
  return Response.json({ snapshot: publicSnapshot(snapshot), entries });
});
