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

export const MAX_FAILED_ATTEMPTS = 5;
export const LOCK_MS = 15 * 60_000;
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
    throw AppError.invalid(`There is no subscriber ${u.subscriberId}.`, { subscriberId: ['There is no such subscriber.'] });
  }
  if (await getUserByEmail(db, u.email)) {
    throw AppError.invalid(`A user with the email ${u.email} already exists.`, { email: ['A user with this email already exists.'] });
  }
  const passwordHash = await hashPassword(u.password);
  try {
    return safe(await insertUser(db, { email: u.email, passwordHash, role: u.role, subscriberId: u.subscriberId ?? null }));
  } catch (err) {
    // Another process created the same email between the check and the insert.
    if (isUniqueViolation(err)) {
      throw AppError.invalid(`A user with the email ${u.email} already exists.`, { email: ['A user with this email already exists.'] });
    }
    throw err;
  }
}

export type AuthResult =
  | { ok: true; user: SafeUser }
  | { ok: false; code: 'invalid'; error: string }
  | { ok: false; code: 'locked'; error: string; lockedUntil: number };

let dummyHash: Promise<string> | undefined;
/** Hashed once per process: an unknown email costs the same scrypt as a known one. */
function dummy(): Promise<string> {
  return (dummyHash ??= hashPassword('not-a-real-password-for-timing'));
}

function lockedMessage(until: number): string {
  return `Too many failed sign-ins: this account is locked until ${new Date(until).toISOString().replace('T', ' ').slice(0, 16)} UTC. Try again then.`;
}

/**
 * Checks an email and password. Five consecutive failures lock the account for 15 minutes
 * (a locked account is refused even with the right password); a success resets the count.
 * An unknown email is hashed against a dummy, so it takes as long and gets the same answer
 * as a wrong password.
 */
export async function authenticate(db: Db, email: string, password: string, now = Date.now()): Promise<AuthResult> {
  const parsedEmail = emailSchema.safeParse(email);
  const user = parsedEmail.success ? await getUserByEmail(db, parsedEmail.data) : undefined;
  if (!user || password.length > MAX_PASSWORD_LENGTH) {
    await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), await dummy());
    return { ok: false, code: 'invalid', error: WRONG_CREDENTIALS };
  }
  if (user.lockedUntil !== null && user.lockedUntil > now) {
    return { ok: false, code: 'locked', error: lockedMessage(user.lockedUntil), lockedUntil: user.lockedUntil };
  }
  if (await verifyPassword(password, user.passwordHash)) {
    await recordSignIn(db, user.id, now);
    return { ok: true, user: safe({ ...user, failedAttempts: 0, lockedUntil: null, lastSignInAt: now }) };
  }
  const after = await recordFailedSignIn(db, user.id, now, MAX_FAILED_ATTEMPTS, LOCK_MS);
  if (after.lockedUntil !== null && after.lockedUntil > now) {
    return { ok: false, code: 'locked', error: lockedMessage(after.lockedUntil), lockedUntil: after.lockedUntil };
  }
  return { ok: false, code: 'invalid', error: WRONG_CREDENTIALS };
}

export type SignInResult = AuthResult | { ok: false; code: 'rate-limited'; error: string; retryAfterSeconds: number };

export function rateLimitedMessage(retryAfterSeconds: number): string {
  return `Too many failed sign-ins from your network. Try again in ${minutesText(retryAfterSeconds)}.`;
}

/**
 * A sign-in from a client address: besides each account's lock-out, an address with too
 * many failed sign-ins (AUTH_RATE_LIMIT in AUTH_RATE_WINDOW, across all the emails it
 * tried) is refused without the password being checked, so spraying many accounts from one
 * place is slow. Only wrong passwords and unknown emails count (a locked account's refusal
 * checked nothing), and a success does not clear the address's count: one good account
 * must not wipe out the failures of a spray.
 */
export async function signIn(db: Db, address: string, email: string, password: string, now = Date.now()): Promise<SignInResult> {
  const gate = authGate('sign-in');
  const wait = gate.refusedAddress(address);
  if (wait !== undefined) return { ok: false, code: 'rate-limited', error: rateLimitedMessage(wait), retryAfterSeconds: wait };
  const r = await authenticate(db, email, password, now);
  if (!r.ok && r.code === 'invalid') gate.failed(address);
  return r;
}

/**
 * signIn for the sign-in form: every outcome is audited under the email typed (the password
 * never is); a refusal for the address's failures also names the address.
 */
export async function attemptSignIn(db: Db, address: string, email: string, password: string): Promise<SignInResult> {
  const r = await signIn(db, address, email, password);
  const action = r.ok ? 'sign-in' : r.code === 'locked' ? 'sign-in.locked' : r.code === 'rate-limited' ? 'sign-in.rate-limited' : 'sign-in.failed';
  await insertAudit(db, { actor: email.trim().toLowerCase().slice(0, 254), action, ...(!r.ok && r.code === 'rate-limited' ? { details: { address } } : {}) });
  return r;
}
