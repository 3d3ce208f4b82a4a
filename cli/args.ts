/** Argument helpers shared by the backup, snapshot and profile commands. */
import { CATEGORIES, type Category } from '../lib/omadm/mo/backup-restore';
import { getDeviceByDevId, type DeviceRow } from '../db/queries/devices';
import type { Db } from '../db/client';
import { categoriesSchema, splitList } from '../lib/backup/schemas';
import { UsageError } from './usage';

export type Values = Record<string, string | boolean | undefined>;

/** Exactly these positional arguments (the missing or extra one named in the error). */
export function positionals(given: readonly string[], names: readonly string[]): string[] {
  if (given.length < names.length) throw new UsageError(`${names[given.length]} is required`);
  if (given.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(given[names.length])}`);
  return [...given];
}

/** --categories a,b: undefined when not given. */
export function categoriesOption(v: Values): Category[] | undefined {
  if (v.categories === undefined) return undefined;
  const r = categoriesSchema.safeParse(splitList(String(v.categories)));
  if (!r.success) throw new UsageError(`--categories takes a comma-separated list of ${CATEGORIES.join(', ')}`);
  return r.data;
}

/** The device named on the command line; an unknown one is a failed operation (exit 1), not a usage error. */
export async function deviceArg(db: Db, devId: string): Promise<DeviceRow> {
  const d = await getDeviceByDevId(db, devId);
  if (!d) throw new Error(`no device ${devId}`);
  return d;
}
