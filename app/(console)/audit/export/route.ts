import { auditQueryOf, exportAudit } from '@/lib/audit/views';
import { csvDownload } from '@/lib/core/csv';
import { getContext } from '@/lib/core/context';
import { isStaff } from '@/lib/server/access';
import { getViewer } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

/**
 * The audit log as CSV, with the page's filters. Route handlers do not run the console's
 * layout, so this checks the viewer itself. Streamed a batch at a time.
 */
export async function GET(req: Request): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer)
    return new Response('Please sign in.', { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' } });
  if (!isStaff(viewer))
    return new Response('You do not have access to this.', {
      status: 403,
      headers: { 'content-type': 'text/plain; charset=utf-8' },
    });
  const { db } = getContext();
  const lines = await exportAudit(db, auditQueryOf(new URL(req.url).searchParams), viewer.email);
  return csvDownload(lines, 'rewind-audit');
}
