'use client';
import { useActionState, useState, type ReactNode } from 'react';
import { useHydrated } from './use-hydrated';
import type { ActionResult } from '@/lib/core/action-result';

type SignIn = (prev: ActionResult<never> | null, form: FormData) => Promise<ActionResult<never>>;

export function SignInForm({ action }: { action: SignIn }) {
  const [state, formAction, pending] = useActionState(action, null);
  // Controlled, so the email stays in the field when the form resets after a failed attempt.
  const [email, setEmail] = useState('');
  const hydrated = useHydrated();
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form action={formAction} className="mt-6 space-y-4" noValidate>
      {state && !state.ok && !state.fieldErrors ? (
        <p role="alert" className="rounded border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          {state.error}
        </p>
      ) : null}
      <Field id="email" label="Email" error={errors.email?.[0]}>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
          aria-invalid={errors.email ? true : undefined}
          aria-describedby={errors.email ? 'email-error' : undefined}
          className="w-full rounded border border-slate-300 px-3 py-2"
        />
      </Field>
      <Field id="password" label="Password" error={errors.password?.[0]}>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          aria-invalid={errors.password ? true : undefined}
          aria-describedby={errors.password ? 'password-error' : undefined}
          className="w-full rounded border border-slate-300 px-3 py-2"
        />
      </Field>
      <button
        type="submit"
        disabled={!hydrated || pending}
        className="w-full rounded bg-slate-900 px-4 py-2 font-medium text-white disabled:opacity-50"
      >
        {pending ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}

function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: ReactNode }) {
  return (
    <div className="space-y-1">
      <label htmlFor={id} className="block text-sm font-medium">
        {label}
      </label>
      {children}
      {error ? (
        <p id={`${id}-error`} role="alert" className="text-sm text-red-700">
          {error}
        </p>
      ) : null}
    </div>
  );
}
