import { getContext } from '@/lib/core/context';
import { SnapshotError } from '@/lib/backup/read';
import { readSnapshotMedia } from '@/lib/backup/browse';
import { AccessDenied, snapshotFor } from '@/lib/server/access';
import { getViewer } from '@/lib/server/session';
import { mediaHeaders } from '@/lib/backup/snapshot-views';

export const dynamic = 'force-dynamic';

function notFound(): Response {
  return new Response('Not found', {
    status: 404,
    headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' },
  });
}

/**
 * One node's value from a snapshot, for the console's and the portal's previews
 * (`/media/<snapshotId>?path=./AppData/Wallpapers/Beach`). Route handlers run no layout,
 * so this checks the viewer and the tenant rule itself: a snapshot the viewer may not
 * see is as absent as one that does not exist. Allow-listed images and audio are served
 * under their type; anything else as a download (lib/backup/snapshot-views.ts mediaHeaders).
 * An agent's or admin's read is recorded in the audit log (lib/backup/browse.ts).
 */
export async function GET(req: Request, { params }: { params: Promise<{ snapshotId: string }> }): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer)
    return new Response('Please sign in', { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  const { snapshotId } = await params;
  const path = new URL(req.url).searchParams.get('path');
  if (!path || path.length > 1024 || !path.startsWith('./')) return notFound();
  const { db, blobs } = getContext();
  try {
    const { device } = await snapshotFor(db, viewer, snapshotId);
    const { entry, bytes } = await readSnapshotMedia(db, blobs, viewer, device.id, snapshotId, path);
    if (entry.format === 'node') return notFound();
    return new Response(bytes as Uint8Array<ArrayBuffer>, { headers: mediaHeaders(entry, bytes.byteLength) });
  } catch (err) {
    if (err instanceof AccessDenied || err instanceof SnapshotError) return notFound();
    throw err;
  }
}
