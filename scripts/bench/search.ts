/**
 * Search benchmark: the console's search box against a million handsets. Seeds 1,000,000
 * handsets (about 670,000 subscribers) with `rewind seed`'s code into a database under the
 * system's temporary directory, kept for the next run (it is keyed by the fleet's size and
 * reused once complete), then times a few hundred mixed queries taken from the stored data:
 * MSISDNs in international, spaced and national form, IMEI prefixes, name and surname
 * prefixes and email prefixes. Every number query must find its subscriber first.
 *
 *   npx tsx scripts/bench/search.ts            (SEARCH_BENCH_DEVICES=100000 for a quicker run)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { sql } from 'drizzle-orm';
import { closeDb, openDb, type Db } from '../../db/client';
import { row, value } from '../../db/sql';
import { searchSubscribers } from '../../db/queries/search';
import { Rng } from '../../sim/random';
import { seedDevices } from '../../sim/seed';
import { SEARCH_LIMIT } from '../../lib/search/search';
import { formatRows, type Row } from './codec';

const DEVICES = Number(process.env.SEARCH_BENCH_DEVICES ?? 1_000_000);
const GOAL_P95_MS = 50;
const SEED_GOAL_S = 120;
const PER_KIND = 60;

/**
 * A database of `devices` seeded handsets under the system's temporary directory, from an
 * earlier run when one completed (keyed by `name` and the size); `prepare` adds what a bench
 * needs beyond the seed before the database counts as complete. The device-list bench uses it too.
 */
export async function seededFleetDb(
  name: string,
  devices: number,
  prepare?: (db: Db) => Promise<void>,
): Promise<{ db: Db; seededIn?: { wall: number; cpu: number } }> {
  const dir = path.join(os.tmpdir(), `rewind-bench-${name}-${devices}`);
  const file = path.join(dir, 'rewind.db');
  const ready = path.join(dir, 'complete');
  if (fs.existsSync(ready)) return { db: openDb(file) };
  fs.rmSync(dir, { recursive: true, force: true });
  const db = openDb(file);
  const started = performance.now();
  const cpu = process.cpuUsage();
  await seedDevices(db, devices, {
    seed: 7,
    onProgress: (n) => process.stderr.write(`  ${name} bench: seeded ${n.toLocaleString('en-US')} handsets\n`),
  });
  await prepare?.(db);
  const used = process.cpuUsage(cpu);
  const seededIn = { wall: (performance.now() - started) / 1000, cpu: (used.user + used.system) / 1e6 };
  fs.writeFileSync(ready, `${devices}\n`);
  return { db, seededIn };
}

interface Probe {
  kind: string;
  q: string;
  expect?: string;
}

/**
 * Queries drawn from the stored rows (rowids at random), in every form the box takes. The
 * bench's database is a SQLite file (openDb), so SQLite's rowid picks the rows.
 */
async function probes(db: Db): Promise<Probe[]> {
  const rng = new Rng(20_251_201);
  const max = async (t: string) => Number(await value(db, sql`select max(rowid) as n from ${sql.identifier(t)}`));
  const sample = async <T>(t: string, cols: string): Promise<T[]> => {
    const n = await max(t);
    const out: T[] = [];
    for (let i = 0; i < PER_KIND; i++) {
      out.push(
        (await row<T>(
          db,
          sql`select ${sql.raw(cols)} from ${sql.identifier(t)} where rowid >= ${rng.int(1, n)} order by rowid limit 1`,
        ))!,
      );
    }
    return out;
  };
  const out: Probe[] = [];
  for (const m of await sample<{ msisdn: string; sub: string }>('msisdns', 'msisdn, subscriber_id as sub')) {
    const n = m.msisdn.slice(2); // 7xxxxxxxxx
    out.push({ kind: 'MSISDN international', q: m.msisdn, expect: m.sub });
    out.push({ kind: 'MSISDN spaced', q: `+44 ${n.slice(0, 4)} ${n.slice(4)}`, expect: m.sub });
    out.push({ kind: 'MSISDN national', q: `0${n.slice(0, 4)} ${n.slice(4)}`, expect: m.sub });
  }
  for (const d of await sample<{ devId: string; sub: string }>('devices', 'dev_id as "devId", subscriber_id as sub')) {
    const digits = rng.int(8, 15);
    // A whole IMEI is one handset's; a shorter prefix is many, the TAC alone a third of the fleet.
    out.push({ kind: 'IMEI prefix', q: d.devId.slice(5, 5 + digits), ...(digits === 15 ? { expect: d.sub } : {}) });
  }
  for (const s of await sample<{ name: string; email: string | null }>('subscribers', 'name, email')) {
    const [first, last] = s.name.split(' ') as [string, string];
    out.push({ kind: 'name prefix', q: `${first} ${last.slice(0, 2)}` });
    out.push({ kind: 'surname prefix', q: last.slice(0, 4) });
    if (s.email) out.push({ kind: 'email prefix', q: s.email.slice(0, 8) });
  }
  return out;
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;
const ms = (x: number) => Math.round(x * 100) / 100;

export async function benchSearch(): Promise<Row[]> {
  const { db, seededIn } = await seededFleetDb('search', DEVICES);
  try {
    const qs = await probes(db);
    for (const p of qs) await searchSubscribers(db, p.q, SEARCH_LIMIT); // warm the page cache and the JIT
    const times: number[] = [];
    const byKind = new Map<string, number[]>();
    let missed = 0;
    for (let round = 0; round < 3; round++) {
      for (const p of qs) {
        const t0 = performance.now();
        const hits = await searchSubscribers(db, p.q, SEARCH_LIMIT);
        const t = performance.now() - t0;
        times.push(t);
        (byKind.get(p.kind) ?? byKind.set(p.kind, []).get(p.kind)!).push(t);
        if (round === 0 && (hits.length === 0 || (p.expect && hits[0]!.id !== p.expect))) missed++;
      }
    }
    if (missed) throw new Error(`search bench: ${missed} of ${qs.length} queries did not find their subscriber first`);
    times.sort((a, b) => a - b);
    const slowest = [...byKind]
      .map(([k, ts]) => [k, ts.sort((a, b) => a - b)] as const)
      .sort((a, b) => pct(b[1], 95) - pct(a[1], 95))[0]!;
    const fleet = `${DEVICES.toLocaleString('en-US')} handsets`;
    const rows: Row[] = [
      {
        name: `search, ${fleet}: p50`,
        value: ms(pct(times, 50)),
        unit: 'ms',
        baseline: `${qs.length} queries x 3: MSISDN (3 forms), IMEI, name, surname, email prefixes`,
      },
      {
        name: `search, ${fleet}: p95`,
        value: ms(pct(times, 95)),
        unit: 'ms',
        baseline: `goal < ${GOAL_P95_MS} ms; slowest kind ${slowest[0]} at p95 ${ms(pct(slowest[1], 95))} ms`,
      },
      { name: `search, ${fleet}: p99`, value: ms(pct(times, 99)), unit: 'ms' },
    ];
    if (seededIn)
      rows.unshift({
        name: `seed ${fleet}`,
        value: Math.round(seededIn.wall),
        unit: 's',
        baseline: `goal < ${SEED_GOAL_S} s; ${Math.round(seededIn.cpu)} s of CPU; kept for the next run`,
      });
    return rows;
  } finally {
    await closeDb(db);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  benchSearch().then(
    (rows) => console.log(formatRows(rows)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
