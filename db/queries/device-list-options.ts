/**
 * What the device list's filter bar offers: the models and firmware versions handsets report,
 * the groups and the policies. Models and versions are read by skipping through their indexes
 * (one index probe per distinct value, never a scan of a million handsets), so the page stays
 * as fast as its list.
 */
import { sql } from 'drizzle-orm';
import type { Db } from '../client';
import { rows } from '../sql';

/** At most this many distinct models or versions are offered. */
const OPTIONS_MAX = 500;

/** Every (manufacturer, model) some handset reports, in order. */
export async function listedModels(db: Db): Promise<Array<{ manufacturer: string; model: string }>> {
  const next = (after: ReturnType<typeof sql> | undefined, col: 'manufacturer' | 'model') =>
    sql`(select d.${sql.raw(col)} from devices d where d.manufacturer is not null and d.model is not null${
      after ? sql` and ${after}` : sql``
    } order by d.manufacturer, d.model limit 1)`;
  const later = sql`(d.manufacturer > m.man or (d.manufacturer = m.man and d.model > m.mod))`;
  return rows<{ manufacturer: string; model: string }>(
    db,
    sql`with recursive m(man, mod, n) as (
      select ${next(undefined, 'manufacturer')}, ${next(undefined, 'model')}, 1
      union all
      select ${next(later, 'manufacturer')}, ${next(later, 'model')}, m.n + 1 from m where m.man is not null and m.n < ${OPTIONS_MAX}
    ) select man as manufacturer, mod as model from m where man is not null`,
  );
}

/** Every firmware version some handset reports, in version order (by firmware_key). */
export async function listedFirmware(db: Db): Promise<string[]> {
  const r = await rows<{ firmware: string }>(
    db,
    sql`with recursive f(k, n) as (
      select (select min(firmware_key) from devices), 1
      union all
      select (select min(d.firmware_key) from devices d where d.firmware_key > f.k), f.n + 1 from f where f.k is not null and f.n < ${OPTIONS_MAX}
    ) select (select d.firmware from devices d where d.firmware_key = f.k limit 1) as firmware from f where f.k is not null order by f.k`,
  );
  return r.map((x) => x.firmware);
}

/** The device groups' names, and the policies' ids and names, in name order. */
export async function listedGroupsAndPolicies(
  db: Db,
): Promise<{ groups: string[]; policies: Array<{ id: string; name: string }> }> {
  const groups = await rows<{ name: string }>(db, sql`select name from device_groups order by name`);
  const policies = await rows<{ id: string; name: string }>(db, sql`select id, name from policies order by name`);
  return { groups: groups.map((g) => g.name), policies };
}
