import { getContext } from '@/lib/core/context';
import { isStaff } from '@/lib/server/access';
import { getViewer } from '@/lib/server/session';
import { MAX_QUERY_LENGTH } from '@/lib/search/search';
import { findSubscribers } from '@/lib/subscribers/views';

export const dynamic = 'force-dynamic';

/**
 * The search box's live results, for agents and admins (a route handler runs no layout, so
 * it checks the session itself). `GET /search?q=…` → `{ hits }`, best first.
 */
export async function GET(req: Request): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer) return Response.json({ error: 'Sign in to search.' }, { status: 401 });
  if (!isStaff(viewer)) return Response.json({ error: 'Search is for agents and admins.' }, { status: 403 });
  const q = (new URL(req.url).searchParams.get('q') ?? '').slice(0, MAX_QUERY_LENGTH);
  const hits = await findSubscribers(getContext().db, q);
  return Response.json({ hits }, { headers: { 'cache-control': 'private, no-store' } });
}
