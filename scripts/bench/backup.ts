/**
 * Backup benchmark: full backups of 200 virtual handsets at once through the real /dm
 * endpoint (handsets in a child process, as in dm.ts), then the same 200 again unchanged.
 *
 * - backups per second: complete snapshots over the time from the first request to the
 *   last answer of the first round;
 * - bytes stored per backup of an unchanged handset: what the blob store grew by in the
 *   second round, divided by its backups (the goal is 0: same manifest, no new content);
 * - the store's layouts side by side, in the same run: the first round again on a server
 *   whose store writes each value as a loose file (as before packs), each with the server's
 *   CPU per DM message (the handsets run in a child process, so this process's CPU is the
 *   server's) and the database commits per backup session (SQLite: COMMITs and writes
 *   outside a transaction, counted on the connection), both from when the fleet is provisioned.
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
export async function backupFleetClient(ts: TestServer, onProvisioned?: () => void) {
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
    onProvisioned?.();
    client.send({ cmd: 'registered' });
  });
  return client;
}

/**
 * Counts the commits of an openDb database: COMMIT statements, and writes outside a
 * transaction (each its own commit), RETURNING ones included.
 */
function countCommits(db: unknown): { n: number } {
  type Stmt = Record<'run' | 'all' | 'get', (...a: unknown[]) => unknown>;
  const sqlite = (db as { $client: { prepare(text: string): unknown; inTransaction: boolean } }).$client;
  const counter = { n: 0 };
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = (text: string) => {
    const s = prepare(text) as Stmt;
    const commit = /^\s*commit\b/i.test(text);
    const write = !/^\s*(select|begin|rollback|pragma)\b/i.test(text);
    for (const m of ['run', 'all', 'get'] as const) {
      const call = s[m].bind(s);
      s[m] = (...a: unknown[]) => {
        if (commit || (write && !sqlite.inTransaction)) counter.n++;
        return call(...a);
      };
    }
    return s;
  };
  return counter;
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

  const { SealedBlobStore } = await import('../../lib/backup/sealed-store');

  /** One server and its fleet: `loose` stores each value as its own file, as before packs. */
  const serve = async (layout: 'packs' | 'loose') => {
    const ts = await startTestServer();
    const commits = countCommits(ts.ctx.db);
    if (layout === 'loose' && ts.ctx.blobs instanceof SealedBlobStore)
      ts.ctx.blobs = new SealedBlobStore(ts.ctx.blobs.raw, ts.ctx.db, ts.ctx.blobs.keys);
    // Counted from when the fleet is provisioned and its jobs queued: the sessions' commits only.
    const since = { cpu: process.cpuUsage() };
    const fleet = await backupFleetClient(ts, () => {
      commits.n = 0;
      since.cpu = process.cpuUsage();
    });
    return { ts, commits, since, client: fleet };
  };
  const { ts, commits, since, client } = await serve('packs');
  const complete = async (on: TestServer) =>
    Number(await value(on.ctx.db, sql`select count(*) as n from snapshots where status = 'complete'`));
  try {
    await client.next('ready');
    const round = async (on = { ts, commits, since, client }) => {
      const { ts, commits, since, client } = on;
      const done = client.next('fleet-done');
      const before = {
        snaps: await complete(ts),
        stored: (await blobStats(ts.ctx.db)).bytes,
      };
      client.send({ cmd: 'fleet', server: ts.dmUrl, devices, seed: 42, concurrency, encoding: 'mixed' });
      const r = await done;
      const cpu = process.cpuUsage(since.cpu);
      if (r.summary.failed > 0)
        throw new Error(
          `backup bench: ${r.summary.failed} sessions failed (${JSON.stringify(r.summary.errorsByKind)})`,
        );
      const backups = (await complete(ts)) - before.snaps;
      if (backups !== devices) throw new Error(`backup bench: ${backups} of ${devices} backups completed`);
      return {
        backups,
        ms: r.windowMs,
        stored: (await blobStats(ts.ctx.db)).bytes - before.stored,
        messages: r.summary.messages,
        cpuMsPerMessage: (cpu.user + cpu.system) / 1000 / r.summary.messages,
        commitsPerBackup: commits.n / backups,
      };
    };
    const first = await round();
    const second = await round(); // same seed, same handsets, nothing changed on them
    // The same first round on a loose-file store, in the same run (after, so it pays any warm-up less, not more).
    const other = await serve('loose');
    await other.client.next('ready');
    const loose = await round(other).finally(async () => {
      await other.client.stop().catch(() => undefined);
      await other.ts.close();
    });
    const rate = (x: { backups: number; ms: number }) => Math.round((x.backups / (x.ms / 1000)) * 10) / 10;
    const per = (x: { messages: number; backups: number }) => (x.messages / x.backups).toFixed(1);
    const r1 = (x: number) => Math.round(x * 100) / 100;
    const layouts: Row[] = [
      {
        name: `first full backups/s, packs (${devices} handsets)`,
        value: rate(first),
        unit: 'backups/s',
        baseline: `loose files: ${rate(loose)} in the same run`,
      },
      {
        name: 'server CPU per DM message of a first full backup, packs',
        value: r1(first.cpuMsPerMessage),
        unit: 'ms',
        baseline: `loose files: ${r1(loose.cpuMsPerMessage)}`,
      },
      {
        name: 'database commits per backup session, packs',
        value: r1(first.commitsPerBackup),
        unit: 'commits',
        baseline: `loose files: ${r1(loose.commitsPerBackup)}; DM messages a session: ${per(first)} / ${per(loose)}`,
      },
    ];
    return [
      ...layouts,
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
