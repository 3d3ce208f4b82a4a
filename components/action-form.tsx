'use client';
/**
 * A form bound to a server action: pending state, the action's error in plain words, field
 * errors handed to the children, and a toast when it succeeds.
 *
 * What was typed stays after an error. React resets a form whose `action` it runs, error or
 * not; so with JavaScript the submit is dispatched from `onSubmit` (React then leaves the
 * fields alone) and the form is reset here only on success. Without JavaScript the `action`
 * still posts the form.
 */
import { startTransition, useActionState, useEffect, useRef, type FormEvent, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { useToast } from './toast';
import { ErrorNote } from './ui';

export type FormAction<T> = (prev: ActionResult<T> | null, form: FormData) => Promise<ActionResult<T>>;

export function ActionForm<T>({
  action,
  success,
  onSuccess,
  children,
  className,
  resetOnSuccess,
}: {
  action: FormAction<T>;
  /** The toast on success; a function sees the action's data. */
  success?: string | ((data: T) => string);
  onSuccess?: (data: T) => void;
  children: (s: { pending: boolean; errors: Record<string, string[]>; result: ActionResult<T> | null }) => ReactNode;
  className?: string;
  /** Empty the fields when the action succeeds (a form that adds things); else they keep what was saved. */
  resetOnSuccess?: boolean;
}) {
  const [state, formAction, pending] = useActionState(action, null);
  const toast = useToast();
  const form = useRef<HTMLFormElement>(null);
  const seen = useRef<ActionResult<T> | null>(null);
  useEffect(() => {
    if (!state || state === seen.current) return;
    seen.current = state;
    if (state.ok) {
      if (success) toast(typeof success === 'function' ? success(state.data) : success);
      if (resetOnSuccess) form.current?.reset();
      onSuccess?.(state.data);
    }
  }, [state, success, onSuccess, toast, resetOnSuccess]);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const data = new FormData(e.currentTarget, (e.nativeEvent as SubmitEvent).submitter);
    startTransition(() => formAction(data));
  };
  return (
    <form ref={form} action={formAction} onSubmit={submit} className={className} noValidate>
      {state && !state.ok ? <ErrorNote>{state.error}</ErrorNote> : null}
      {children({ pending, errors, result: state })}
    </form>
  );
}
