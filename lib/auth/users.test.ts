import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { subscribers } from '@/db/schema';
import { getUserByEmail } from '@/db/queries/users';
import { AppError, type FieldErrors } from '@/lib/core/errors';
import { testDb } from '@/test/support/db';
import { authenticate, createUser, LOCK_MS, WRONG_CREDENTIALS } from './users';

let db: Db;
beforeEach(async () => { db = await testDb(); });
afterEach(async () => { await closeDb(db); });

async function validationError(p: Promise<unknown>): Promise<AppError & { fieldErrors: FieldErrors }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  return err as AppError & { fieldErrors: FieldErrors };
}

describe('createUser', () => {
  it('creates a staff user with a lower-case email and no password hash in the answer', async () => {
    const u = await createUser(db, { email: '  Grace@Rewind.Test ', password: 'long enough pw', role: 'agent' });
    expect(u.email).toBe('grace@rewind.test');
    expect(u.role).toBe('agent');
    expect(u).not.toHaveProperty('passwordHash');
    expect((await getUserByEmail(db, 'grace@rewind.test'))?.passwordHash).toMatch(/^scrypt\$/);
  });

  it('refuses a bad email, a short password and an unknown role, naming the field', async () => {
    expect((await validationError(createUser(db, { email: 'not-an-email', password: 'long enough pw', role: 'admin' }))).fieldErrors).toHaveProperty('email');
    expect((await validationError(createUser(db, { email: 'a@b.test', password: 'short', role: 'admin' }))).fieldErrors.password?.[0]).toContain('10 characters');
    expect((await validationError(createUser(db, { email: 'a@b.test', password: 'long enough pw', role: 'root' as 'admin' }))).fieldErrors).toHaveProperty('role');
  });

  it('needs an existing subscriber for a subscriber user, and none for staff', async () => {
    expect((await validationError(createUser(db, { email: 's@b.test', password: 'long enough pw', role: 'subscriber' }))).fieldErrors).toHaveProperty('subscriberId');
    const missing = await validationError(createUser(db, { email: 's@b.test', password: 'long enough pw', role: 'subscriber', subscriberId: 'nope' }));
    expect(missing.fieldErrors.subscriberId).toEqual(['There is no such subscriber.']);
    const [sub] = await db.insert(subscribers).values({ name: 'Ada Lovelace' }).returning();
    expect((await validationError(createUser(db, { email: 'x@b.test', password: 'long enough pw', role: 'agent', subscriberId: sub!.id }))).fieldErrors).toHaveProperty('subscriberId');
    const u = await createUser(db, { email: 's@b.test', password: 'long enough pw', role: 'subscriber', subscriberId: sub!.id });
    expect(u.subscriberId).toBe(sub!.id);
  });

  it('refuses a second user with the same email in any case', async () => {
    await createUser(db, { email: 'dup@b.test', password: 'long enough pw', role: 'admin' });
    const err = await validationError(createUser(db, { email: 'DUP@b.test', password: 'long enough pw', role: 'agent' }));
    expect(err.fieldErrors.email).toEqual(['A user with this email already exists.']);
  });
});

describe('authenticate', () => {
  const T0 = Date.UTC(2030, 0, 1, 9, 0);
  beforeEach(async () => { await createUser(db, { email: 'ada@rewind.test', password: 'right password', role: 'admin' }); });

  it('signs in with the right password, whatever the email case', async () => {
    const r = await authenticate(db, 'ADA@rewind.test', 'right password', T0);
    expect(r.ok && r.user.email).toBe('ada@rewind.test');
    expect((await getUserByEmail(db, 'ada@rewind.test'))?.lastSignInAt).toBe(T0);
  });

  it('gives an unknown email the same answer as a wrong password', async () => {
    const wrong = await authenticate(db, 'ada@rewind.test', 'wrong password', T0);
    const unknown = await authenticate(db, 'nobody@rewind.test', 'wrong password', T0);
    const garbage = await authenticate(db, 'not an email', 'x', T0);
    expect(wrong).toEqual({ ok: false, code: 'invalid', error: WRONG_CREDENTIALS });
    expect(unknown).toEqual(wrong);
    expect(garbage).toEqual(wrong);
  });

  it('locks the account for 15 minutes after 5 consecutive failures, even for the right password', async () => {
    for (let i = 0; i < 4; i++) expect((await authenticate(db, 'ada@rewind.test', 'wrong', T0 + i)).ok).toBe(false);
    const fifth = await authenticate(db, 'ada@rewind.test', 'wrong', T0 + 4);
    expect(fifth).toMatchObject({ ok: false, code: 'locked', lockedUntil: T0 + 4 + LOCK_MS });
    expect(!fifth.ok && fifth.error).toContain('locked until 2030-01-01 09:15 UTC');
    const during = await authenticate(db, 'ada@rewind.test', 'right password', T0 + LOCK_MS);
    expect(during).toMatchObject({ ok: false, code: 'locked' });
    // Once the lock has run out the right password works, and the count starts afresh.
    expect((await authenticate(db, 'ada@rewind.test', 'right password', T0 + 4 + LOCK_MS + 1)).ok).toBe(true);
    expect(await getUserByEmail(db, 'ada@rewind.test')).toMatchObject({ failedAttempts: 0, lockedUntil: null });
  });

  it('a lock that ran out starts the count afresh after a failure too', async () => {
    for (let i = 0; i < 5; i++) await authenticate(db, 'ada@rewind.test', 'wrong', T0);
    const later = T0 + LOCK_MS + 1;
    expect(await authenticate(db, 'ada@rewind.test', 'wrong', later)).toMatchObject({ code: 'invalid' });
    expect(await getUserByEmail(db, 'ada@rewind.test')).toMatchObject({ failedAttempts: 1, lockedUntil: null });
  });

  it('a success resets the count: failures must be consecutive to lock', async () => {
    for (let i = 0; i < 4; i++) await authenticate(db, 'ada@rewind.test', 'wrong', T0);
    expect((await authenticate(db, 'ada@rewind.test', 'right password', T0)).ok).toBe(true);
    for (let i = 0; i < 4; i++) expect(await authenticate(db, 'ada@rewind.test', 'wrong', T0)).toMatchObject({ code: 'invalid' });
    expect((await getUserByEmail(db, 'ada@rewind.test'))?.failedAttempts).toBe(4);
  });
});
