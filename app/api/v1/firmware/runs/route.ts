import { apiHandler, parseInput } from '@/lib/server/api';
import { firmwareSearchSchema, searchFirmwareRuns } from '@/lib/devices/firmware-search';

export const dynamic = 'force-dynamic';

/** Which handsets ran a firmware version between two days (UTC), with their last good backup: the fleet's firmware search. */
export const GET = apiHandler(['admin', 'agent'], async (req, { db }) => {
  const url = new URL(req.url);
  const q = parseInput(firmwareSearchSchema, {
    firmware: url.searchParams.get('firmware') ?? '',
    from: url.searchParams.get('from') ?? '',
    to: url.searchParams.get('to') ?? '',
  });
  return Response.json(await searchFirmwareRuns(db, q));
});
