/**
 * What a backup cost the subscriber over the air, in words a person reads: the console's
 * device timeline and snapshot page, and the portal ("this backup used 3.8 KB").
 */
import { formatBytes } from '../core/format';

export interface Airtime {
  bytesUp: number;
  bytesDown: number;
  roundTrips: number;
}

/** A snapshot's recorded airtime; null where it was not taken over the air (a local backup, or one from before this was kept). */
export function airtime(s: {
  airBytesUp: number | null;
  airBytesDown: number | null;
  airRoundTrips: number | null;
}): Airtime | null {
  if (s.airBytesUp === null || s.airBytesDown === null || s.airRoundTrips === null) return null;
  return { bytesUp: s.airBytesUp, bytesDown: s.airBytesDown, roundTrips: s.airRoundTrips };
}

/** For the subscriber: "this backup used 3.8 KB". */
export function airUsedText(air: Airtime | null): string {
  return air ? `this backup used ${formatBytes(airBytes(air))}` : '-';
}

/** Both directions together: what a metered plan counts. */
export function airBytes(air: Airtime): number {
  return air.bytesUp + air.bytesDown;
}

/** "3.8 KB over the air (1.2 KB up, 2.6 KB down), 3 round trips". */
export function airtimeText(air: Airtime | null): string {
  if (!air) return 'not recorded';
  return `${formatBytes(airBytes(air))} over the air (${formatBytes(air.bytesUp)} up, ${formatBytes(air.bytesDown)} down), ${air.roundTrips} round trip${air.roundTrips === 1 ? '' : 's'}`;
}

/** How the backup found what changed, for people. */
export function changeDetectionText(how: string | null): string {
  switch (how) {
    case 'digest':
      return "only what changed (the handset's digests)";
    case 'verno':
      return "only what changed (the handset's version numbers per node)";
    case 'tstamp':
      return "only what changed (the handset's modification times per node)";
    case 'verify':
      return 'everything, checking what the handset said had not changed';
    case 'full':
      return 'everything';
    default:
      return 'not recorded';
  }
}

/** How a model's backups find what changed (learned from its handsets), for the models page. */
export function modelDetectionText(how: string | null): string {
  switch (how) {
    case 'digest':
      return "The B&R MO's digests: a backup moves only what changed.";
    case 'verno':
      return 'This model reports a version number per node (VerNo); backups fetch only what changed.';
    case 'tstamp':
      return 'This model reports when each node last changed (TStamp); backups fetch only what changed.';
    case 'none':
      return 'Neither digests nor node versions or times: every backup fetches the whole selection (asked again after 30 days).';
    default:
      return 'Not known yet: learned at the second backup of one of its handsets.';
  }
}
