import { and, asc, count, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, users, webSessions } from '../schema';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type WebSessionRow = typeof webSessions.$inferSelect;

export function insertUser(db: Db, u: NewUser): UserRow {
  return db.insert(users).values(u).returning().get();
}

/** `email` must already be lower-case (as stored). */
export function getUserByEmail(db: Db, email: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.email, email)).get();
}

export function getUser(db: Db, id: string): UserRow | undefined {
  return db.select().from(users).where(eq(users.id, id)).get();
}

export function countUsers(db: Db): number {
  return db.select({ n: count() }).from(users).get()?.n ?? 0;
}

export function updateUser(db: Db, id: string, patch: Partial<Pick<UserRow, 'failedAttempts' | 'lockedUntil' | 'lastSignInAt' | 'passwordHash'>>): void {
  db.update(users).set(patch).where(eq(users.id, id)).run();
}

export function insertWebSession(db: Db, s: { id: string; userId: string; expiresAt: number }): WebSessionRow {
  return db.insert(webSessions).values(s).returning().get();
}

/** The user of an unexpired session, by the session id (the token's hash). */
export function getSessionUser(db: Db, sessionId: string, now: number): { session: WebSessionRow; user: UserRow } | undefined {
  return db.select({ session: webSessions, user: users }).from(webSessions)
    .innerJoin(users, eq(users.id, webSessions.userId))
    .where(and(eq(webSessions.id, sessionId), gt(webSessions.expiresAt, now))).get();
}

export function deleteWebSession(db: Db, sessionId: string): void {
  db.delete(webSessions).where(eq(webSessions.id, sessionId)).run();
}

export function deleteExpiredWebSessions(db: Db, now: number): number {
  return db.delete(webSessions).where(lt(webSessions.expiresAt, now)).run().changes;
}

/**
 * A subscriber's own handsets: the subscriber id is in the where clause, so a viewer
 * only ever finds the devices that are theirs.
 */
export function devicesOfViewer(db: Db, viewer: { subscriberId: string | null }): Array<Pick<typeof devices.$inferSelect, 'id' | 'devId' | 'manufacturer' | 'model' | 'firmware' | 'lastSeenAt'>> {
  if (!viewer.subscriberId) return [];
  return db.select({
    id: devices.id, devId: devices.devId, manufacturer: devices.manufacturer, model: devices.model,
    firmware: devices.firmware, lastSeenAt: devices.lastSeenAt,
  }).from(devices).where(eq(devices.subscriberId, viewer.subscriberId)).orderBy(asc(devices.devId)).all();
}

/** A success: the count and any lock cleared. */
export function recordSignIn(db: Db, id: string, now: number): void {
  db.update(users).set({ failedAttempts: 0, lockedUntil: null, lastSignInAt: now }).where(eq(users.id, id)).run();
}

/**
 * A failure, counted atomically (two sign-ins at once both count). A lock that has run out
 * starts the count afresh; reaching `max` locks the account until `now + lockMs`.
 */
export function recordFailedSignIn(db: Db, id: string, now: number, max: number, lockMs: number): { failedAttempts: number; lockedUntil: number | null } {
  // One UPDATE: SQLite evaluates every SET expression against the row as it was.
  const expired = sql`${users.lockedUntil} is not null and ${users.lockedUntil} <= ${now}`;
  const next = sql`case when ${expired} then 1 else ${users.failedAttempts} + 1 end`;
  const row = db.update(users).set({
    failedAttempts: next,
    lockedUntil: sql`case when ${next} >= ${max} then ${now + lockMs} when ${expired} then null else ${users.lockedUntil} end`,
  }).where(eq(users.id, id)).returning({ failedAttempts: users.failedAttempts, lockedUntil: users.lockedUntil }).get();
  return row ?? { failedAttempts: 0, lockedUntil: null };
}

/** Every user for the admin list, without password hashes. */
export function listUsers(db: Db) {
  return db.select({
    id: users.id, email: users.email, role: users.role, subscriberId: users.subscriberId, failedAttempts: users.failedAttempts,
    lockedUntil: users.lockedUntil, createdAt: users.createdAt, lastSignInAt: users.lastSignInAt,
  }).from(users).orderBy(asc(users.email)).all();
}

export function setUserRole(db: Db, id: string, role: UserRow['role']): void {
  db.update(users).set({ role }).where(eq(users.id, id)).run();
}

export function deleteUser(db: Db, id: string): void {
  db.delete(users).where(eq(users.id, id)).run();
}

/** Signs a user out everywhere (after a password reset or a change of role). */
export function deleteUserSessions(db: Db, userId: string): number {
  return db.delete(webSessions).where(eq(webSessions.userId, userId)).run().changes;
}
