/**
 * Users of the console and the portal: creation (validated) and sign-in with lock-out.
 * No Next imports, so the CLI and tests use it as it is.
 */
import type { Db } from '@/db/client';
import { isUniqueViolation } from '@/db/sql';
import { getSubscriber } from '@/db/queries/subscribers';
import { insertAudit } from '@/db/queries/audit';
import { getUserByEmail, insertUser, recordFailedSignIn, recordSignIn, type UserRow } from '@/db/queries/users';
import { AppError } from '@/lib/core/errors';
import { createUserSchema, emailSchema, MAX_PASSWORD_LENGTH, type CreateUserInput } from '@/lib/auth/schemas';
import { hashPassword, verifyPassword } from './password';
import { authGate, minutesText } from './limits';

export const WRONG_CREDENTIALS = 'The email or password is not right.';

export type SafeUser = Omit<UserRow, 'passwordHash'>;

function safe(u: UserRow): SafeUser {
  const { passwordHash: _omit, ...rest } = u;
  return rest;
}

/** Creates a user; bad input, an unknown subscriber or a taken email is an `invalid` AppError naming the field. */
export async function createUser(db: Db, input: CreateUserInput): Promise<SafeUser> {
  const r = createUserSchema.safeParse(input);
  if (!r.success) throw AppError.fromZod(r.error, r.error.issues[0]!.message);
  const u = r.data;
  if (u.subscriberId && !(await getSubscriber(db, u.subscriberId))) {
    throw AppError.invalid(`There is no subscriber ${u.subscriberId}.`, {
      subscriberId: ['There is no such subscriber.'],
    });
  }
  if (await getUserByEmail(db, u.email)) {
    throw AppError.invalid(`A user with the email ${u.email} already exists.`, {
      email: ['A user with this email already exists.'],
    });
  }
  const passwordHash = await hashPassword(u.password);
  try {
    return safe(
      await insertUser(db, { email: u.email, passwordHash, role: u.role, subscriberId: u.subscriberId ?? null }),
    );
  } catch (err) {
    // Another process created the same email between the check and the insert.
    if (isUniqueViolation(err)) {
      throw AppError.invalid(`A user with the email ${u.email} already exists.`, {
        email: ['A user with this email already exists.'],
      });
    }
    throw err;
  }
}

export type AuthResult = { ok: true; user: SafeUser } | { ok: false; code: 'invalid'; error: string };

let dummyHash: Promise<string> | undefined;
/** Hashed once per process: an unknown email costs the same scrypt as a known one. */
function dummy(): Promise<string> {
  return (dummyHash ??= hashPassword('not-a-real-password-for-timing'));
}

/**
 * Checks an email and password, and nothing else: no lock-out here (signIn keeps those, per
 * account and address, so that a stranger cannot lock someone else's account). A failure is
 * counted on the account for the users page; a success clears that count. An unknown email
 * is hashed against a dummy, so it takes as long and gets the same answer as a wrong password.
 */
export async function authenticate(db: Db, email: string, password: string, now = Date.now()): Promise<AuthResult> {
  const parsedEmail = emailSchema.safeParse(email);
  const user = parsedEmail.success ? await getUserByEmail(db, parsedEmail.data) : undefined;
  if (!user || password.length > MAX_PASSWORD_LENGTH) {
    await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), await dummy());
    return { ok: false, code: 'invalid', error: WRONG_CREDENTIALS };
  }
  if (await verifyPassword(password, user.passwordHash)) {
    await recordSignIn(db, user.id, now);
    return { ok: true, user: safe({ ...user, failedAttempts: 0, lockedUntil: null, lastSignInAt: now }) };
  }
  await recordFailedSignIn(db, user.id);
  return { ok: false, code: 'invalid', error: WRONG_CREDENTIALS };
}

export type SignInResult = AuthResult | { ok: false; code: 'locked'; error: string; retryAfterSeconds: number };

/** The same words whether the email belongs to an account or not, so a lock-out reveals nothing. */
export function lockedMessage(retryAfterSeconds: number): string {
  return `Too many failed sign-ins for this email from your network. Try again in ${minutesText(retryAfterSeconds)}.`;
}

/** The longest a sign-in from a busy address is held back before its password is checked. */
export const MAX_SIGN_IN_DELAY_MS = 8_000;

/** How long a sign-in from an address `excess` failures past its limit waits: 250 ms, doubling, at most MAX_SIGN_IN_DELAY_MS. */
export function signInDelayMs(excess: number): number {
  return excess <= 0 ? 0 : Math.min(MAX_SIGN_IN_DELAY_MS, 250 * 2 ** Math.min(excess - 1, 16));
}

/**
 * A sign-in from a client address. Failures count per email and address (AUTH_IDENTITY_LIMIT
 * in AUTH_RATE_WINDOW): past that, the email is locked out from that address only, unknown
 * emails exactly like known ones, so someone failing elsewhere (or behind the same NAT)
 * never locks the account's owner out. An address whose sign-ins failed AUTH_RATE_LIMIT
 * times, across all emails, is slowed down rather than refused: checking a password is
 * not cheap enough to do before a refusal, and refusing would lock out every honest person
 * behind that address. Each attempt from it waits a growing delay before its password is
 * checked, which makes spraying many accounts from one place slow.
 */
export async function signIn(
  db: Db,
  address: string,
  email: string,
  password: string,
  now = Date.now(),
): Promise<SignInResult> {
  const gate = authGate('sign-in');
  const identity = email.trim().toLowerCase().slice(0, 254);
  const locked = gate.refusal(address, identity);
  if (locked?.reason === 'identity') {
    gate.refused(locked, address, identity);
    return {
      ok: false,
      code: 'locked',
      error: lockedMessage(locked.retryAfterSeconds),
      retryAfterSeconds: locked.retryAfterSeconds,
    };
  }
  const delay = signInDelayMs(gate.addressExcess(address));
  if (delay > 0) {
    gate.refused({ reason: 'slowed', retryAfterSeconds: Math.ceil(delay / 1000) }, address, identity);
    await new Promise((r) => setTimeout(r, delay));
  }
  const r = await authenticate(db, email, password, now);
  if (r.ok) {
    gate.succeeded(address, identity);
    return r;
  }
  gate.failed(address, identity);
  // The failure that reaches the limit says so at once, rather than on the next attempt.
  const after = gate.refusal(address, identity);
  if (after?.reason === 'identity')
    return {
      ok: false,
      code: 'locked',
      error: lockedMessage(after.retryAfterSeconds),
      retryAfterSeconds: after.retryAfterSeconds,
    };
  return r;
}

/**
 * signIn for the sign-in form: every outcome is audited under the email typed (the password
 * never is); a lock-out also names the address it holds for.
 */
export async function attemptSignIn(db: Db, address: string, email: string, password: string): Promise<SignInResult> {
  const r = await signIn(db, address, email, password);
  const action = r.ok ? 'sign-in' : r.code === 'locked' ? 'sign-in.locked' : 'sign-in.failed';
  await insertAudit(db, {
    actor: email.trim().toLowerCase().slice(0, 254),
    action,
    ...(!r.ok && r.code === 'locked' ? { details: { address } } : {}),
  });
  return r;
}
