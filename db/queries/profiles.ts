import { and, eq, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { backupProfiles, deviceModels } from '../schema';
import { prepared } from '../prepared';

export type ModelRow = typeof deviceModels.$inferSelect;
export type ProfileRow = typeof backupProfiles.$inferSelect;

const modelByName = prepared((db, v: { manufacturer: string; model: string }) =>
  db
    .select()
    .from(deviceModels)
    .where(and(eq(deviceModels.manufacturer, v.manufacturer), eq(deviceModels.model, v.model)))
    .limit(1),
);

export async function findModel(db: Db, manufacturer: string, model: string): Promise<ModelRow | undefined> {
  return (await modelByName(db, { manufacturer, model }))[0];
}

export async function ensureModel(db: Db, manufacturer: string, model: string): Promise<ModelRow> {
  await db.insert(deviceModels).values({ manufacturer, model }).onConflictDoNothing();
  return (await findModel(db, manufacturer, model))!;
}

export async function listModels(db: Db): Promise<ModelRow[]> {
  return db.select().from(deviceModels).orderBy(deviceModels.manufacturer, deviceModels.model);
}

const profilesOf = prepared((db, v: { modelId: string }) =>
  db.select().from(backupProfiles).where(eq(backupProfiles.modelId, v.modelId)),
);

export async function profileRows(db: Db, modelId: string): Promise<ProfileRow[]> {
  return profilesOf(db, { modelId });
}

/** Sets the paths of one category for a model (replacing what was there). */
export async function setProfile(db: Db, modelId: string, category: string, paths: readonly string[]): Promise<void> {
  const value = JSON.stringify(paths);
  await db
    .insert(backupProfiles)
    .values({ modelId, category, paths: value })
    .onConflictDoUpdate({
      target: [backupProfiles.modelId, backupProfiles.category],
      set: { paths: value, updatedAt: Date.now() },
    });
}

/** What a backup learned about how the model finds changes (written only when it differs or is stale). */
export async function setModelChangeDetection(
  db: Db,
  modelId: string,
  how: NonNullable<ModelRow['changeDetection']>,
  at: number,
): Promise<void> {
  await db
    .update(deviceModels)
    .set({ changeDetection: how, changeDetectionAt: at })
    .where(eq(deviceModels.id, modelId));
}

/** A verification walk found a handset of this model claiming "unchanged" over a change. */
export async function recordDigestDefect(db: Db, modelId: string, what: string, at: number): Promise<void> {
  await db
    .update(deviceModels)
    .set({ digestDefects: sql`${deviceModels.digestDefects} + 1`, lastDigestDefect: what, lastDigestDefectAt: at })
    .where(eq(deviceModels.id, modelId));
}
