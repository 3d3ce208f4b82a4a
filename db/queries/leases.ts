/** Leases (db/schema.ts `leases`): one statement each, the same on SQLite and PostgreSQL. */
import type { Db } from '../client';

/**
 * Takes or renews the lease `name` for `holder` until `now + ttlMs`; true when `holder` has it.
 * The upsert only overwrites an expired lease or the holder's own, so two processes asking at
 * once cannot both get it.
 */
export function acquireLease(db: Db, name: string, holder: string, ttlMs: number, now = Date.now()): boolean {
  return db.transaction(() => {
    db.$client.prepare(`
      insert into leases (name, holder, expires_at) values (?, ?, ?)
      on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
      where leases.expires_at < ? or leases.holder = excluded.holder`).run(name, holder, now + ttlMs, now);
    return db.$client.prepare('select holder from leases where name = ?').pluck().get(name) === holder;
  }, { behavior: 'immediate' });
}

/** Gives the lease up (a clean shutdown), so another process need not wait for it to expire. */
export function releaseLease(db: Db, name: string, holder: string): void {
  db.$client.prepare('delete from leases where name = ? and holder = ?').run(name, holder);
}
