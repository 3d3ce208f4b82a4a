/**
 * Provisioning virtual handsets on the server: what the fleet knows about each handset
 * (identity, credentials, the nonces both sides start from) becomes the device's DM
 * account. Used by `rewind sim`, the demo, tests and benchmarks.
 */
import type { Db } from '@/db/client';
import { ensureModel, setProfile } from '@/db/queries/profiles';
import { ALL_MODELS, ANTIVIRUS, APPS } from './catalog';
import { buildAppPackage, buildFirmwarePackage } from './packages';
import { hash32, Rng } from './random';
import { publishApp, publishFirmware } from '../lib/catalog/catalog';
import type { BlobStore } from '../lib/backup/blob-store';
import type { FleetHandsetInfo } from './fleet';
import { PATHS } from './generate';
import { CATEGORY_PATHS } from './local-backup';
import { CATEGORIES } from '../lib/omadm/mo/backup-restore';
import { provisionDevice } from '../lib/devices/devices';
import type { ProvisionDeviceInput } from '../lib/devices/schemas';

export interface FleetProvisionOptions {
  /** Give each handset the in-process push address `inproc:<devId>` (handsets in this process). */
  inprocPush?: boolean;
  /** Who owns the i-th handset; by default a subscriber of its own named after its DevId. */
  owner?: (h: FleetHandsetInfo, i: number) => { subscriber: string; msisdn: string; email?: string };
}

/** The provisioning request for one virtual handset; also the REST API's body. */
export function provisionInput(h: FleetHandsetInfo, opts: FleetProvisionOptions = {}, i = 0): ProvisionDeviceInput {
  return {
    devId: h.devId,
    manufacturer: h.man,
    model: h.mod,
    firmware: h.firmware,
    // A deterministic UK number per handset, so a subscriber can be looked up by MSISDN.
    msisdn: `447700${String(h.seed % 1_000_000).padStart(6, '0')}`,
    subscriber: `Subscriber ${h.devId.slice(-6)}`,
    ...opts.owner?.(h, i),
    serverId: h.serverId,
    clientAuth: h.clientScheme,
    serverAuth: h.serverScheme,
    clientUser: h.clientUser,
    clientPass: h.clientPassword,
    serverPass: h.serverPassword,
    clientNonce: h.nonces.clientNonce,
    serverNonce: h.nonces.serverNonce,
    ...(opts.inprocPush ? { pushAddress: `inproc:${h.devId}` } : {}),
  };
}

export async function provisionFleet(
  db: Db,
  handsets: readonly FleetHandsetInfo[],
  opts: FleetProvisionOptions = {},
): Promise<void> {
  for (const [i, h] of handsets.entries()) await provisionDevice(db, provisionInput(h, opts, i));
}

/**
 * Backup profiles for the virtual handsets' models (what an admin would enter with
 * `rewind profile set`): where each category lives in their trees.
 */
export async function describeVirtualModels(db: Db): Promise<void> {
  for (const m of ALL_MODELS) {
    const model = await ensureModel(db, m.man, m.mod);
    for (const c of CATEGORIES) {
      const paths = c === 'firmware' ? [...CATEGORY_PATHS.firmware, PATHS.fumoRoot] : CATEGORY_PATHS[c];
      await setProfile(db, model.id, c, paths);
    }
  }
}

/**
 * Firmware for every version of every virtual model, and a package for every version of
 * every app they ship (vendor apps under each vendor's prefix), in the format the virtual
 * handsets check (sim/packages.ts). `kb` sizes each payload.
 */
export async function publishVirtualCatalog(
  ctx: { db: Db; blobs: BlobStore },
  opts: { kb?: number } = {},
): Promise<void> {
  const payload = (label: string) => {
    const rng = new Rng(hash32(label));
    const out = new Uint8Array((opts.kb ?? 16) * 1024);
    for (let i = 0; i < out.length; i++) out[i] = rng.int(0, 255);
    return out;
  };
  // A maker's own apps are its system apps: the catalog says so, and a migration to another maker skips them.
  const apps = new Map<string, { name: string; versions: readonly string[]; systemOf?: string }>();
  for (const m of ALL_MODELS) {
    for (const version of m.firmware) {
      await publishFirmware(ctx, {
        manufacturer: m.man,
        model: m.mod,
        version,
        name: `${m.mod} ${version}`,
        bytes: buildFirmwarePackage({
          model: m.id,
          version,
          name: `${m.mod} ${version}`,
          payload: payload(`fw:${m.id}:${version}`),
        }),
      });
    }
    for (const a of [...APPS, ANTIVIRUS])
      apps.set(a.thirdParty ? a.id : `${m.appPrefix}.${a.id}`, {
        name: a.name,
        versions: a.versions,
        ...(a.thirdParty ? {} : { systemOf: m.man }),
      });
  }
  for (const [appId, a] of apps) {
    for (const version of a.versions) {
      await publishApp(ctx, {
        appId,
        name: a.name,
        version,
        ...(a.systemOf ? { systemOf: a.systemOf } : {}),
        bytes: buildAppPackage({ id: appId, name: a.name, version, payload: payload(`app:${appId}:${version}`) }),
      });
    }
  }
}
