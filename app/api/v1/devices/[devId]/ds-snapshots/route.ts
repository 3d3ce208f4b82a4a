import { apiError, apiHandler } from '@/lib/server/api';
import { deviceDsSnapshots, findDevice } from '@/lib/devices/present';

import { readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** The device's DS backups (contacts and calendar through /ds), newest first, a page at a time. */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (req, { db }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  return Response.json(await deviceDsSnapshots(db, device, readPageQuery(req.url)));
});
