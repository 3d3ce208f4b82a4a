import { eq } from 'drizzle-orm';
import type { Db } from '../client';
import { policies } from '../schema';

export type PolicyRow = typeof policies.$inferSelect;
export type NewPolicy = typeof policies.$inferInsert;

export function getPolicy(db: Db, id: string): PolicyRow | undefined {
  return db.select().from(policies).where(eq(policies.id, id)).get();
}

export function getDefaultPolicy(db: Db): PolicyRow | undefined {
  return db.select().from(policies).where(eq(policies.isDefault, true)).get();
}

export function listPolicies(db: Db): PolicyRow[] {
  return db.select().from(policies).orderBy(policies.name).all();
}

export function insertPolicy(db: Db, p: Omit<NewPolicy, 'id' | 'createdAt'>): PolicyRow {
  return db.insert(policies).values(p).returning().get();
}

export function updatePolicy(db: Db, id: string, patch: Partial<Omit<NewPolicy, 'id'>>): void {
  db.update(policies).set(patch).where(eq(policies.id, id)).run();
}
