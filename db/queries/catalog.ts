import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { appPackages, firmwarePackages } from '../schema';

export type FirmwarePackageRow = typeof firmwarePackages.$inferSelect;
export type AppPackageRow = typeof appPackages.$inferSelect;

export function upsertFirmwarePackage(db: Db, row: Omit<typeof firmwarePackages.$inferInsert, 'id' | 'createdAt'>): FirmwarePackageRow {
  return db.insert(firmwarePackages).values(row)
    .onConflictDoUpdate({ target: [firmwarePackages.manufacturer, firmwarePackages.model, firmwarePackages.version], set: { blobHash: row.blobHash, size: row.size, name: row.name ?? null } })
    .returning().get();
}

export function findFirmwarePackage(db: Db, manufacturer: string, model: string, version: string): FirmwarePackageRow | undefined {
  return db.select().from(firmwarePackages)
    .where(and(eq(firmwarePackages.manufacturer, manufacturer), eq(firmwarePackages.model, model), eq(firmwarePackages.version, version))).get();
}

export function listFirmwarePackages(db: Db): FirmwarePackageRow[] {
  return db.select().from(firmwarePackages).orderBy(firmwarePackages.manufacturer, firmwarePackages.model, firmwarePackages.version).all();
}

export function upsertAppPackage(db: Db, row: Omit<typeof appPackages.$inferInsert, 'id' | 'createdAt'>): AppPackageRow {
  return db.insert(appPackages).values(row)
    .onConflictDoUpdate({ target: [appPackages.appId, appPackages.version], set: { blobHash: row.blobHash, size: row.size, name: row.name, models: row.models ?? null } })
    .returning().get();
}

export function findAppPackage(db: Db, appId: string, version: string): AppPackageRow | undefined {
  return db.select().from(appPackages).where(and(eq(appPackages.appId, appId), eq(appPackages.version, version))).get();
}

export function listAppPackages(db: Db): AppPackageRow[] {
  return db.select().from(appPackages).orderBy(appPackages.appId, appPackages.version).all();
}

/** A package of either catalog by id (what /packages/<id> serves). */
export function findPackageById(db: Db, id: string): { blobHash: string; size: number; kind: 'firmware' | 'app' } | undefined {
  const fw = db.select().from(firmwarePackages).where(eq(firmwarePackages.id, id)).get();
  if (fw) return { blobHash: fw.blobHash, size: fw.size, kind: 'firmware' };
  const app = db.select().from(appPackages).where(eq(appPackages.id, id)).get();
  return app ? { blobHash: app.blobHash, size: app.size, kind: 'app' } : undefined;
}
