/**
 * Device list benchmark: the console's /devices page (one page of 50 and the match count, counted up to DEVICE_COUNT_CAP)
 * against a million handsets, over the filters and sorts admins use: a model without a backup
 * for a week sorted by backup age, never backed up, a firmware range, an MSISDN prefix, a rule
 * group, an open alert, and deep pages followed by cursor. Seeded with `rewind seed`'s code
 * (search.ts seededFleetDb; models, firmware, last seen and last good backup spread as
 * sim/seed.ts draws them), with a snapshot behind each good backup, kept for the next run.
 *
 * Beside it, the baseline: the same queries in the same run computing each handset's last
 * good backup from its snapshots with the correlated subquery the fleet page used
 * (db/queries/status.ts), i.e. without the denormalised column. A second connection shadows
 * `devices` with a temporary view that computes the column that way, so the very same code
 * (deviceWhere, deviceListPage, countDevicesUpTo) runs both.
 *
 *   npx tsx scripts/bench/device-list.ts      (DEVICE_LIST_BENCH_DEVICES=100000 for a quicker run)
 */
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { closeDb, openDb, sqliteClient, type Db } from '../../db/client';
import { column, exec, row, value } from '../../db/sql';
import { countDevicesUpTo, deviceListKey, deviceListPage, deviceWhere } from '../../db/queries/device-list';
import { DEVICE_COUNT_CAP } from '../../lib/devices/list';
import type { DeviceListKey, DeviceListQuery } from '../../lib/devices/filter';
import { Rng } from '../../sim/random';
import { formatRows, type Row } from './codec';
import { seededFleetDb } from './search';

const DEVICES = Number(process.env.DEVICE_LIST_BENCH_DEVICES ?? 1_000_000);
const GOAL_P95_MS = 100;
const PAGE = 50;
const DAY = 86_400_000;
/** Each probe's kind is drawn this many times. */
const PER_KIND = 30;
/** The baseline is far slower: this many of each kind. */
const BASELINE_PER_KIND = 3;

/**
 * What the seed does not make: a snapshot behind each last good backup (and an older one for
 * most), the rule groups admins keep, and open alerts on a few handsets.
 */
async function prepare(db: Db): Promise<void> {
  process.stderr.write('  device-list bench: snapshots, groups and alerts\n');
  await exec(
    db,
    sql`insert into snapshots (id, device_id, trigger, status, categories, started_at, completed_at)
      select lower(hex(randomblob(16))), id, 'scheduled', 'complete', '["settings"]', last_good_backup_at - 60000, last_good_backup_at
      from devices where last_good_backup_at is not null`,
  );
  await exec(
    db,
    sql`insert into snapshots (id, device_id, trigger, status, categories, started_at, completed_at)
      select lower(hex(randomblob(16))), id, 'scheduled', 'complete', '["settings"]', last_good_backup_at - ${DAY + 60_000}, last_good_backup_at - ${DAY}
      from devices where last_good_backup_at is not null and abs(random()) % 4 <> 0`,
  );
  const models = await column<string>(db, sql`select distinct model from devices order by model`);
  for (const [i, m] of models.entries())
    await exec(
      db,
      sql`insert into device_groups (id, name, kind, rule, priority, created_at)
        values (${`bench-group-${i}`}, ${`${m} gone quiet`}, 'rule', ${JSON.stringify({ model: m, notSeenForDays: 14 })}, 100, ${Date.now()})`,
    );
  await exec(
    db,
    sql`insert into alerts (id, kind, condition_key, device_id, message, details, status, raised_at)
      select lower(hex(randomblob(16))), 'no-good-backup', 'bench:' || id, id, 'no good backup', '{}', 'open', ${Date.now()}
      from devices where abs(random()) % 500 = 0`,
  );
  await exec(db, sql`analyze`);
}

interface Probe {
  kind: string;
  query: DeviceListQuery;
  /** Pages to follow by cursor before the one timed (a deep page). */
  deep?: number;
}

/** Realistic filter and sort combinations, drawn from the stored models, firmware and numbers. */
async function probes(db: Db): Promise<Probe[]> {
  const rng = new Rng(20_261_207);
  const models = await column<string>(db, sql`select distinct model from devices order by model`);
  const firmware = await column<string>(db, sql`select distinct firmware from devices order by firmware_key`);
  const groups = await column<string>(db, sql`select name from device_groups order by name`);
  const maxRow = Number(await value(db, sql`select max(rowid) from msisdns`));
  const q = (f: Partial<DeviceListQuery>): DeviceListQuery => ({ sort: 'devId', dir: 'asc', ...f });
  const out: Probe[] = [];
  for (let i = 0; i < PER_KIND; i++) {
    const model = rng.pick(models);
    const days = rng.pick([3, 7, 14, 30]);
    out.push({
      kind: 'model + no backup for N days, by backup age',
      query: q({ model, noBackupForDays: days, sort: 'lastBackup', dir: rng.pick(['asc', 'desc'] as const) }),
    });
    out.push({
      kind: 'never backed up',
      query: q({ coverage: 'never', sort: rng.pick(['devId', 'lastSeen'] as const) }),
    });
    const a = rng.int(0, firmware.length - 1);
    const b = rng.int(a, firmware.length - 1);
    out.push({
      kind: 'firmware range, by firmware',
      query: q({ firmwareFrom: firmware[a], firmwareTo: firmware[b], sort: 'firmware' }),
    });
    const m = await row<{ msisdn: string }>(
      db,
      sql`select msisdn from msisdns where rowid >= ${rng.int(1, maxRow)} order by rowid limit 1`,
    );
    out.push({ kind: 'MSISDN prefix', query: q({ msisdnPrefix: m!.msisdn.slice(0, rng.int(6, 9)) }) });
    out.push({
      kind: 'rule group, by last seen',
      query: q({ group: rng.pick(groups), sort: 'lastSeen', dir: 'desc' }),
    });
    out.push({ kind: 'open alert', query: q({ alert: 'any', sort: 'lastBackup' }) });
    out.push({
      kind: 'coverage older than a week, by model',
      query: q({ coverage: 'older', sort: 'model' }),
    });
    out.push({
      kind: 'page 20 by cursor, model by backup age',
      query: q({ model, sort: 'lastBackup', dir: 'desc' }),
      deep: 19,
    });
  }
  return out;
}

/** One probe as the page runs it: its page of 50 (after following `deep` pages) and its count. */
async function run(db: Db, p: Probe, now: number): Promise<number> {
  const where = await deviceWhere(db, p.query, now, { pageBy: p.query.sort });
  let after: DeviceListKey | undefined;
  for (let i = 0; i < (p.deep ?? 0); i++) {
    const r = await deviceListPage(db, { where, sort: p.query.sort, dir: p.query.dir, after, limit: PAGE + 1 });
    if (r.length < PAGE + 1) break;
    after = deviceListKey(r[PAGE - 1]!, p.query.sort);
  }
  const t0 = performance.now();
  const w = await deviceWhere(db, p.query, now, { pageBy: p.query.sort });
  await deviceListPage(db, { where: w, sort: p.query.sort, dir: p.query.dir, after, limit: PAGE + 1 });
  await countDevicesUpTo(db, await deviceWhere(db, p.query, now), DEVICE_COUNT_CAP);
  return performance.now() - t0;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ms = (x: number) => Math.round(x * 10) / 10;

async function measure(db: Db, qs: Probe[], now: number, rounds: number) {
  const times: number[] = [];
  const byKind = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++)
    for (const p of qs) {
      const t = await run(db, p, now);
      times.push(t);
      (byKind.get(p.kind) ?? byKind.set(p.kind, []).get(p.kind)!).push(t);
    }
  times.sort((a, b) => a - b);
  const kinds = [...byKind].map(([k, ts]) => [k, ts.sort((a, b) => a - b)] as const);
  return { times, kinds };
}

/** A second connection where `devices` is a view computing last_good_backup_at from the snapshots. */
function baselineDb(file: string): Db {
  const db = openDb(file);
  const c = sqliteClient(db)!;
  const cols = (c.prepare(`select name from pragma_table_info('devices')`).all() as Array<{ name: string }>)
    .map((r) => r.name)
    .filter((n) => n !== 'last_good_backup_at')
    .map((n) => `d.${n}`);
  c.exec(
    `create temp view devices as select ${cols.join(', ')},
       (select max(s.completed_at) from main.snapshots s where s.device_id = d.id and s.status = 'complete') as last_good_backup_at
     from main.devices d`,
  );
  return db;
}

export async function benchDeviceList(): Promise<Row[]> {
  const { db, seededIn } = await seededFleetDb('devices', DEVICES, prepare);
  const file = sqliteClient(db)!.name;
  const base = baselineDb(file);
  try {
    const now = Date.now();
    const qs = await probes(db);
    for (const p of qs) await run(db, p, now); // warm the page cache and the JIT
    const { times, kinds } = await measure(db, qs, now, 2);
    const sample = [...new Map(qs.map((p) => [p.kind, [] as Probe[]])).keys()].flatMap((k) =>
      qs.filter((p) => p.kind === k).slice(0, BASELINE_PER_KIND),
    );
    const b = await measure(base, sample, now, 1);
    const fleet = `${DEVICES.toLocaleString('en-US')} handsets`;
    const slowest = [...kinds].sort((x, y) => pct(y[1], 95) - pct(x[1], 95))[0]!;
    const rows: Row[] = [
      {
        name: `device list, ${fleet}: p50`,
        value: ms(pct(times, 50)),
        unit: 'ms',
        baseline: `last good backup from snapshots per handset (before): p50 ${ms(pct(b.times, 50))} ms`,
      },
      {
        name: `device list, ${fleet}: p95`,
        value: ms(pct(times, 95)),
        unit: 'ms',
        baseline: `goal < ${GOAL_P95_MS} ms; before: p95 ${ms(pct(b.times, 95))} ms; slowest kind ${slowest[0]} at p95 ${ms(pct(slowest[1], 95))} ms`,
      },
      {
        name: `device list, ${fleet}: p99`,
        value: ms(pct(times, 99)),
        unit: 'ms',
        baseline: `${times.length} page + count queries, ${kinds.length} kinds; before: p99 ${ms(pct(b.times, 99))} ms over ${b.times.length}`,
      },
      ...kinds.map(([k, ts]) => {
        const before = b.kinds.find(([bk]) => bk === k)?.[1] ?? [];
        return {
          name: `  ${k}: p95`,
          value: ms(pct(ts, 95)),
          unit: 'ms',
          baseline: before.length ? `before: p50 ${ms(pct(before, 50))} ms` : '',
        };
      }),
    ];
    if (seededIn)
      rows.unshift({
        name: `seed ${fleet} with snapshots`,
        value: Math.round(seededIn.wall),
        unit: 's',
        baseline: `${Math.round(seededIn.cpu)} s of CPU; kept for the next run`,
      });
    return rows;
  } finally {
    await closeDb(base);
    await closeDb(db);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchDeviceList().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
