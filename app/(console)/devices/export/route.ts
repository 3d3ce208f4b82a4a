import { getContext } from '@/lib/core/context';
import { parseDeviceListQuery } from '@/lib/devices/filter';
import { csvDownload } from '@/lib/core/csv';
import { exportDeviceList } from '@/lib/devices/list';
import { isStaff } from '@/lib/server/access';
import { getViewer } from '@/lib/server/session';

export const dynamic = 'force-dynamic';

const text = (status: number, body: string) =>
  new Response(body, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } });

/**
 * The device list as CSV, every handset the page's filters match (not only the page shown).
 * Route handlers do not run the console's layout, so this checks the viewer itself.
 */
export async function GET(req: Request): Promise<Response> {
  const viewer = await getViewer();
  if (!viewer) return text(401, 'Please sign in.');
  if (!isStaff(viewer)) return text(403, 'You do not have access to this.');
  const q = parseDeviceListQuery(new URL(req.url).searchParams);
  if (!q.success)
    return text(
      400,
      `A filter needs another look: ${q.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
    );
  const { db } = getContext();
  return csvDownload(await exportDeviceList(db, q.data, viewer.email), 'rewind-devices');
}
