/**
 * Throughput with one server process and with three over the same database and blob store
 * (SQLite in WAL mode, files under one DATA_DIR): the same fleet of virtual handsets backs up
 * once with every message going to the next process in turn. Each server is a child process
 * (`scripts/start.ts --protocol-only`); the handsets run here. On a machine with fewer cores
 * than processes plus handsets, the second figure measures sharing, not scaling: the report
 * prints the core count beside it.
 *
 *   npx tsx scripts/bench/processes.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatRows, type Row } from './codec';

export async function benchProcesses(opts: { devices?: number; concurrency?: number } = {}): Promise<Row[]> {
  const devices = opts.devices ?? 120;
  const concurrency = opts.concurrency ?? 24;
  process.env.LOG_LEVEL = 'silent';
  const { closeDb, dbFile, openDb } = await import('../../db/client');
  const { getDeviceByDevId } = await import('../../db/queries/devices');
  const { getJob } = await import('../../db/queries/jobs');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { openFleet } = await import('../../lib/device/fleet');
  const { roundRobinTransport } = await import('../../lib/device/transport');
  const { describeVirtualModels, provisionFleet } = await import('../../lib/fleet-provision');
  const { spawnChildServer } = await import('../../lib/gateway/child-server');

  const run = async (processes: number) => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rewind-bench-procs-${processes}-`));
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-procs-handsets-'));
    const db = openDb(dbFile(dataDir));
    const servers = await Promise.all(Array.from({ length: processes }, () => spawnChildServer({ dataDir, env: { LOG_LEVEL: 'silent' } })));
    try {
      await describeVirtualModels(db);
      const handsets = openFleet({
        server: servers[0]!.dmUrl, devices, stateDir, encoding: 'mixed', auth: 'md5', mediaScale: 0.01, seed: 77,
        handset: { transport: roundRobinTransport(servers.map((s) => s.port)) },
      });
      await provisionFleet(db, handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })));
      const jobs: string[] = [];
      for (const h of handsets) jobs.push((await createBackupJob(db, (await getDeviceByDevId(db, h.devId))!, { trigger: 'on-demand', actor: 'bench' })).job.id);
      let messages = 0;
      let i = 0;
      const started = performance.now();
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (i < handsets.length) {
          const s = await handsets[i++]!.connect({ initiator: 'client' });
          messages += s.messagesOut + s.messagesIn;
        }
      }));
      const ms = performance.now() - started;
      let ok = 0;
      for (const id of jobs) if ((await getJob(db, id))?.status === 'succeeded') ok++;
      if (ok !== devices) throw new Error(`${devices - ok} of ${devices} backups did not succeed with ${processes} process(es)`);
      return { backupsPerS: (devices / ms) * 1000, messagesPerS: (messages / ms) * 1000 };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await closeDb(db);
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  };

  const one = await run(1);
  const three = await run(3);
  const round = (n: number) => Math.round(n * 10) / 10;
  return [
    { name: `processes: backups/s, 1 process (SQLite, ${devices} handsets)`, value: round(one.backupsPerS), unit: '/s', baseline: `${round(one.messagesPerS)} messages/s` },
    { name: `processes: backups/s, 3 processes round robin (SQLite)`, value: round(three.backupsPerS), unit: '/s', baseline: `${round(three.messagesPerS)} messages/s; ${(three.backupsPerS / one.backupsPerS).toFixed(2)}x on ${os.cpus().length} cores` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  benchProcesses().then((rows) => console.log(formatRows(rows)), (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
