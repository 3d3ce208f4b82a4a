/**
 * Managing people who sign in: the rules the users page enforces. Nobody removes or
 * demotes themselves (so an install always keeps the admin doing the work), a subscriber
 * account stays tied to its subscriber, and a reset password or a changed role signs the
 * user out everywhere.
 */
import type { Db } from '@/db/client';
import { deleteUser, deleteUserSessions, getUser, setUserRole, updateUser, type UserRow } from '@/db/queries/users';
import { hashPassword } from '@/lib/auth/password';
import { AppError } from '@/lib/core/errors';

async function userOf(db: Db, id: string): Promise<UserRow> {
  const u = await getUser(db, id);
  if (!u) throw AppError.invalid('That user no longer exists.');
  return u;
}

export async function changeRole(db: Db, actorId: string, id: string, role: 'admin' | 'agent'): Promise<UserRow> {
  const u = await userOf(db, id);
  if (u.id === actorId) throw AppError.invalid('You cannot change your own role; ask another admin.');
  if (u.role === 'subscriber') throw AppError.invalid('A subscriber account belongs to its subscriber; create a staff account instead.');
  if (u.role === role) throw AppError.invalid(`${u.email} is already ${role === 'admin' ? 'an admin' : 'an agent'}.`);
  await setUserRole(db, u.id, role);
  await deleteUserSessions(db, u.id);
  return { ...u, role };
}

export async function resetPassword(db: Db, id: string, password: string): Promise<UserRow> {
  const u = await userOf(db, id);
  await updateUser(db, u.id, { passwordHash: await hashPassword(password), failedAttempts: 0, lockedUntil: null });
  await deleteUserSessions(db, u.id);
  return u;
}

export async function unlockUser(db: Db, id: string): Promise<UserRow> {
  const u = await userOf(db, id);
  await updateUser(db, u.id, { failedAttempts: 0, lockedUntil: null });
  return u;
}

export async function removeUser(db: Db, actorId: string, id: string): Promise<UserRow> {
  const u = await userOf(db, id);
  if (u.id === actorId) throw AppError.invalid('You cannot delete your own account.');
  await deleteUser(db, u.id);
  return u;
}
