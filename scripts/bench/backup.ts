/**
 * Backup benchmark: full backups of 200 virtual handsets at once through the real /dm
 * endpoint (handsets in a child process, as in dm.ts), then the same 200 again unchanged.
 *
 * - backups per second: complete snapshots over the time from the first request to the
 *   last answer of the first round;
 * - bytes stored per backup of an unchanged handset: what the blob store grew by in the
 *   second round, divided by its backups (the goal is 0: same manifest, no new content).
 *
 *   npx tsx scripts/bench/backup.ts
 */
import { pathToFileURL } from 'node:url';
import { formatRows, type Row } from './codec';
import { startClient } from './dm';
import type { TestServer } from '../../test/support/test-server';

/**
 * The bench client (dm.ts) for a fleet backed up by `ts`: its models described, and each time
 * the fleet runs, its handsets provisioned and a backup of each queued before they connect.
 */
export async function backupFleetClient(ts: TestServer) {
  const { describeVirtualModels, provisionFleet } = await import('../../sim/provision');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { getDeviceByDevId } = await import('../../db/queries/devices');
  await describeVirtualModels(ts.ctx.db);
  const client = startClient(async (ids) => {
    await provisionFleet(ts.ctx.db, ids);
    for (const h of ids)
      await createBackupJob(ts.ctx.db, (await getDeviceByDevId(ts.ctx.db, h.devId))!, {
        trigger: 'on-demand',
        actor: 'bench',
      });
    client.send({ cmd: 'registered' });
  });
  return client;
}

export async function benchBackup(opts: { devices?: number; concurrency?: number } = {}): Promise<Row[]> {
  const devices = opts.devices ?? 200;
  const concurrency = opts.concurrency ?? 200;
  process.env.LOG_LEVEL = 'silent';
  delete process.env.PUBLIC_URL;
  const { startTestServer } = await import('../../test/support/test-server');
  const { blobStats } = await import('../../db/queries/snapshots');
  const { value } = await import('../../db/sql');
  const { sql } = await import('drizzle-orm');

  const ts = await startTestServer();
  const client = await backupFleetClient(ts);
  const complete = async () =>
    Number(await value(ts.ctx.db, sql`select count(*) as n from snapshots where status = 'complete'`));
  try {
    await client.next('ready');
    const round = async () => {
      const done = client.next('fleet-done');
      const before = { snaps: await complete(), stored: (await blobStats(ts.ctx.db)).bytes };
      client.send({ cmd: 'fleet', server: ts.dmUrl, devices, seed: 42, concurrency, encoding: 'mixed' });
      const r = await done;
      if (r.summary.failed > 0)
        throw new Error(
          `backup bench: ${r.summary.failed} sessions failed (${JSON.stringify(r.summary.errorsByKind)})`,
        );
      const backups = (await complete()) - before.snaps;
      if (backups !== devices) throw new Error(`backup bench: ${backups} of ${devices} backups completed`);
      return {
        backups,
        ms: r.windowMs,
        stored: (await blobStats(ts.ctx.db)).bytes - before.stored,
        messages: r.summary.messages,
      };
    };
    const first = await round();
    const second = await round(); // same seed, same handsets, nothing changed on them
    return [
      {
        name: `backups/s, ${devices} handsets at once`,
        value: Math.round((first.backups / (first.ms / 1000)) * 10) / 10,
        unit: 'backups/s',
        baseline: `${first.messages} DM messages in ${(first.ms / 1000).toFixed(1)} s`,
      },
      {
        name: 'content stored by the first backups',
        value: Math.round(first.stored / first.backups),
        unit: 'B/backup',
      },
      {
        name: 'content stored per unchanged backup',
        value: Math.round(second.stored / second.backups),
        unit: 'B/backup',
        baseline: 'goal 0',
      },
    ];
  } finally {
    await client.stop().catch(() => undefined);
    await ts.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchBackup().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
