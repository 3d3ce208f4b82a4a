import { and, asc, count, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { devices, users, webSessions } from '../schema';

export type UserRow = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type WebSessionRow = typeof webSessions.$inferSelect;

export async function insertUser(db: Db, u: NewUser): Promise<UserRow> {
  return (await db.insert(users).values(u).returning())[0]!;
}

/** `email` must already be lower-case (as stored). */
export async function getUserByEmail(db: Db, email: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.email, email)).limit(1))[0];
}

/** The staff member who signs in through OpenID Connect as `<issuer> <sub>`. */
export async function getUserBySsoSubject(db: Db, ssoSubject: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.ssoSubject, ssoSubject)).limit(1))[0];
}

/** A single sign-on: the user's role and email as the provider says now, and their subject linked. */
export async function updateSsoUser(
  db: Db,
  id: string,
  patch: Pick<UserRow, 'role' | 'email' | 'ssoSubject' | 'lastSignInAt'>,
): Promise<UserRow> {
  return (await db.update(users).set(patch).where(eq(users.id, id)).returning())[0]!;
}

export async function getUser(db: Db, id: string): Promise<UserRow | undefined> {
  return (await db.select().from(users).where(eq(users.id, id)).limit(1))[0];
}

export async function countUsers(db: Db): Promise<number> {
  return (await db.select({ n: count() }).from(users).limit(1))[0]?.n ?? 0;
}

export async function updateUser(
  db: Db,
  id: string,
  patch: Partial<Pick<UserRow, 'failedAttempts' | 'lockedUntil' | 'lastSignInAt' | 'passwordHash'>>,
): Promise<void> {
  await db.update(users).set(patch).where(eq(users.id, id));
}

export async function insertWebSession(
  db: Db,
  s: { id: string; userId: string; expiresAt: number },
): Promise<WebSessionRow> {
  return (await db.insert(webSessions).values(s).returning())[0]!;
}

/** The user of an unexpired session, by the session id (the token's hash). */
export async function getSessionUser(
  db: Db,
  sessionId: string,
  now: number,
): Promise<{ session: WebSessionRow; user: UserRow } | undefined> {
  return (
    await db
      .select({ session: webSessions, user: users })
      .from(webSessions)
      .innerJoin(users, eq(users.id, webSessions.userId))
      .where(and(eq(webSessions.id, sessionId), gt(webSessions.expiresAt, now)))
      .limit(1)
  )[0];
}

export async function deleteWebSession(db: Db, sessionId: string): Promise<void> {
  await db.delete(webSessions).where(eq(webSessions.id, sessionId));
}

export async function deleteExpiredWebSessions(db: Db, now: number): Promise<number> {
  return (await db.delete(webSessions).where(lt(webSessions.expiresAt, now)).returning({ id: webSessions.id })).length;
}

/**
 * A subscriber's own handsets: the subscriber id is in the where clause, so a viewer
 * only ever finds the devices that are theirs.
 */
export async function devicesOfViewer(
  db: Db,
  viewer: { subscriberId: string | null },
): Promise<
  Array<Pick<typeof devices.$inferSelect, 'id' | 'devId' | 'manufacturer' | 'model' | 'firmware' | 'lastSeenAt'>>
> {
  if (!viewer.subscriberId) return [];
  return db
    .select({
      id: devices.id,
      devId: devices.devId,
      manufacturer: devices.manufacturer,
      model: devices.model,
      firmware: devices.firmware,
      lastSeenAt: devices.lastSeenAt,
    })
    .from(devices)
    .where(eq(devices.subscriberId, viewer.subscriberId))
    .orderBy(asc(devices.devId));
}

/** A success: the count and any lock cleared. */
export async function recordSignIn(db: Db, id: string, now: number): Promise<void> {
  await db.update(users).set({ failedAttempts: 0, lockedUntil: null, lastSignInAt: now }).where(eq(users.id, id));
}

/**
 * A failure, counted atomically (two sign-ins at once both count) for the users page. It
 * locks nothing: lock-outs are per account and address (lib/auth/users.ts signIn), so that
 * a stranger cannot lock someone else's account.
 */
export async function recordFailedSignIn(
  db: Db,
  id: string,
): Promise<{ failedAttempts: number; lockedUntil: number | null }> {
  const [row] = await db
    .update(users)
    .set({ failedAttempts: sql`${users.failedAttempts} + 1` })
    .where(eq(users.id, id))
    .returning({ failedAttempts: users.failedAttempts, lockedUntil: users.lockedUntil });
  return row ?? { failedAttempts: 0, lockedUntil: null };
}

/** Every user for the admin list, without password hashes. */
export async function listUsers(db: Db) {
  return db
    .select({
      id: users.id,
      email: users.email,
      role: users.role,
      subscriberId: users.subscriberId,
      failedAttempts: users.failedAttempts,
      lockedUntil: users.lockedUntil,
      createdAt: users.createdAt,
      lastSignInAt: users.lastSignInAt,
    })
    .from(users)
    .orderBy(asc(users.email));
}

export async function setUserRole(db: Db, id: string, role: UserRow['role']): Promise<void> {
  await db.update(users).set({ role }).where(eq(users.id, id));
}

export async function deleteUser(db: Db, id: string): Promise<void> {
  await db.delete(users).where(eq(users.id, id));
}

/** Signs a user out everywhere (after a password reset or a change of role). */
export async function deleteUserSessions(db: Db, userId: string): Promise<number> {
  return (await db.delete(webSessions).where(eq(webSessions.userId, userId)).returning({ id: webSessions.id })).length;
}
