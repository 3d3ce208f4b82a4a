import { apiHandler } from '@/lib/server/api';
import { diffSnapshots } from '@/lib/backup/read';
import { publicSnapshot } from '@/lib/backup/views';

export const dynamic = 'force-dynamic';

/** What changed from snapshot {id} (older) to {other} (newer): entries, per-category counts, firmware and app versions, a summary line. */
export const GET = apiHandler<{ id: string; other: string }>(
  ['admin', 'agent'],
  async (_req, { db, blobs }, { id, other }) => {
    const { a, b, ...diff } = await diffSnapshots(db, blobs, id, other);
    return Response.json({ a: publicSnapshot(a), b: publicSnapshot(b), ...diff });
  },
);
