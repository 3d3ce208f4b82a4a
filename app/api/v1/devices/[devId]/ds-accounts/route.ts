import { apiError, apiHandler, parseInput, readJson } from '@/lib/server/api';
import { findDevice } from '@/lib/devices/present';
import { addDsAccountAs } from '@/lib/ds/accounts';
import { deviceDsAccounts, publicDsAccount } from '@/lib/ds/views';
import { dsAccountBodySchema } from '@/lib/ds/schemas';
import { pageByKey, readPageQuery } from '@/lib/core/paging';

export const dynamic = 'force-dynamic';

/** The device's DS accounts and each store's last sync (never a password or its derived form). */
export const GET = apiHandler<{ devId: string }>(['admin', 'agent'], async (req, { db }, { devId }) => {
  const q = readPageQuery(req.url);
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  const page = pageByKey(await deviceDsAccounts(db, device), (a) => [a.username, a.id], q);
  return Response.json({ dsAccounts: page.items, nextCursor: page.nextCursor, limit: q.limit });
});

/** Creates a DS account for the device, or gives its account of that user name a new password (200, created: false). */
export const POST = apiHandler<{ devId: string }>(['admin'], async (req, { db, tokenId }, { devId }) => {
  const device = await findDevice(db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  const input = parseInput(dsAccountBodySchema, await readJson(req, 10_000));
  const { account, created } = await addDsAccountAs(db, { devId: device.devId, ...input }, `token:${tokenId}`);
  return Response.json({ dsAccount: await publicDsAccount(db, account), created }, { status: created ? 201 : 200 });
});
