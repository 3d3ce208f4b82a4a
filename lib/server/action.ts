import 'server-only';
import { redirect, unstable_rethrow } from 'next/navigation';
import type { z } from 'zod';
import { getContext, type AppContext } from '@/lib/core/context';
import { AppError, fieldErrorsOf } from '@/lib/core/errors';
import type { UserRole } from '@/db/schema';
import { getViewer, homeOf, type Viewer } from './session';
import { auditMark, countAuditSince, insertAudit } from '@/db/queries/audit';

import type { ActionResult } from '@/lib/core/action-result';

export type { ActionResult };

export const NOT_SIGNED_IN = 'Please sign in';
export const FORBIDDEN = 'You do not have access to this.';

export interface ActionContext extends AppContext {
  viewer: Viewer;
  /** Records this viewer's action in the audit log (every agent and admin write calls it). */
  audit: (action: string, e?: { deviceId?: string | null; details?: unknown }) => Promise<void>;
}

/** A form's fields as an object; a key given more than once becomes an array (Object.fromEntries would drop all but one). */
function formToObject(form: FormData): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of new Set(form.keys())) {
    if (key.startsWith('$ACTION')) continue; // Next's own fields
    const all = form.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

type Handler<S extends z.ZodType, T, C> = (input: z.output<S>, ctx: C) => Promise<T> | T;
/** What useActionState calls: the previous state and the form (or a plain object from code). */
export type Action<T> = (
  prev: ActionResult<T> | null,
  input: FormData | Record<string, unknown>,
) => Promise<ActionResult<T>>;

async function run<S extends z.ZodType, T, C>(
  schema: S,
  input: FormData | Record<string, unknown>,
  ctx: C,
  fn: Handler<S, T, C>,
): Promise<ActionResult<T>> {
  const parsed = schema.safeParse(input instanceof FormData ? formToObject(input) : input);
  if (!parsed.success) {
    return { ok: false, error: 'Some fields need another look.', fieldErrors: fieldErrorsOf(parsed.error) };
  }
  try {
    return { ok: true, data: await fn(parsed.data, ctx) };
  } catch (err) {
    unstable_rethrow(err); // redirect(), notFound() and Next's own signals pass through
    // What the domain refused, in words for people (AccessDenied reads as "not found"); an
    // `internal` AppError (the store lost content) is our fault and gets the error page.
    if (err instanceof AppError && err.kind !== 'internal') {
      return {
        ok: false,
        error: err.userMessage,
        ...(err.fieldErrors && Object.keys(err.fieldErrors).length ? { fieldErrors: err.fieldErrors } : {}),
      };
    }
    throw err; // anything else is a bug: the error page, not a message built from internals
  }
}

/**
 * What an action declares about its audit entry: the action it records (`'token.created'`),
 * written by the handler through `ctx.audit` or by the domain code it calls, or `false` for
 * an action that changes nothing (a restore wizard's choices).
 */
export type ActionAudit = string | false;

/** Attached to every action authedAction and publicAction build, so a test can list them all with what they declared. */
export const ACTION_META: unique symbol = Symbol.for('rewind.action-meta');
export interface ActionMeta {
  roles: readonly UserRole[] | 'public';
  audit: ActionAudit | 'self';
}

function withMeta<T>(action: Action<T>, meta: ActionMeta): Action<T> {
  Object.defineProperty(action, ACTION_META, { value: meta });
  return action;
}

/**
 * Every server action goes through this: the viewer is authenticated, the role checked and
 * the input parsed with the schema before `fn` sees it. An action that changes something
 * must name its audit action; when it succeeds and neither it nor the domain code wrote an
 * entry under the viewer, this writes one (actor and action, the input's deviceId when it
 * has one), so a forgotten `ctx.audit` loses the details, never the record.
 */
export function authedAction<S extends z.ZodType, T>(
  opts: { roles: readonly UserRole[]; schema: S; audit: ActionAudit },
  fn: Handler<S, T, ActionContext>,
): Action<T> {
  return withMeta(
    async (_prev, input) => {
      const viewer = await getViewer();
      if (!viewer) return { ok: false, error: NOT_SIGNED_IN };
      if (!opts.roles.includes(viewer.role)) return { ok: false, error: FORBIDDEN };
      const app = getContext();
      const audit: ActionContext['audit'] = async (action, e = {}) => {
        await insertAudit(app.db, { actor: viewer.email, action, deviceId: e.deviceId, details: e.details });
      };
      const mark = await auditMark(app.db);
      const result = await run(opts.schema, input, { ...app, viewer, audit }, fn);
      if (result.ok && opts.audit !== false && (await countAuditSince(app.db, viewer.email, mark)) === 0) {
        const deviceId = input instanceof FormData ? input.get('deviceId') : input.deviceId;
        await insertAudit(app.db, {
          actor: viewer.email,
          action: opts.audit,
          deviceId: typeof deviceId === 'string' && deviceId ? deviceId : null,
        });
      }
      return result;
    },
    { roles: opts.roles, audit: opts.audit },
  );
}

/** The one action open to everyone: signing in. Same parsing and error handling, no viewer. */
export function publicAction<S extends z.ZodType, T>(opts: { schema: S }, fn: Handler<S, T, AppContext>): Action<T> {
  // Sign-in audits every attempt itself, under the email tried (there is no viewer yet).
  return withMeta(async (_prev, input) => run(opts.schema, input, getContext(), fn), {
    roles: 'public',
    audit: 'self',
  });
}

/**
 * For server components: the viewer, when signed in with one of `roles`. Not signed in:
 * to /sign-in. Signed in with another role: to that role's own home.
 */
export async function requireViewer(roles: readonly UserRole[]): Promise<Viewer> {
  const viewer = await getViewer();
  if (!viewer) redirect('/sign-in');
  if (!roles.includes(viewer.role)) redirect(homeOf(viewer.role));
  return viewer;
}
