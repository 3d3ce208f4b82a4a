/**
 * The wake budget's ledger (db/schema.ts `wake_minutes`): how many Package #0 every server
 * process together sent in each minute. A process takes its share before it sends, under
 * the row's lock, so processes asking at once never take more than the minute holds.
 */
import { sql } from 'drizzle-orm';
import { isPg, type Db } from '../client';
import { exec, value } from '../sql';

export const minuteOf = (ms: number) => Math.floor(ms / 60_000);

/** Takes up to `want` of `budget` for `minute`; how many it got (0 once the minute is spent). */
export async function takeWakeBudget(db: Db, minute: number, want: number, budget: number): Promise<number> {
  if (want <= 0) return 0;
  return db.transaction(async (tx) => {
    await exec(tx, sql`insert into wake_minutes (minute, sent) values (${minute}, 0) on conflict (minute) do nothing`);
    // SQLite's transaction holds the write lock from its start; PostgreSQL locks the row.
    const sent = Number(
      (await value<number>(
        tx,
        sql`select sent from wake_minutes where minute = ${minute}${isPg(tx) ? sql` for update` : sql``}`,
      )) ?? 0,
    );
    const granted = Math.max(0, Math.min(want, budget - sent));
    if (granted > 0) await exec(tx, sql`update wake_minutes set sent = sent + ${granted} where minute = ${minute}`);
    return granted;
  });
}

/** Gives back what was taken and not sent (fewer wakes were due than asked for). */
export async function returnWakeBudget(db: Db, minute: number, unused: number): Promise<void> {
  if (unused > 0)
    await exec(
      db,
      sql`update wake_minutes set sent = case when sent > ${unused} then sent - ${unused} else 0 end where minute = ${minute}`,
    );
}

/** How many were sent in `minute`. */
export async function wakesSentIn(db: Db, minute: number): Promise<number> {
  return Number((await value<number>(db, sql`select sent from wake_minutes where minute = ${minute}`)) ?? 0);
}

/** Drops the minutes before `minute` (a row a minute; yesterday's are of no use). */
export async function pruneWakeMinutes(db: Db, before: number): Promise<number> {
  return exec(db, sql`delete from wake_minutes where minute < ${before}`);
}
