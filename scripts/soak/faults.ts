/**
 * Fault injection for the soak: a share of sessions loses its connection at a random
 * message, the request or the reply. Every handset also speaks from an address of its own,
 * as on a radio network, rather than all from loopback: the server trusts the
 * X-Forwarded-For they send, so the limits on failed authentication apply per handset as
 * they would in the field.
 */
import type { SoakHandset } from './fleet';

/** Puts the handset's traffic through its fault injector; each session draws once whether it loses its connection, and at which message. */
export function injectFaults(s: SoakHandset, address: string, faultRate: number): void {
  const { faults } = s;
  s.h.transport = (req) => {
    req = { ...req, headers: { ...req.headers, 'x-forwarded-for': address } };
    if (req.method === 'POST' && s.newSession) {
      s.newSession = false;
      s.inSession = true;
      faults.reset();
      if (s.rng() < faultRate)
        faults.set({
          rules: [{ kind: s.rng() < 0.5 ? 'drop-request' : 'drop-reply', at: 1 + Math.floor(s.rng() * 8) }],
        });
      else faults.clear();
    }
    return faults(req);
  };
}

/** How many faults were injected since the last call: into the session that just ended. */
export function injectedSince(s: SoakHandset): number {
  const injected = s.faults.log.slice(s.logSeen).filter((e) => e.kind !== 'slow').length;
  s.logSeen = s.faults.log.length;
  return injected;
}
