/**
 * The rate limits on failed authentication, one gate per door: console sign-in, /dm, /ds
 * and API bearer tokens. The rule they keep: a client that presents valid credentials is
 * never refused because of what other clients at its address did. Thousands of handsets
 * (or an office of agents) reach us through one carrier NAT or load balancer, so an
 * address is not a client.
 *
 * So failures are counted per identity: address + DevId on /dm, address + DS client on
 * /ds, address + email at sign-in, address + token for the API (AUTH_IDENTITY_LIMIT). Why
 * address and identity, and not the identity alone: a count per DevId (or email) would
 * let anyone who knows it lock its owner out by failing from elsewhere; keyed by address
 * and identity, that only blocks the one failing. A success resets its identity's count.
 *
 * Identities the server does not know (DevIds nobody provisioned) have a budget of their
 * own per address (AUTH_UNKNOWN_LIMIT): a NAT full of unprovisioned handsets spends that
 * budget, never the provisioned handsets'. The address's own count (AUTH_RATE_LIMIT, every
 * failure from it) refuses an identity only after that identity has failed from there
 * itself: every client meets its challenge once (an MD5 nonce it did not have yet), whatever
 * the others did. And before any refusal a door checks what is cheap to check (a known
 * DevId's credentials, a token's row): valid credentials pass whatever the counts say.
 *
 * Every refusal is logged with its reason and counted here (`refusalCounts`, shown on the
 * fleet page). The counts, like the limits, are per process, in memory (lib/core/rate-limit.ts
 * says why that is enough). The gates live on globalThis: Next bundles its route handlers
 * and server actions apart from server.ts, and both copies of this module must share one
 * set of counts.
 */
import { env } from '../core/env';
import { log } from '../core/log';
import { FailureLimiter } from '../core/rate-limit';

export type GateName = 'sign-in' | 'dm' | 'ds' | 'api';

/**
 * Which count refused: the identity's own, the address's (for an identity that failed from
 * it already), unknown identities' budget at the address, or (sign-in only, not a refusal
 * but counted with them) an attempt slowed down because its address failed too often.
 */
export type RefusalReason = 'identity' | 'address' | 'unknown' | 'slowed';

export interface Refusal {
  reason: RefusalReason;
  retryAfterSeconds: number;
}

export class AuthGate {
  constructor(
    readonly name: GateName,
    private readonly byAddress: FailureLimiter,
    private readonly byIdentity: FailureLimiter,
    private readonly byUnknown: FailureLimiter,
  ) {}

  /**
   * What the counts would refuse an attempt by `identity` from `address` for, counting
   * nothing and before its credentials are looked at: its own failures, or the address's
   * once the identity has failed there itself. The caller lets valid credentials through
   * whatever this says, wherever checking them is cheap.
   */
  refusal(address: string, identity: string): Refusal | undefined {
    const own = this.byIdentity.check(identityKey(address, identity));
    if (own.limited) return { reason: 'identity', retryAfterSeconds: own.retryAfterSeconds };
    return own.failures === 0 ? undefined : this.addressRefusal(address);
  }

  /** Whether identities the server does not know have spent their budget at `address`. */
  unknownRefusal(address: string): Refusal | undefined {
    const v = this.byUnknown.check(address);
    return v.limited ? { reason: 'unknown', retryAfterSeconds: v.retryAfterSeconds } : undefined;
  }

  /** The address's own count over its limit (every failure from it, whoever made it). */
  addressRefusal(address: string): Refusal | undefined {
    const v = this.byAddress.check(address);
    return v.limited ? { reason: 'address', retryAfterSeconds: v.retryAfterSeconds } : undefined;
  }

  /** Failures from the address at or past its limit in the current window (0 below it). */
  addressExcess(address: string): number {
    const v = this.byAddress.check(address);
    return v.limited ? v.failures - this.byAddress.max + 1 : 0;
  }

  /** A failed authentication by a known identity (or, `undefined`, one the server does not know). */
  failed(address: string, identity: string | undefined): void {
    if (identity === undefined) this.byUnknown.fail(address);
    else this.byIdentity.fail(identityKey(address, identity));
    this.byAddress.fail(address);
  }

  /** A success forgets the identity's failures; the address keeps its count (one good account must not wipe a spray). */
  succeeded(address: string, identity: string): void {
    this.byIdentity.reset(identityKey(address, identity));
  }

  /** Logs a refusal with its reason, and counts it for the fleet page. */
  refused(r: Refusal, address: string, identity?: string): void {
    const counts = refusalHolder();
    const key = `${this.name}|${r.reason}` as const;
    counts.byReason.set(key, (counts.byReason.get(key) ?? 0) + 1);
    log.info(
      {
        door: this.name,
        reason: r.reason,
        address,
        ...(identity !== undefined ? { identity: identity.slice(0, 80) } : {}),
        retryAfter: r.retryAfterSeconds,
      },
      'authentication refused by the rate limits',
    );
  }
}

function identityKey(address: string, identity: string): string {
  return `${address}|${identity.slice(0, 256)}`;
}

const KEY = Symbol.for('rewind.authGates');
const REFUSALS = Symbol.for('rewind.authRefusals');
type RefusalKey = `${GateName}|${RefusalReason}`;
interface RefusalCounts {
  since: number;
  byReason: Map<RefusalKey, number>;
}
type Holder = { [KEY]?: Map<GateName, AuthGate>; [REFUSALS]?: RefusalCounts };

function refusalHolder(): RefusalCounts {
  return ((globalThis as Holder)[REFUSALS] ??= { since: Date.now(), byReason: new Map() });
}

/** The limits as configured: failures per window for an address, an identity, unknown identities. */
export function authLimits(): { address: number; identity: number; unknown: number; windowSeconds: number } {
  const e = env();
  return {
    address: e.AUTH_RATE_LIMIT,
    // Unset: a quarter of the address's, so one misconfigured client is refused well
    // before its address has failed often enough to slow anyone else down.
    identity: e.AUTH_IDENTITY_LIMIT ?? (e.AUTH_RATE_LIMIT === 0 ? 0 : Math.max(1, Math.ceil(e.AUTH_RATE_LIMIT / 4))),
    unknown: e.AUTH_UNKNOWN_LIMIT ?? e.AUTH_RATE_LIMIT,
    windowSeconds: e.AUTH_RATE_WINDOW,
  };
}

export function authGate(name: GateName): AuthGate {
  const g = globalThis as Holder;
  const gates = (g[KEY] ??= new Map());
  let gate = gates.get(name);
  if (!gate) {
    const l = authLimits();
    const windowMs = l.windowSeconds * 1000;
    gate = new AuthGate(
      name,
      new FailureLimiter({ max: l.address, windowMs }),
      new FailureLimiter({ max: l.identity, windowMs }),
      new FailureLimiter({ max: l.unknown, windowMs }),
    );
    gates.set(name, gate);
  }
  return gate;
}

/** Forgets every count (the refusals' too) and reads the limits again (tests change the environment). */
export function resetAuthGates(): void {
  delete (globalThis as Holder)[KEY];
  delete (globalThis as Holder)[REFUSALS];
}

export interface RefusalCount {
  door: GateName;
  reason: RefusalReason;
  count: number;
}

/**
 * The refusals this process made since it started (or since `since`), by door and reason.
 * Per process: with several processes behind a balancer, each page shows the process that
 * answered it.
 */
export function refusalCounts(): { since: number; perProcess: true; counts: RefusalCount[] } {
  const h = refusalHolder();
  const counts = [...h.byReason].map(([k, count]) => {
    const [door, reason] = k.split('|') as [GateName, RefusalReason];
    return { door, reason, count };
  });
  counts.sort((a, b) => b.count - a.count || a.door.localeCompare(b.door) || a.reason.localeCompare(b.reason));
  return { since: h.since, perProcess: true, counts };
}

/** "N minutes" for a wait in seconds, rounded up. */
export function minutesText(seconds: number): string {
  const m = Math.max(1, Math.ceil(seconds / 60));
  return m === 1 ? '1 minute' : `${m} minutes`;
}
