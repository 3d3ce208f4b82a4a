/**
 * `rewind sim`: a fleet of virtual handsets against a DM server. The handsets are
 * registered first, through the REST API when a token is given (a server elsewhere) or
 * straight into the database under DATA_DIR (a server on this machine), then each runs
 * a session (or keeps connecting on its schedule for --minutes), and a summary is printed.
 */
import { ALL_MODELS, findModel } from '../sim/catalog';
import path from 'node:path';
import { formatSummary, runFleet, type FleetHandsetInfo } from '../sim/fleet';
import { getContext } from '../lib/core/context';
import { describeVirtualModels, provisionFleet, provisionInput } from '../sim/provision';
import { AUTH_OPTIONS, authSchemes } from './auth-options';
import { createBackupJob } from '../lib/backup/jobs';
import { createDsBackupJob } from '../lib/ds/jobs';
import { getDeviceByDevId } from '../db/queries/devices';
import { intOption, UsageError, type Command } from './usage';

export const simCommand: Command = {
  summary: 'run a fleet of virtual handsets against a DM server and print a summary',
  usage:
    '--server URL [--devices N] [--wbxml | --mixed] [--auth md5|hmac|basic] [--client-auth S] [--server-auth S] [--state-dir DIR] [--once | --minutes M [--every S]] [--backup] [--ds-backup] [--ds-empty] [--concurrency N] [--seed N] [--media-scale F] [--models ID,…] [--token T] [--client-password P]',
  options: {
    server: { type: 'string' },
    devices: { type: 'string' },
    wbxml: { type: 'boolean' },
    mixed: { type: 'boolean' },
    ...AUTH_OPTIONS,
    'state-dir': { type: 'string' },
    once: { type: 'boolean' },
    minutes: { type: 'string' },
    every: { type: 'string' },
    concurrency: { type: 'string' },
    seed: { type: 'string' },
    'media-scale': { type: 'string' },
    // Models by id (sim/catalog.ts), e.g. korra-k9 (VerNo) or korra-k5 (TStamp); default the three of the demo fleet.
    models: { type: 'string' },
    token: { type: 'string' },
    backup: { type: 'boolean' },
    'ds-backup': { type: 'boolean' },
    'ds-empty': { type: 'boolean' },
    // A wrong password for every handset: sessions fail authentication as a mistyped account would.
    'client-password': { type: 'string' },
  },
  async run(v) {
    const server = typeof v.server === 'string' ? v.server : `http://127.0.0.1:${process.env.PORT ?? 3000}/dm`;
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new UsageError('--server must be a URL such as http://127.0.0.1:3000/dm');
    }
    const auth = authSchemes(v, 'md5');
    if (v.once && v.minutes !== undefined) throw new UsageError('--once and --minutes exclude each other');
    const minutes = v.minutes === undefined ? 0 : intOption(v, 'minutes', 1, 1, 24 * 60);
    const mediaScale = v['media-scale'] === undefined ? 0.1 : Number(v['media-scale']);
    if (!(mediaScale > 0 && mediaScale <= 1)) throw new UsageError('--media-scale must be a number in (0, 1]');
    const token = (v.token as string | undefined) ?? process.env.REWIND_TOKEN;
    const stateDir = (v['state-dir'] as string | undefined) ?? path.join(process.env.DATA_DIR ?? './data', 'sim');
    const devices = intOption(v, 'devices', 10, 1, 100_000);
    const models = typeof v.models === 'string' ? v.models.split(',').map((m) => m.trim()) : undefined;
    for (const m of models ?? [])
      if (!findModel(m))
        throw new UsageError(`--models: unknown model ${m}; known: ${ALL_MODELS.map((x) => x.id).join(', ')}`);

    const ac = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (minutes) {
      timer = setTimeout(() => ac.abort(), minutes * 60_000);
      process.once('SIGINT', () => ac.abort());
    }
    const started = Date.now();
    const summary = await runFleet({
      server: url.toString(),
      devices,
      stateDir,
      encoding: v.wbxml ? 'wbxml' : v.mixed ? 'mixed' : 'xml',
      clientAuth: auth.client,
      serverAuth: auth.server,
      concurrency: intOption(v, 'concurrency', 16, 1, 1000),
      seed: intOption(v, 'seed', 1, 0, 2 ** 31),
      mediaScale,
      ...(models ? { models: models.map((m) => findModel(m)!.id) } : {}),
      once: !minutes,
      everyMs: intOption(v, 'every', 60, 1, 86_400) * 1000,
      signal: ac.signal,
      ...(v['ds-empty'] ? { dsStores: 'empty' as const } : {}),
      ...(typeof v['client-password'] === 'string' ? { clientPassword: v['client-password'] } : {}),
      register: async (ids) => {
        await (token ? registerByApi(url, token, ids) : registerInDb(ids));
        if (v.backup) await queueBackups(url, token, ids, 'backup');
        if (v['ds-backup']) await queueBackups(url, token, ids, 'ds-backup');
        console.log(`registered ${ids.length} handsets:`);
        for (const h of ids) console.log(`  ${h.devId}  ${h.man} ${h.mod}  ${h.encoding}`);
      },
      onProgress: (done, total) => {
        if (process.stderr.isTTY)
          process.stderr.write(`\r${done}/${total} handsets (${((Date.now() - started) / 1000).toFixed(0)} s)`);
      },
    });
    if (timer) clearTimeout(timer);
    if (process.stderr.isTTY) process.stderr.write('\n');
    console.log(formatSummary(summary));
    return summary.failed > 0 ? 1 : 0;
  },
};

/**
 * --backup: each handset's first session takes a full backup (an on-demand job for each).
 * --ds-backup: and backs up its contacts and calendar through Data Sync (the handsets have
 * generated ones unless --ds-empty; the DS session runs after the DM session).
 */
async function queueBackups(
  dmUrl: URL,
  token: string | undefined,
  ids: FleetHandsetInfo[],
  kind: 'backup' | 'ds-backup',
): Promise<void> {
  if (token) {
    for (const h of ids) {
      const res = await fetch(new URL('/api/v1/jobs', dmUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ devId: h.devId, kind }),
      });
      if (!res.ok) throw new Error(`queueing a backup for ${h.devId} failed: ${res.status} ${await res.text()}`);
    }
    return;
  }
  const { db } = getContext();
  for (const h of ids) {
    const device = await getDeviceByDevId(db, h.devId);
    if (!device) continue;
    if (kind === 'ds-backup') await createDsBackupJob(db, device, { actor: 'cli:sim', wake: false });
    else await createBackupJob(db, device, { trigger: 'on-demand', actor: 'cli:sim' });
  }
}

async function registerInDb(ids: FleetHandsetInfo[]): Promise<void> {
  const { db } = getContext();
  // Their models' backup profiles too, so a fleet started against an empty server is backed up in full.
  await describeVirtualModels(db);
  await provisionFleet(db, ids);
}

/** POSTs the fleet to /api/v1/devices in batches; any refusal stops the run with the server's message. */
async function registerByApi(dmUrl: URL, token: string, ids: FleetHandsetInfo[]): Promise<void> {
  const endpoint = new URL('/api/v1/devices', dmUrl);
  for (let i = 0; i < ids.length; i += 500) {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(ids.slice(i, i + 500).map((h) => provisionInput(h))),
    });
    if (!res.ok) throw new Error(`registering handsets at ${endpoint.href} failed: ${res.status} ${await res.text()}`);
  }
}
