/**
 * The soak's fleet: virtual handsets in this process, provisioned in the server's database
 * the way `rewind device add` and `rewind sim` do it, each with what the load driver keeps
 * about it (its session, its failures in a row, when it was last heard of) and its own
 * fault injector and address.
 */
import type { Db } from '../../db/client';
import { getDeviceByDevId } from '../../db/queries/devices';
import { provisionDevice } from '../../lib/devices/devices';
import { withFaults, type FaultyTransport } from '../../sim/faults';
import { openFleet } from '../../sim/fleet';
import type { SessionSummary, VirtualHandset } from '../../sim/handset';
import { describeVirtualModels, provisionInput } from '../../sim/provision';
import { Rng } from '../../sim/random';
import { httpTransport } from '../../sim/transport';
import { injectFaults, injectedSince } from './faults';
import type { SoakMetrics } from './metrics';
import type { SoakSettings } from './options';

export interface SoakHandset {
  h: VirtualHandset;
  deviceId: string;
  faults: FaultyTransport;
  /** When each injected fault hit (ms since epoch). */
  injectedAt: number[];
  logSeen: number;
  inSession: boolean;
  newSession: boolean;
  lastFailed: boolean;
  failuresInRow: number;
  lastActivity: number;
  /** What the handset's loop is waiting on, for a run that does not end. */
  phase: string;
  rng: () => number;
}

/** The handsets' own deterministic stream (mulberry32), as a function. */
function rngOf(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

/** Creates and provisions `o.devices` handsets talking to `dmUrl`, into `handsets` by DevId. */
export async function setUpFleet(
  handsets: Map<string, SoakHandset>,
  db: Db,
  o: SoakSettings,
  stateDir: string,
  dmUrl: string,
  metrics: SoakMetrics,
): Promise<void> {
  const timed = metrics.timed(httpTransport);
  const created = openFleet({
    server: dmUrl,
    devices: o.devices,
    stateDir,
    seed: o.seed,
    encoding: 'mixed',
    auth: 'md5',
    mediaScale: o.mediaScale,
  });
  await describeVirtualModels(db);
  await db.transaction(async (tx) => {
    for (const h of created) {
      const input = provisionInput({ ...h.identity, nonces: { ...h.state.nonces } });
      await provisionDevice(tx, { ...input, pushAddress: `tel:+${input.msisdn}` });
    }
  });
  for (const [i, h] of created.entries()) {
    const s: SoakHandset = {
      h,
      deviceId: '',
      faults: withFaults(timed),
      injectedAt: [],
      logSeen: 0,
      inSession: false,
      newSession: true,
      lastFailed: false,
      failuresInRow: 0,
      phase: 'start',
      lastActivity: Date.now(),
      rng: rngOf(o.seed * 7919 + i),
    };
    injectFaults(s, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, o.faultRate);
    h.onSession((summary: SessionSummary) => sessionEnded(s, summary, metrics));
    handsets.set(h.devId, s);
  }
  for (const s of handsets.values()) {
    const row = await getDeviceByDevId(db, s.h.devId);
    if (!row) throw new Error(`${s.h.devId} was not provisioned`);
    s.deviceId = row.id;
  }
}

function sessionEnded(s: SoakHandset, summary: SessionSummary, metrics: SoakMetrics): void {
  const injected = injectedSince(s);
  s.inSession = false;
  s.newSession = true;
  s.lastActivity = Date.now();
  if (injected) s.injectedAt.push(Date.now());
  metrics.session(summary, injected);
  s.lastFailed = !summary.ok;
  s.failuresInRow = summary.ok ? 0 : s.failuresInRow + 1;
}
