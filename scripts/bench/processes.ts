/**
 * Throughput with one server process and with three over the same database and blob store,
 * on SQLite (WAL mode, one DATA_DIR) and on PostgreSQL (a local server: BENCH_DATABASE_URL, or
 * the throwaway cluster of scripts/test-postgres.sh; content in files under one DATA_DIR in
 * both, so the figures differ by the database alone): the same fleet of virtual handsets backs
 * up once with every message going to the next process in turn. Each server is a child process
 * (`scripts/start.ts --protocol-only`); the handsets run here. On a machine with fewer cores
 * than processes plus handsets, the second figure measures sharing, not scaling: the report
 * prints the core count beside it.
 *
 *   npx tsx scripts/bench/processes.ts
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { formatRows, type Row } from './codec';

export async function benchProcesses(opts: { devices?: number; concurrency?: number } = {}): Promise<Row[]> {
  const devices = opts.devices ?? 120;
  const concurrency = opts.concurrency ?? 24;
  process.env.LOG_LEVEL = 'silent';
  const { closeDb, dbFile, migrateDb, openDb, openPgDb } = await import('../../db/client');
  const { value } = await import('../../db/sql');
  const { sql } = await import('drizzle-orm');
  const { getDeviceByDevId } = await import('../../db/queries/devices');
  const { getJob } = await import('../../db/queries/jobs');
  const { createBackupJob } = await import('../../lib/backup/jobs');
  const { openFleet } = await import('../../sim/fleet');
  const { roundRobinTransport } = await import('../../sim/transport');
  const { describeVirtualModels, provisionFleet } = await import('../../sim/provision');
  const { spawnChildServer } = await import('../../test/support/child-server');

  const run = async (processes: number, database: 'sqlite' | 'pg') => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rewind-bench-procs-${processes}-`));
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rewind-bench-procs-handsets-'));
    const url =
      database === 'pg'
        ? await freshDatabase(pgAdmin!, `rewind_bench_${processes}_${Date.now().toString(36)}`)
        : undefined;
    const db = url ? openPgDb(url) : openDb(dbFile(dataDir));
    await migrateDb(db);
    const servers = await Promise.all(
      Array.from({ length: processes }, () =>
        spawnChildServer({ dataDir, env: { LOG_LEVEL: 'silent', ...(url ? { DATABASE_URL: url } : {}) } }),
      ),
    );
    try {
      await describeVirtualModels(db);
      const handsets = openFleet({
        server: servers[0]!.dmUrl,
        devices,
        stateDir,
        encoding: 'mixed',
        auth: 'md5',
        mediaScale: 0.01,
        seed: 77,
        handset: { transport: roundRobinTransport(servers.map((s) => s.port)) },
      });
      await provisionFleet(
        db,
        handsets.map((h) => ({ ...h.identity, nonces: { ...h.state.nonces } })),
      );
      const jobs: string[] = [];
      for (const h of handsets)
        jobs.push(
          (await createBackupJob(db, (await getDeviceByDevId(db, h.devId))!, { trigger: 'on-demand', actor: 'bench' }))
            .job.id,
        );
      const commits = async () =>
        url
          ? Number(await value(db, sql`select xact_commit from pg_stat_database where datname = current_database()`))
          : 0;
      const commitsBefore = await commits();
      let messages = 0;
      let i = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (i < handsets.length) {
            const s = await handsets[i++]!.connect({ initiator: 'client' });
            messages += s.messagesOut + s.messagesIn;
          }
        }),
      );
      const ms = performance.now() - started;
      let ok = 0;
      for (const id of jobs) if ((await getJob(db, id))?.status === 'succeeded') ok++;
      if (ok !== devices)
        throw new Error(
          `${devices - ok} of ${devices} backups did not succeed with ${processes} process(es) on ${database}`,
        );
      // What a backup costs the database: commits, and bytes on disk per handset (tables and
      // indexes, after one complete backup each), the figures the deployment guide sizes from.
      const commitsPerBackup = url ? ((await commits()) - commitsBefore) / devices : 0;
      const bytesPerHandset = url
        ? Number(
            await value(
              db,
              sql`select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`,
            ),
          ) / devices
        : 0;
      return {
        backupsPerS: (devices / ms) * 1000,
        messagesPerS: (messages / ms) * 1000,
        commitsPerBackup,
        bytesPerHandset,
        messagesPerBackup: messages / devices / 2,
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await closeDb(db);
      if (url) await dropDatabase(pgAdmin!, new URL(url).pathname.slice(1));
      fs.rmSync(dataDir, { recursive: true, force: true });
      fs.rmSync(stateDir, { recursive: true, force: true });
    }
  };

  const pgAdmin = postgresForBench();
  const round = (n: number) => Math.round(n * 10) / 10;
  const rows: Row[] = [];
  for (const database of ['sqlite', 'pg'] as const) {
    const label = database === 'pg' ? 'PostgreSQL' : 'SQLite';
    if (database === 'pg' && !pgAdmin) {
      rows.push({
        name: 'processes: PostgreSQL',
        value: NaN,
        unit: '',
        baseline: 'skipped: no PostgreSQL (set BENCH_DATABASE_URL or install postgresql)',
      });
      continue;
    }
    const one = await run(1, database);
    const three = await run(3, database);
    rows.push(
      {
        name: `processes: backups/s, 1 process (${label}, ${devices} handsets)`,
        value: round(one.backupsPerS),
        unit: '/s',
        baseline: `${round(one.messagesPerS)} messages/s`,
      },
      {
        name: `processes: backups/s, 3 processes round robin (${label})`,
        value: round(three.backupsPerS),
        unit: '/s',
        baseline: `${round(three.messagesPerS)} messages/s; ${(three.backupsPerS / one.backupsPerS).toFixed(2)}x on ${os.cpus().length} cores`,
      },
    );
    if (database === 'pg') {
      rows.push(
        {
          name: 'processes: PostgreSQL commits per backup session',
          value: round(three.commitsPerBackup),
          unit: '',
          baseline: `${round(three.messagesPerBackup)} round trips per session`,
        },
        {
          name: 'processes: PostgreSQL bytes per handset after a backup',
          value: Math.round(three.bytesPerHandset),
          unit: 'B',
          baseline: 'tables and indexes, content in the blob store',
        },
      );
    }
  }
  return rows;
}

/** An admin URL of a PostgreSQL server to make bench databases in, or undefined. */
function postgresForBench(): string | undefined {
  if (process.env.BENCH_DATABASE_URL) return process.env.BENCH_DATABASE_URL;
  try {
    return execFileSync('bash', ['scripts/test-postgres.sh'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function adminQuery(admin: string, text: string): Promise<void> {
  const c = new pg.Client(admin);
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

async function freshDatabase(admin: string, name: string): Promise<string> {
  await adminQuery(admin, `create database "${name}"`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return u.toString();
}

async function dropDatabase(admin: string, name: string): Promise<void> {
  await adminQuery(admin, `drop database if exists "${name}" with (force)`);
}

if (import.meta.url === pathToFileURL(process.argv[1]!).href) {
  benchProcesses().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
