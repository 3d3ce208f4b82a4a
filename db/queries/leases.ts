/** Leases (db/schema.ts `leases`): one statement each, the same on SQLite and PostgreSQL. */
import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { exec, rows } from '../sql';

/**
 * Takes or renews the lease `name` for `holder` until `now + ttlMs`; true when `holder` has it.
 * The upsert only overwrites an expired lease or the holder's own, so two processes asking at
 * once cannot both get it: the row it returns (none when the lease stayed another's) says who
 * holds it, with no second read that another process's write could come between.
 */
export async function acquireLease(
  db: Db,
  name: string,
  holder: string,
  ttlMs: number,
  now = Date.now(),
): Promise<boolean> {
  const got = await rows<{ holder: string }>(
    db,
    sql`
    insert into leases (name, holder, expires_at) values (${name}, ${holder}, ${now + ttlMs})
    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
    where leases.expires_at < ${now} or leases.holder = excluded.holder
    returning holder`,
  );
  return got[0]?.holder === holder;
}

/** Gives the lease up (a clean shutdown), so another process need not wait for it to expire. */
export async function releaseLease(db: Db, name: string, holder: string): Promise<void> {
  await exec(db, sql`delete from leases where name = ${name} and holder = ${holder}`);
}

/** Drops the leases named `prefix…` that expired before `before` (heartbeats of processes long gone). */
export async function dropExpiredLeases(db: Db, prefix: string, before: number): Promise<number> {
  return exec(db, sql`delete from leases where name like ${`${prefix}%`} and expires_at < ${before}`);
}
