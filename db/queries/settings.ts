/** Settings an admin changes at run time (db/schema.ts `settings`): one JSON value per key. */
import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { settings } from '../schema';

export async function getSetting(db: Db, key: string): Promise<unknown> {
  const r = (await db.select({ value: settings.value }).from(settings).where(eq(settings.key, key)).limit(1))[0];
  return r === undefined ? undefined : (JSON.parse(r.value) as unknown);
}

export async function putSetting(db: Db, key: string, value: unknown, updatedBy: string, now = Date.now()) {
  const json = JSON.stringify(value);
  await db
    .insert(settings)
    .values({ key, value: json, updatedBy, updatedAt: now })
    .onConflictDoUpdate({ target: settings.key, set: { value: json, updatedBy, updatedAt: now } });
}
