/**
 * Managing people who sign in: the rules the users page enforces. Nobody removes or
 * demotes themselves (so an install always keeps the admin doing the work), a subscriber
 * account stays tied to its subscriber, and a reset password or a changed role signs the
 * user out everywhere. Every change is audited under the admin (or 'cli') who made it.
 */
import type { Db } from '@/db/client';
import { insertAudit } from '@/db/queries/audit';
import {
  deleteUser,
  deleteUserSessions,
  getUser,
  listUsers,
  setUserRole,
  updateUser,
  type UserRow,
} from '@/db/queries/users';
import { hashPassword } from '@/lib/auth/password';
import { AppError } from '@/lib/core/errors';
import type { CreateUserInput } from './schemas';
import { createUser, type SafeUser } from './users';

/** The admin making a change: who they are (nobody acts on themselves) and the name the audit log keeps. */
export interface AdminActor {
  userId: string;
  email: string;
}

async function userOf(db: Db, id: string): Promise<UserRow> {
  const u = await getUser(db, id);
  if (!u) throw AppError.invalid('That user no longer exists.');
  return u;
}

/** createUser for an admin or the CLI, audited under `actor`. */
export async function createUserAs(db: Db, input: CreateUserInput, actor: string): Promise<SafeUser> {
  const u = await createUser(db, input);
  await insertAudit(db, {
    actor,
    action: 'user.created',
    details: { id: u.id, email: u.email, role: u.role, subscriberId: u.subscriberId },
  });
  return u;
}

export async function changeRole(db: Db, by: AdminActor, id: string, role: 'admin' | 'agent'): Promise<UserRow> {
  const u = await userOf(db, id);
  if (u.id === by.userId) throw AppError.invalid('You cannot change your own role; ask another admin.');
  if (u.role === 'subscriber')
    throw AppError.invalid('A subscriber account belongs to its subscriber; create a staff account instead.');
  if (u.role === role) throw AppError.invalid(`${u.email} is already ${role === 'admin' ? 'an admin' : 'an agent'}.`);
  await setUserRole(db, u.id, role);
  await deleteUserSessions(db, u.id);
  await insertAudit(db, { actor: by.email, action: 'user.role-changed', details: { id: u.id, email: u.email, role } });
  return { ...u, role };
}

export async function resetPassword(db: Db, by: AdminActor, id: string, password: string): Promise<UserRow> {
  const u = await userOf(db, id);
  await updateUser(db, u.id, { passwordHash: await hashPassword(password), failedAttempts: 0, lockedUntil: null });
  await deleteUserSessions(db, u.id);
  await insertAudit(db, { actor: by.email, action: 'user.password-reset', details: { id: u.id, email: u.email } });
  return u;
}

export async function unlockUser(db: Db, by: AdminActor, id: string): Promise<UserRow> {
  const u = await userOf(db, id);
  await updateUser(db, u.id, { failedAttempts: 0, lockedUntil: null });
  await insertAudit(db, { actor: by.email, action: 'user.unlocked', details: { id: u.id, email: u.email } });
  return u;
}

export async function removeUser(db: Db, by: AdminActor, id: string): Promise<UserRow> {
  const u = await userOf(db, id);
  if (u.id === by.userId) throw AppError.invalid('You cannot delete your own account.');
  await deleteUser(db, u.id);
  await insertAudit(db, {
    actor: by.email,
    action: 'user.deleted',
    details: { id: u.id, email: u.email, role: u.role },
  });
  return u;
}

/** The users page: everyone who signs in, and `now` to tell a lock still running from one that ran out. */
export async function usersPage(db: Db) {
  const now = Date.now();
  return { now, users: await listUsers(db) };
}
