import { apiError, apiHandler } from '@/lib/server/api';
import { readDsManifest } from '@/lib/ds/snapshot';
import { findDsSnapshot, publicDsSnapshot } from '@/lib/ds/views';

export const dynamic = 'force-dynamic';

/** A DS backup and its manifest: every contact and event (store, id, UID, type, size, hash, name). */
export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db, blobs }, { id }) => {
  if (!(await findDsSnapshot(db, id))) return apiError(404, 'not-found', 'No such DS snapshot.');
  const { snapshot, entries } = await readDsManifest(db, blobs, id);
  return Response.json({ dsSnapshot: publicDsSnapshot(snapshot), entries });
});
