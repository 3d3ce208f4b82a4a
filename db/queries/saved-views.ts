import { and, asc, eq } from 'drizzle-orm';
import type { Db } from '../client';
import { savedViews } from '../schema';

export type SavedViewRow = typeof savedViews.$inferSelect;

/** A user's saved device-list views, by name. */
export async function savedViewsOf(db: Db, userId: string): Promise<SavedViewRow[]> {
  return db.select().from(savedViews).where(eq(savedViews.userId, userId)).orderBy(asc(savedViews.name));
}

/** Saves a view under its name, replacing the user's view of that name (a name is unique per user). */
export async function putSavedView(db: Db, v: { userId: string; name: string; query: string }): Promise<SavedViewRow> {
  return (
    await db
      .insert(savedViews)
      .values(v)
      .onConflictDoUpdate({ target: [savedViews.userId, savedViews.name], set: { query: v.query } })
      .returning()
  )[0]!;
}

/** Deletes one of the user's views; undefined when the user has none with that id. */
export async function deleteSavedView(db: Db, userId: string, id: string): Promise<SavedViewRow | undefined> {
  return (
    await db
      .delete(savedViews)
      .where(and(eq(savedViews.id, id), eq(savedViews.userId, userId)))
      .returning()
  )[0];
}
