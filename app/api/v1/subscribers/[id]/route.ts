import { apiError, apiHandler } from '@/lib/server/api';
import { eraseSubscriberAs } from '@/lib/subscribers/erasure';
import { findSubscriber, subscriberDetail } from '@/lib/subscribers/views';

export const dynamic = 'force-dynamic';

export const GET = apiHandler<{ id: string }>(['admin', 'agent'], async (_req, { db }, { id }) => {
  const detail = await subscriberDetail(db, id);
  if (!detail) return apiError(404, 'not-found', 'No such subscriber.');
  return Response.json(detail);
});

/** Erases the subscriber: their handsets' records and backups, and their data keys (admins only). */
export const DELETE = apiHandler<{ id: string }>(['admin'], async (_req, ctx, { id }) => {
  if (!(await findSubscriber(ctx.db, id))) return apiError(404, 'not-found', 'No such subscriber.');
  const r = await eraseSubscriberAs(ctx, id, `token:${ctx.tokenId}`);
  return Response.json({ erased: { devices: r.devices, snapshots: r.snapshots, keys: r.keys } });
});
