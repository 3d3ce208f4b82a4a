import { auditQueryOf, exportAudit } from '@/lib/audit/views';
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
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk = '';
      for (let i = 0; i < 500; i++) {
        const r = await lines.next();
        if (r.done) {
          if (chunk) controller.enqueue(enc.encode(chunk));
          controller.close();
          return;
        }
        chunk += r.value;
      }
      controller.enqueue(enc.encode(chunk));
    },
  });
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return new Response(body, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="rewind-audit-${stamp}.csv"`,
      'cache-control': 'no-store',
    },
  });
}
