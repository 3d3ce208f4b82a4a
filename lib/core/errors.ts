/**
 * The one application error: what the domain throws when a person must read why something
 * was refused (bad input, nothing found, a conflict, no right to it). `apiHandler` turns it
 * into a JSON answer with its status and `authedAction` into `{ ok: false, error,
 * fieldErrors }`, each in one place; anything that is not an AppError is a bug, answered
 * without internals. Errors no person reads (a codec's DecodeError, the blob store's) stay
 * their own classes.
 */
import type { z } from 'zod';

/** The few kinds a caller acts on; each is one HTTP status. */
export type AppErrorKind =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'unsupported'
  | 'rate-limited'
  | 'unavailable'
  | 'internal';

export const STATUS_OF_KIND: Readonly<Record<AppErrorKind, number>> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  unsupported: 415,
  'rate-limited': 429,
  internal: 500,
  unavailable: 503,
};

/** Messages per field, keyed by the field's path ('paths.2'); '_' for the input as a whole. */
export type FieldErrors = Record<string, string[]>;

export interface AppErrorOptions {
  /** The code API clients see (`'not-complete'`); the kind when not given. */
  code?: string;
  fieldErrors?: FieldErrors;
  /** What a person is told when it differs from the message logged and shown to operators. */
  userMessage?: string;
  /** Only where the kind's status is not the right answer (a push gateway that failed: 502). */
  status?: number;
  /** More members of the API's error body (an import's `rows`). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class AppError extends Error {
  readonly kind: AppErrorKind;
  readonly code: string;
  readonly status: number;
  readonly userMessage: string;
  /** Undefined when the error is not about fields; a form's refusal may carry an empty record. */
  readonly fieldErrors?: FieldErrors;
  readonly details?: Record<string, unknown>;

  constructor(kind: AppErrorKind, message: string, opts: AppErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.code = opts.code ?? kind;
    this.status = opts.status ?? STATUS_OF_KIND[kind];
    this.userMessage = opts.userMessage ?? message;
    if (opts.fieldErrors) this.fieldErrors = opts.fieldErrors;
    if (opts.details) this.details = opts.details;
  }

  /** Input a person must correct, naming its fields (an empty record when none is to blame). */
  static invalid(message: string, fieldErrors: FieldErrors = {}): AppError {
    return new AppError('invalid', message, { fieldErrors });
  }

  /** A schema's refusal: every issue under its field, the first one as the message ('paths.2: not a DM path'). */
  static fromZod(error: z.ZodError, message?: string): AppError {
    const first = error.issues[0];
    const text = message ?? (first ? `${pathOf(first.path) || 'input'}: ${first.message}` : 'input is not valid');
    return AppError.invalid(text, fieldErrorsOf(error));
  }
}

/**
 * An area's family of refusals (a plan's, a restore's, a snapshot's): each code is one kind, so
 * one status, and callers tell them apart by class and code
 * (`err instanceof PlanError && err.code === 'not-complete'`). `userMessages` words a code for
 * people where the message for operators is not it. Declared as
 * `export class PlanError extends appErrorFamily(PLAN_KIND) {}`: the class's own name is the error's.
 */
export function appErrorFamily<C extends string>(
  kinds: Readonly<Record<C, AppErrorKind>>,
  userMessages: Partial<Record<C, (message: string) => string>> = {},
) {
  return class extends AppError {
    declare readonly code: C;
    constructor(code: C, message: string) {
      const user = userMessages[code];
      super(kinds[code], message, { code, ...(user ? { userMessage: user(message) } : {}) });
    }
  };
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

/** The one conversion of zod issues into field errors: every message under its dotted path. */
export function fieldErrorsOf(error: z.ZodError | ReadonlyArray<z.core.$ZodIssue>): FieldErrors {
  const issues = 'issues' in error ? error.issues : error;
  const out: FieldErrors = {};
  for (const i of issues) (out[pathOf(i.path) || '_'] ??= []).push(i.message);
  return out;
}
