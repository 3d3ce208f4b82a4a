import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDb, type Db } from '@/db/client';
import { subscribers } from '@/db/schema';
import { getUserByEmail } from '@/db/queries/users';
import { AppError, type FieldErrors } from '@/lib/core/errors';
import { testDb } from '@/test/support/db';
import { authenticate, createUser, lockedMessage, signIn, signInDelayMs, WRONG_CREDENTIALS } from './users';
import { resetAuthGates } from './limits';

let db: Db;
beforeEach(async () => {
  db = await testDb();
});
afterEach(async () => {
  await closeDb(db);
});

async function validationError(p: Promise<unknown>): Promise<AppError & { fieldErrors: FieldErrors }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
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
    expect(
      (await validationError(createUser(db, { email: 'not-an-email', password: 'long enough pw', role: 'admin' })))
        .fieldErrors,
    ).toHaveProperty('email');
    expect(
      (await validationError(createUser(db, { email: 'a@b.test', password: 'short', role: 'admin' }))).fieldErrors
        .password?.[0],
    ).toContain('10 characters');
    expect(
      (
        await validationError(
          createUser(db, { email: 'a@b.test', password: 'long enough pw', role: 'root' as 'admin' }),
        )
      ).fieldErrors,
    ).toHaveProperty('role');
  });

  it('needs an existing subscriber for a subscriber user, and none for staff', async () => {
    expect(
      (await validationError(createUser(db, { email: 's@b.test', password: 'long enough pw', role: 'subscriber' })))
        .fieldErrors,
    ).toHaveProperty('subscriberId');
    const missing = await validationError(
      createUser(db, { email: 's@b.test', password: 'long enough pw', role: 'subscriber', subscriberId: 'nope' }),
    );
    expect(missing.fieldErrors.subscriberId).toEqual(['There is no such subscriber.']);
    const [sub] = await db.insert(subscribers).values({ name: 'Ada Lovelace' }).returning();
    expect(
      (
        await validationError(
          createUser(db, { email: 'x@b.test', password: 'long enough pw', role: 'agent', subscriberId: sub!.id }),
        )
      ).fieldErrors,
    ).toHaveProperty('subscriberId');
    const u = await createUser(db, {
      email: 's@b.test',
      password: 'long enough pw',
      role: 'subscriber',
      subscriberId: sub!.id,
    });
    expect(u.subscriberId).toBe(sub!.id);
  });

  it('refuses a second user with the same email in any case', async () => {
    await createUser(db, { email: 'dup@b.test', password: 'long enough pw', role: 'admin' });
    const err = await validationError(
      createUser(db, { email: 'DUP@b.test', password: 'long enough pw', role: 'agent' }),
    );
    expect(err.fieldErrors.email).toEqual(['A user with this email already exists.']);
  });
});

describe('authenticate', () => {
  const T0 = Date.UTC(2030, 0, 1, 9, 0);
  beforeEach(async () => {
    await createUser(db, { email: 'ada@rewind.test', password: 'right password', role: 'admin' });
  });

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

  it('counts failures on the account for the users page but never locks it', async () => {
    for (let i = 0; i < 12; i++)
      expect(await authenticate(db, 'ada@rewind.test', 'wrong', T0 + i)).toMatchObject({ code: 'invalid' });
    expect(await getUserByEmail(db, 'ada@rewind.test')).toMatchObject({ failedAttempts: 12, lockedUntil: null });
    expect((await authenticate(db, 'ada@rewind.test', 'right password', T0 + 20)).ok).toBe(true);
    expect((await getUserByEmail(db, 'ada@rewind.test'))?.failedAttempts).toBe(0);
  });
});

describe('signIn: lock-outs per account and address', () => {
  beforeEach(async () => {
    resetAuthGates();
    await createUser(db, { email: 'ada@rewind.test', password: 'right password', role: 'admin' });
  });
  afterEach(() => resetAuthGates());

  it('locks an email out from the address that failed, unknown emails alike, and nowhere else', async () => {
    for (let i = 0; i < 4; i++)
      expect(await signIn(db, '192.0.2.1', 'Ada@rewind.test', 'wrong')).toMatchObject({ code: 'invalid' });
    const fifth = await signIn(db, '192.0.2.1', 'ada@rewind.test', 'wrong');
    expect(fifth).toMatchObject({ ok: false, code: 'locked', error: lockedMessage(600) });
    expect(!fifth.ok && fifth.code === 'locked' && fifth.retryAfterSeconds).toBeGreaterThan(590);
    expect(lockedMessage(600)).toBe(
      'Too many failed sign-ins for this email from your network. Try again in 10 minutes.',
    );
    // From there, even the right password waits for the window.
    expect(await signIn(db, '192.0.2.1', 'ada@rewind.test', 'right password')).toMatchObject({ code: 'locked' });
    // The owner, from another address, signs in.
    expect((await signIn(db, '192.0.2.2', 'ada@rewind.test', 'right password')).ok).toBe(true);
    // An unknown email meets exactly the same lock-out, so the answer says nothing about who has an account.
    for (let i = 0; i < 4; i++)
      expect(await signIn(db, '192.0.2.1', 'nobody@rewind.test', 'wrong')).toMatchObject({ code: 'invalid' });
    expect(await signIn(db, '192.0.2.1', 'nobody@rewind.test', 'wrong')).toMatchObject({
      code: 'locked',
      error: !fifth.ok ? fifth.error : undefined,
    });
  });

  it('a success forgets its own failures from that address', async () => {
    for (let i = 0; i < 4; i++) await signIn(db, '192.0.2.3', 'ada@rewind.test', 'wrong');
    expect((await signIn(db, '192.0.2.3', 'ada@rewind.test', 'right password')).ok).toBe(true);
    for (let i = 0; i < 4; i++)
      expect(await signIn(db, '192.0.2.3', 'ada@rewind.test', 'wrong')).toMatchObject({ code: 'invalid' });
  });

  it('slows an address that failed too often, and still lets the right password in', async () => {
    expect(signInDelayMs(0)).toBe(0);
    expect([1, 2, 3, 6, 40].map(signInDelayMs)).toEqual([250, 500, 1000, 8000, 8000]);
    for (let i = 0; i < 20; i++) await signIn(db, '192.0.2.4', `spray${i}@rewind.test`, 'wrong');
    const started = Date.now();
    expect((await signIn(db, '192.0.2.4', 'ada@rewind.test', 'right password')).ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });
});
