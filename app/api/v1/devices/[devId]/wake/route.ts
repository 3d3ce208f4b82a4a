import { apiError, apiHandler } from '@/lib/server/api';
import { findDevice } from '@/lib/devices/present';
import { wakeDeviceAs } from '@/lib/gateway/wake';
import { PushError } from '@/lib/omadm/push';

export const dynamic = 'force-dynamic';

/** Sends Package #0 so the handset opens a DM session now; answers with the session id it will use. */
export const POST = apiHandler<{ devId: string }>(['admin', 'agent'], async (_req, ctx, { devId }) => {
  // Next hands over path segments percent-decoded already: decoding again would misread a '%' in a DevId.
  const device = await findDevice(ctx.db, devId);
  if (!device) return apiError(404, 'not-found', 'No such device.');
  if (!device.pushAddress)
    return apiError(
      409,
      'no-push-address',
      'This device has no push address; it will be reached when it next connects.',
    );
  try {
    const sessionId = await wakeDeviceAs(ctx, device, `token:${ctx.tokenId}`);
    return Response.json({ sessionId }, { status: 202 });
  } catch (err) {
    if (err instanceof PushError)
      return apiError(502, `push-${err.code}`, `Package #0 could not be delivered: ${err.message}`);
    throw err;
  }
});
