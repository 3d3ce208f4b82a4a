import { apiError, apiHandler } from '@/lib/server/api';
import { diffDsManifests, readDsManifest } from '@/lib/ds/snapshot';
import { findDsSnapshot, publicDsSnapshot } from '@/lib/ds/views';

export const dynamic = 'force-dynamic';

/** Contacts and events added, removed and changed from DS snapshot {id} (older) to {other} (newer). */
export const GET = apiHandler<{ id: string; other: string }>(
  ['admin', 'agent'],
  async (_req, { db, blobs }, { id, other }) => {
    for (const s of [id, other])
      if (!(await findDsSnapshot(db, s))) return apiError(404, 'not-found', `No such DS snapshot ${s}.`);
    const [a, b] = await Promise.all([readDsManifest(db, blobs, id), readDsManifest(db, blobs, other)]);
    return Response.json({
      a: publicDsSnapshot(a.snapshot),
      b: publicDsSnapshot(b.snapshot),
      ...diffDsManifests(a.entries, b.entries),
    });
  },
);
