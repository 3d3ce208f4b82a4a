/**
 * How the server authenticates to a handset. A DM account (DMAcc AppAuth) holds one scheme
 * for each direction, and the handset checks the server with its own: when it refuses our
 * credentials with a Chal naming another scheme, the engine reports it
 * (AuthUpdate.serverScheme) and this policy decides whether the server follows.
 */
import type { AuthScheme } from '../omadm/auth';
import type { DeviceRow } from '@/db/queries/devices';

/** Weakest first: what DM_MIN_SERVER_AUTH is compared with. */
const STRENGTH: Record<AuthScheme, number> = { basic: 0, md5: 1, hmac: 2 };

/** How people name the schemes (logs, session history, the CLI). */
export const SCHEME_LABEL: Record<AuthScheme, string> = { basic: 'basic', md5: 'MD5', hmac: 'HMAC' };

export function atLeast(scheme: AuthScheme, min: AuthScheme): boolean {
  return STRENGTH[scheme] >= STRENGTH[min];
}

/** The scheme the server starts a session with: the account's, raised to the minimum. */
export function startingServerScheme(account: AuthScheme, min: AuthScheme): AuthScheme {
  return atLeast(account, min) ? account : min;
}

export type SchemeVerdict = { follow: true; change: string } | { follow: false; reason: string };

/**
 * Whether the server follows a handset that asks to be shown `wanted`: never below the
 * minimum, and basic only when the account keeps the server password (MD5 and HMAC need
 * only the derived secret every account has).
 */
export function followRequestedScheme(
  device: Pick<DeviceRow, 'serverPassword'>,
  current: AuthScheme,
  wanted: AuthScheme,
  min: AuthScheme,
): SchemeVerdict {
  const asked = `The handset asked the server to authenticate with ${SCHEME_LABEL[wanted]} instead of ${SCHEME_LABEL[current]}`;
  if (!atLeast(wanted, min)) {
    return {
      follow: false,
      reason: `${asked}, below the minimum ${SCHEME_LABEL[min]} (DM_MIN_SERVER_AUTH): session ended`,
    };
  }
  if (wanted === 'basic' && !device.serverPassword) {
    return {
      follow: false,
      reason: `${asked}, but its account keeps no server password for basic (provision it with --server-auth basic): session ended`,
    };
  }
  return { follow: true, change: `${asked}: switched, and kept on its account` };
}
