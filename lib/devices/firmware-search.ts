/**
 * The management authority's fault and recall tracing: which handsets ran firmware X between
 * two dates (from firmware_runs, what their inventories reported at each session), each with
 * its subscriber and its last good backup, the one a restore would start from.
 */
import type { Db } from '@/db/client';
import { firmwareRunsBetween, knownFirmware } from '@/db/queries/firmware-runs';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import { getSubscriber } from '@/db/queries/subscribers';
import { dayBefore } from './page';
import type { z } from 'zod';
import { firmwareSearchSchema, type FirmwareSearch, type firmwareRunHitSchema } from './schemas';

/** Handsets one search answers at most (the runs seen last first). */
export const FIRMWARE_SEARCH_MAX = 500;
const DAY = 86_400_000;
export { firmwareSearchSchema, type FirmwareSearch };

/** One handset found; the API's FirmwareRun hit (schemas.ts), whose shape it is. */
export type FirmwareSearchHit = z.infer<typeof firmwareRunHitSchema>;

export async function searchFirmwareRuns(
  db: Db,
  q: FirmwareSearch,
): Promise<{ hits: FirmwareSearchHit[]; more: boolean }> {
  const runs = await firmwareRunsBetween(db, {
    firmware: q.firmware,
    from: Date.parse(`${q.from}T00:00:00Z`),
    to: Date.parse(`${q.to}T00:00:00Z`) + DAY - 1,
    limit: FIRMWARE_SEARCH_MAX + 1,
  });
  const hits: FirmwareSearchHit[] = [];
  const names = new Map<string, string | undefined>();
  for (const r of runs.slice(0, FIRMWARE_SEARCH_MAX)) {
    const last = await lastCompleteSnapshot(db, r.deviceId);
    if (r.subscriberId && !names.has(r.subscriberId))
      names.set(r.subscriberId, (await getSubscriber(db, r.subscriberId))?.name);
    const name = r.subscriberId ? names.get(r.subscriberId) : undefined;
    hits.push({
      deviceId: r.deviceId,
      devId: r.devId,
      model: [r.manufacturer, r.model].filter(Boolean).join(' ') || 'unknown model',
      subscriber: r.subscriberId && name ? { id: r.subscriberId, name } : null,
      from: r.firstSeenAt,
      to: r.lastSeenAt,
      lastGoodBackup: last ? { id: last.id, at: last.completedAt ?? last.startedAt } : null,
    });
  }
  return { hits, more: runs.length > FIRMWARE_SEARCH_MAX };
}

/**
 * The firmware search page's data: the form as asked (the last 90 days by default), why it
 * cannot be searched, or what it found; and the versions to suggest.
 */
export async function firmwareSearchPage(
  db: Db,
  q: { firmware?: string; from?: string; to?: string },
  now = Date.now(),
) {
  const form = { firmware: q.firmware ?? '', from: q.from || dayBefore(90, now), to: q.to || dayBefore(0, now) };
  const parsed = q.firmware !== undefined ? firmwareSearchSchema.safeParse(form) : undefined;
  return {
    form,
    error: parsed && !parsed.success ? parsed.error.issues.map((i) => i.message).join('; ') : null,
    result: parsed?.success ? await searchFirmwareRuns(db, parsed.data) : null,
    versions: await knownFirmware(db),
  };
}
