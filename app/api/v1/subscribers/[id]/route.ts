import { apiError, apiHandler } from '@/lib/server/api';
import { devicesOfSubscriber, getSubscriber } from '@/db/queries/subscribers';
import { publicDevice } from '@/lib/devices/present';
import { insertAudit } from '@/db/queries/audit';
import { eraseSubscriber } from '@/lib/subscribers/erasure';

export const dynamic = 'force-dynamic';

export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db }, { id }) => {
  const subscriber = await getSubscriber(db, id);
  if (!subscriber) return apiError(404, 'not-found', 'No such subscriber.');
  return Response.json({ subscriber, devices: (await devicesOfSubscriber(db, id)).map(publicDevice) });
});

/** Erases the subscriber: their handsets' records and backups, and their data keys (admins only). */
export const DELETE = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) => {
  if (!(await getSubscriber(ctx.db, id))) return apiError(404, 'not-found', 'No such subscriber.');
  const r = await eraseSubscriber(ctx, id);
  await insertAudit(ctx.db, { actor: `token:${ctx.tokenId}`, action: 'subscriber.erased', details: { subscriberId: id, devices: r.devices, snapshots: r.snapshots, keys: r.keys, blobs: r.gc?.removed ?? 0 } });
  return Response.json({ erased: { devices: r.devices, snapshots: r.snapshots, keys: r.keys } });
});
