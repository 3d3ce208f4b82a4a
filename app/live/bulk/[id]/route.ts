import { getContext } from '@/lib/core/context';
import { AppError } from '@/lib/core/errors';
import { bulkProgressById } from '@/lib/bulk/views';
import { getViewer } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

const NO_STORE = { 'cache-control': 'no-store' };

/**
 * A bulk operation's progress as its page polls it, for admins only. Route handlers do not
 * run the layouts, so the session is checked here.
 */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer) return Response.json({ error: 'Please sign in' }, { status: 401, headers: NO_STORE });
  if (viewer.role !== 'admin')
    return Response.json({ error: 'No such bulk operation.' }, { status: 404, headers: NO_STORE });
  const { id } = await params;
  try {
    return Response.json(await bulkProgressById(getContext(), id), { headers: NO_STORE });
  } catch (err) {
    if (err instanceof AppError && err.kind === 'not-found')
      return Response.json({ error: 'No such bulk operation.' }, { status: 404, headers: NO_STORE });
    throw err;
  }
}
