import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { appPackages, firmwarePackages } from '../schema';

export type FirmwarePackageRow = typeof firmwarePackages.$inferSelect;
export type AppPackageRow = typeof appPackages.$inferSelect;

export async function upsertFirmwarePackage(
  db: Db,
  row: Omit<typeof firmwarePackages.$inferInsert, 'id' | 'createdAt'>,
): Promise<FirmwarePackageRow> {
  return (
    await db
      .insert(firmwarePackages)
      .values(row)
      .onConflictDoUpdate({
        target: [firmwarePackages.manufacturer, firmwarePackages.model, firmwarePackages.version],
        set: { blobHash: row.blobHash, size: row.size, name: row.name ?? null },
      })
      .returning()
  )[0]!;
}

export async function findFirmwarePackage(
  db: Db,
  manufacturer: string,
  model: string,
  version: string,
): Promise<FirmwarePackageRow | undefined> {
  return (
    await db
      .select()
      .from(firmwarePackages)
      .where(
        and(
          eq(firmwarePackages.manufacturer, manufacturer),
          eq(firmwarePackages.model, model),
          eq(firmwarePackages.version, version),
        ),
      )
      .limit(1)
  )[0];
}

export async function listFirmwarePackages(db: Db): Promise<FirmwarePackageRow[]> {
  return db
    .select()
    .from(firmwarePackages)
    .orderBy(firmwarePackages.manufacturer, firmwarePackages.model, firmwarePackages.version);
}

export async function upsertAppPackage(
  db: Db,
  row: Omit<typeof appPackages.$inferInsert, 'id' | 'createdAt'>,
): Promise<AppPackageRow> {
  return (
    await db
      .insert(appPackages)
      .values(row)
      .onConflictDoUpdate({
        target: [appPackages.appId, appPackages.version],
        set: {
          blobHash: row.blobHash,
          size: row.size,
          name: row.name,
          models: row.models ?? null,
          systemOf: row.systemOf ?? null,
        },
      })
      .returning()
  )[0]!;
}

export async function findAppPackage(db: Db, appId: string, version: string): Promise<AppPackageRow | undefined> {
  return (
    await db
      .select()
      .from(appPackages)
      .where(and(eq(appPackages.appId, appId), eq(appPackages.version, version)))
      .limit(1)
  )[0];
}

export async function listAppPackages(db: Db): Promise<AppPackageRow[]> {
  return db.select().from(appPackages).orderBy(appPackages.appId, appPackages.version);
}

/** A package of either catalog by id (what /packages/<id> serves). */
export async function findPackageById(
  db: Db,
  id: string,
): Promise<{ blobHash: string; size: number; kind: 'firmware' | 'app' } | undefined> {
  const [fw] = await db.select().from(firmwarePackages).where(eq(firmwarePackages.id, id)).limit(1);
  if (fw) return { blobHash: fw.blobHash, size: fw.size, kind: 'firmware' };
  const [app] = await db.select().from(appPackages).where(eq(appPackages.id, id)).limit(1);
  return app ? { blobHash: app.blobHash, size: app.size, kind: 'app' } : undefined;
}
