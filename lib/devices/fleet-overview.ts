/**
 * The fleet overview's figures: each an aggregate query (db/queries/status.ts), shaped
 * here into the days and shares the charts draw. Days are UTC and every day of the window
 * is present, zero or not, so the bars line up with the calendar.
 */
import type { Db } from '@/db/client';
import { refusalCounts, type GateName, type RefusalReason } from '@/lib/auth/limits';
import {
  backupsPerDay,
  categoryCoverage,
  coverage,
  failureReasons,
  fleetStatus,
  storageTotals,
  storedPerDay,
} from '@/db/queries/status';

export const FLEET_DAYS = 30;
const DAY_MS = 86_400_000;

export function dayLabel(day: number): string {
  return new Date(day).toISOString().slice(5, 10);
}

export async function fleetOverview(db: Db, now = Date.now()) {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const since = today - (FLEET_DAYS - 1) * DAY_MS;
  const days = Array.from({ length: FLEET_DAYS }, (_, i) => since + i * DAY_MS);

  const perDay = new Map<number, { complete: number; failed: number; running: number; logical: number }>(
    days.map((d) => [d, { complete: 0, failed: 0, running: 0, logical: 0 }]),
  );
  for (const r of await backupsPerDay(db, since)) {
    const d = perDay.get(r.day);
    if (!d) continue;
    if (r.status === 'complete') {
      d.complete += r.n;
      d.logical += r.bytes;
    } else if (r.status === 'failed') d.failed += r.n;
    else d.running += r.n;
  }

  const stored = await storedPerDay(db, since);
  const added = new Map(stored.days.map((d) => [d.day, d.bytes]));
  let total = stored.before;
  const storage = days.map((day) => {
    total += added.get(day) ?? 0;
    return { day, stored: total, logical: perDay.get(day)!.logical };
  });

  const cov = await coverage(db, now);
  const devices = cov.day + cov.week + cov.older + cov.never;
  return {
    now,
    status: await fleetStatus(db),
    backups: days.map((day) => ({ day, ...perDay.get(day)! })),
    failures: await failureReasons(db, now - FLEET_DAYS * DAY_MS),
    coverage: { ...cov, devices },
    categories: (await categoryCoverage(db, now)).map((c) => ({ ...c, share: devices ? c.devices / devices : 0 })),
    storage,
    totals: await storageTotals(db),
    refusals: refusals(),
  };
}

const DOORS: Record<GateName, string> = { dm: '/dm', ds: '/ds', api: 'REST API', 'sign-in': 'console sign-in' };
const REASONS: Record<RefusalReason, string> = {
  identity: 'one identity failed too often from its address (a DevId, DS client, token or email)',
  address: 'an identity failed again from an address that failed too often',
  unknown: 'unknown DevIds spent their budget at an address',
  slowed: 'slowed down, not refused: the address failed too often',
};

/**
 * Refused authentications by door and reason, as this process counted them since it started
 * (the counts are in its memory: with several processes, each shows its own).
 */
function refusals() {
  const r = refusalCounts();
  return {
    since: r.since,
    perProcess: r.perProcess,
    rows: r.counts.map((c) => ({ ...c, doorName: DOORS[c.door], meaning: REASONS[c.reason] })),
  };
}

export type FleetOverview = Awaited<ReturnType<typeof fleetOverview>>;
