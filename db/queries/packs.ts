/** The pack index (lib/backup/packs.ts): which pack holds each owner's value, and how full each pack is. */
import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows, value } from '../sql';
import { preparedRows, preparedSql } from '../prepared';
import { chunks } from './chunks';

export interface PackedValue {
  owner: string;
  hash: string;
  packId: string;
  offset: number;
  length: number;
}

// Raw SQL, multi-row statements: these run on every DM message that brings values, and on
// PostgreSQL each statement is a round trip.

const list = (items: readonly string[]) =>
  sql.join(
    items.map((h) => sql`${h}`),
    sql`, `,
  );

/** Where `owner`'s values among `hashes` are packed. */
export async function packedFor(db: Db, owner: string, hashes: readonly string[]): Promise<Map<string, PackedValue>> {
  const out = new Map<string, PackedValue>();
  for (const part of chunks(hashes))
    for (const r of await rows<PackedValue>(
      db,
      sql`select owner, hash, pack_id as "packId", "offset", length from pack_values
        where owner = ${owner} and hash in (${list(part)})`,
    ))
      out.set(r.hash, { ...r, offset: Number(r.offset), length: Number(r.length) });
  return out;
}

/** Every owner's copy of one value. */
export async function packedCopies(db: Db, hash: string): Promise<PackedValue[]> {
  return (
    await rows<PackedValue>(
      db,
      sql`select owner, hash, pack_id as "packId", "offset", length from pack_values where hash = ${hash}`,
    )
  ).map((r) => ({ ...r, offset: Number(r.offset), length: Number(r.length) }));
}

export async function isPacked(db: Db, hash: string): Promise<boolean> {
  return (await value(db, sql`select 1 from pack_values where hash = ${hash} limit 1`)) !== undefined;
}

/**
 * Records values just appended to `packId` (already durable) and the pack's size now. A
 * copy another writer recorded first stays; ours is then dead bytes that repacking reclaims.
 */
export async function recordPacked(
  db: Db,
  pack: { id: string; owner: string; size: number; createdAt: number },
  values: ReadonlyArray<{ hash: string; offset: number; length: number }>,
): Promise<void> {
  await notePack(db, pack);
  const now = Date.now();
  for (let i = 0; i < values.length; i += 500)
    await packedRows.exec(
      db,
      values
        .slice(i, i + 500)
        .map((v) => ({ owner: pack.owner, hash: v.hash, packId: pack.id, offset: v.offset, length: v.length, now })),
    );
}

const packedRows = preparedRows(
  sql`insert into pack_values (owner, hash, pack_id, "offset", length, created_at) values`,
  (v: { owner: string; hash: string; packId: string; offset: number; length: number; now: number }) =>
    sql`(${v.owner}, ${v.hash}, ${v.packId}, ${v.offset}, ${v.length}, ${v.now})`,
  sql`on conflict do nothing`,
);

/** Records a pack, or the size it has grown to. */
export async function notePack(
  db: Db,
  pack: { id: string; owner: string; size: number; createdAt: number },
): Promise<void> {
  await upsertPack.exec(db, pack);
}

const upsertPack = preparedSql(
  (pack: { id: string; owner: string; size: number; createdAt: number }) =>
    sql`insert into packs (id, owner, size, created_at) values (${pack.id}, ${pack.owner}, ${pack.size}, ${pack.createdAt})
      on conflict (id) do update set size = excluded.size`,
);

/** Every hash some owner has packed, once each. */
export async function packedHashes(db: Db): Promise<string[]> {
  return (await rows<{ hash: string }>(db, sql`select distinct hash from pack_values order by hash`)).map(
    (r) => r.hash,
  );
}

/** Packed values with no blobs row (content stored without one), for the collector. */
export async function packedAges(db: Db): Promise<Array<{ hash: string; length: number; createdAt: number }>> {
  return (
    await rows<{ hash: string; length: number; createdAt: number }>(
      db,
      sql`select hash, max(length) as length, max(created_at) as "createdAt" from pack_values group by hash`,
    )
  ).map((r) => ({ hash: r.hash, length: Number(r.length), createdAt: Number(r.createdAt) }));
}

/** Forgets every owner's copy of `hashes` (garbage collection's sweep). */
export async function deletePackedHashes(db: Db, hashes: readonly string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(hashes)) n += await exec(db, sql`delete from pack_values where hash in (${list(part)})`);
  return n;
}

/** Forgets everything the owners packed (erasure): their packs then hold no live bytes. */
export async function deletePackedOf(db: Db, owners: readonly string[]): Promise<number> {
  let n = 0;
  for (const part of chunks(owners)) n += await exec(db, sql`delete from pack_values where owner in (${list(part)})`);
  return n;
}

export interface PackUsage {
  id: string;
  owner: string;
  size: number;
  createdAt: number;
  live: number;
  values: number;
  /** Whether the owner still has a data key (none: erased). */
  keyed: boolean;
}

/** Each pack with its live bytes (what the index still points at). */
export async function packUsage(db: Db): Promise<PackUsage[]> {
  return (
    await rows<PackUsage>(
      db,
      sql`select p.id, p.owner, p.size, p.created_at as "createdAt",
          coalesce(sum(v.length), 0) as live, count(v.hash) as "values",
          (select count(*) from content_keys k where k.owner = p.owner) as keyed
        from packs p left join pack_values v on v.pack_id = p.id
        group by p.id, p.owner, p.size, p.created_at`,
    )
  ).map((r) => ({
    ...r,
    size: Number(r.size),
    createdAt: Number(r.createdAt),
    live: Number(r.live),
    values: Number(r.values),
    keyed: Number(r.keyed) > 0,
  }));
}

export async function packIds(db: Db): Promise<Set<string>> {
  return new Set((await rows<{ id: string }>(db, sql`select id from packs`)).map((r) => r.id));
}

/** The values the index places in `packId`, in pack order. */
export async function valuesIn(db: Db, packId: string): Promise<PackedValue[]> {
  return (
    await rows<PackedValue>(
      db,
      sql`select owner, hash, pack_id as "packId", "offset", length from pack_values
        where pack_id = ${packId} order by "offset"`,
    )
  ).map((r) => ({ ...r, offset: Number(r.offset), length: Number(r.length) }));
}

/** Points values at their copies in another pack, where they are still in `from`; how many moved. */
export async function movePacked(
  db: Db,
  from: string,
  to: string,
  moves: ReadonlyArray<{ owner: string; hash: string; offset: number }>,
): Promise<number> {
  let n = 0;
  for (const m of moves)
    n += await exec(
      db,
      sql`update pack_values set pack_id = ${to}, "offset" = ${m.offset}
        where owner = ${m.owner} and hash = ${m.hash} and pack_id = ${from}`,
    );
  return n;
}

/** Drops a pack's row once no value points into it; whether it did (then its file may go). */
export async function dropEmptyPack(db: Db, packId: string): Promise<boolean> {
  return (
    (await exec(
      db,
      sql`delete from packs where id = ${packId} and not exists (select 1 from pack_values where pack_id = ${packId})`,
    )) > 0
  );
}

export async function packStats(db: Db): Promise<{ packs: number; values: number; bytes: number }> {
  const r = (
    await rows<{ packs: number; values: number; bytes: number }>(
      db,
      sql`select (select count(*) from packs) as packs, (select count(*) from pack_values) as "values",
        (select coalesce(sum(size), 0) from packs) as bytes`,
    )
  )[0];
  return { packs: Number(r?.packs ?? 0), values: Number(r?.values ?? 0), bytes: Number(r?.bytes ?? 0) };
}
