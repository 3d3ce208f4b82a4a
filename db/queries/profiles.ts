import { and, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { backupProfiles, deviceModels } from '../schema';

export type ModelRow = typeof deviceModels.$inferSelect;
export type ProfileRow = typeof backupProfiles.$inferSelect;

export function findModel(db: Db, manufacturer: string, model: string): ModelRow | undefined {
  return db.select().from(deviceModels).where(and(eq(deviceModels.manufacturer, manufacturer), eq(deviceModels.model, model))).get();
}

export function ensureModel(db: Db, manufacturer: string, model: string): ModelRow {
  db.insert(deviceModels).values({ manufacturer, model }).onConflictDoNothing().run();
  return findModel(db, manufacturer, model)!;
}

export function listModels(db: Db): ModelRow[] {
  return db.select().from(deviceModels).orderBy(deviceModels.manufacturer, deviceModels.model).all();
}

export function profileRows(db: Db, modelId: string): ProfileRow[] {
  return db.select().from(backupProfiles).where(eq(backupProfiles.modelId, modelId)).all();
}

/** Sets the paths of one category for a model (replacing what was there). */
export function setProfile(db: Db, modelId: string, category: string, paths: readonly string[]): void {
  const value = JSON.stringify(paths);
  db.insert(backupProfiles).values({ modelId, category, paths: value })
    .onConflictDoUpdate({ target: [backupProfiles.modelId, backupProfiles.category], set: { paths: value, updatedAt: Date.now() } }).run();
}
