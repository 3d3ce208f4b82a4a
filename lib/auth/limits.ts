/**
 * The rate limits on failed authentication, one gate per door: console sign-in, /dm, /ds
 * and API bearer tokens. Each gate counts failures per client address (AUTH_RATE_LIMIT in
 * AUTH_RATE_WINDOW seconds) and, where the door names who is trying (a DevId, a DS client),
 * per address and identity, at a quarter of that.
 *
 * Why address and identity, and not the identity alone: a count per DevId would let anyone
 * who knows a handset's DevId lock that handset out by spraying bad credentials from
 * elsewhere. Keyed by address and DevId, the spraying only blocks the sprayer; the handset
 * on its own address is untouched, and a success resets its count. The identity limit is
 * lower so that one misconfigured handset behind a carrier NAT is refused on its own
 * before it uses up the shared address's allowance (refused messages are not counted
 * again). The address limit caps what one client can try across many identities.
 *
 * The gates live on globalThis: Next bundles its route handlers and server actions apart
 * from server.ts, and both copies of this module must share one set of counts.
 */
import { env } from '../core/env';
import { FailureLimiter } from '../core/rate-limit';

export type GateName = 'sign-in' | 'dm' | 'ds' | 'api';

export class AuthGate {
  constructor(
    readonly name: GateName,
    private readonly byAddress: FailureLimiter,
    private readonly byIdentity: FailureLimiter,
  ) {}

  /** Seconds to wait when the address is refused, else undefined. Counts nothing. */
  refusedAddress(address: string): number | undefined {
    const v = this.byAddress.check(address);
    return v.limited ? v.retryAfterSeconds : undefined;
  }

  /** Seconds to wait when this identity from this address is refused (or the address is). */
  refusedIdentity(address: string, identity: string): number | undefined {
    const v = this.byIdentity.check(identityKey(address, identity));
    return v.limited ? v.retryAfterSeconds : this.refusedAddress(address);
  }

  /** A failed authentication: counted for the address, and the identity when there is one. */
  failed(address: string, identity?: string): void {
    if (identity !== undefined) this.byIdentity.fail(identityKey(address, identity));
    this.byAddress.fail(address);
  }

  /** A success forgets the identity's failures; the address keeps its count (one good account must not wipe a spray). */
  succeeded(address: string, identity?: string): void {
    if (identity !== undefined) this.byIdentity.reset(identityKey(address, identity));
  }
}

function identityKey(address: string, identity: string): string {
  return `${address}|${identity.slice(0, 256)}`;
}

const KEY = Symbol.for('rewind.authGates');
type Holder = { [KEY]?: Map<GateName, AuthGate> };

export function authGate(name: GateName): AuthGate {
  const g = globalThis as Holder;
  const gates = (g[KEY] ??= new Map());
  let gate = gates.get(name);
  if (!gate) {
    const e = env();
    const windowMs = e.AUTH_RATE_WINDOW * 1000;
    gate = new AuthGate(
      name,
      new FailureLimiter({ max: e.AUTH_RATE_LIMIT, windowMs }),
      new FailureLimiter({ max: e.AUTH_RATE_LIMIT === 0 ? 0 : Math.max(1, Math.ceil(e.AUTH_RATE_LIMIT / 4)), windowMs }),
    );
    gates.set(name, gate);
  }
  return gate;
}

/** Forgets every count and reads the limits again (tests change the environment). */
export function resetAuthGates(): void {
  delete (globalThis as Holder)[KEY];
}

/** "N minutes" for a wait in seconds, rounded up. */
export function minutesText(seconds: number): string {
  const m = Math.max(1, Math.ceil(seconds / 60));
  return m === 1 ? '1 minute' : `${m} minutes`;
}
