/** The catalogs as the API and the console's catalog page show them (public shapes from lib/restore/views.ts). */
import type { Db } from '@/db/client';
import { listAppPackages, listFirmwarePackages } from '@/db/queries/catalog';
import { listModels } from '@/db/queries/profiles';
import { publicAppPackage, publicFirmwarePackage } from '../restore/views';

export async function firmwareCatalog(db: Db) {
  return (await listFirmwarePackages(db)).map(publicFirmwarePackage);
}

export async function appCatalog(db: Db) {
  return (await listAppPackages(db)).map(publicAppPackage);
}

/** The catalog page: both catalogs, and the known models an app upload may be limited to. */
export async function catalogPage(db: Db) {
  const models = (await listModels(db)).map((m) => ({ manufacturer: m.manufacturer, model: m.model }));
  return { firmware: await firmwareCatalog(db), apps: await appCatalog(db), models };
}
