import { getContext } from '@/lib/core/context';
import { liveJob } from '@/lib/jobs/live';
import { AccessDenied, jobFor } from '@/lib/server/access';
import { getViewer } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

/**
 * A job as its live page polls it, for whoever may see it: staff any job, a subscriber
 * their own handsets' jobs (another's is 404, as if it did not exist). Route handlers do
 * not run the layouts, so the session is checked here.
 */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer)
    return Response.json({ error: 'Please sign in' }, { status: 401, headers: { 'cache-control': 'no-store' } });
  const { id } = await params;
  const { db } = getContext();
  try {
    const { job } = await jobFor(db, viewer, id);
    return Response.json(await liveJob(db, job), { headers: { 'cache-control': 'no-store' } });
  } catch (err) {
    if (err instanceof AccessDenied)
      return Response.json({ error: 'No such job.' }, { status: 404, headers: { 'cache-control': 'no-store' } });
    throw err;
  }
}
