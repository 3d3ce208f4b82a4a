'use client';
/**
 * An erasure with an explicit confirmation: the person types the name shown before the
 * button does anything, and is told what went. The portal's "Delete my backups" and an
 * admin's "Erase subscriber" both use it.
 */
import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { useToast } from './toast';
import { Button, ErrorNote, Field, inputClass } from './ui';

export interface EraseConfirmProps<T> {
  name: string;
  /** Nothing to erase: the button is disabled and `emptyText` shown. */
  empty?: boolean;
  emptyText?: string;
  openLabel: string;
  warning: string;
  confirmLabel: string;
  run: (confirm: string) => Promise<ActionResult<T>>;
  /** What the toast and the page say once it is done. */
  doneText: (data: T) => string;
  /** Where to go afterwards (else the page refreshes). */
  then?: string;
}

export function EraseConfirm<T>({
  name,
  empty,
  emptyText,
  openLabel,
  warning,
  confirmLabel,
  run,
  doneText,
  then,
}: EraseConfirmProps<T>) {
  const uid = useId();
  const toast = useToast();
  const router = useRouter();
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | undefined>();
  const [done, setDone] = useState<string | null>(null);
  const matches = typed.trim().replace(/\s+/g, ' ').toLowerCase() === name.toLowerCase();

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setPending(true);
    setError(null);
    const r = await run(typed);
    setPending(false);
    if (!r.ok) {
      setError(r.error);
      setFieldError(r.fieldErrors?.confirm?.[0]);
      return;
    }
    const text = doneText(r.data);
    toast(text);
    setDone(text);
    setOpen(false);
    setTyped('');
    if (then) router.push(then);
    else router.refresh();
  };

  if (!open) {
    return (
      <div className="space-y-2">
        {done ? (
          <p role="status" className="text-sm text-emerald-800">
            {done}.
          </p>
        ) : null}
        <Button variant="danger" onClick={() => setOpen(true)} disabled={empty}>
          {openLabel}
        </Button>
        {empty && emptyText ? <p className="text-sm text-slate-600">{emptyText}</p> : null}
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="space-y-3 rounded border border-red-200 bg-red-50 p-3" noValidate>
      <p className="text-sm text-red-900">{warning}</p>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <Field id={`${uid}-confirm`} label={`Type “${name}” to confirm`} error={fieldError}>
        <input
          id={`${uid}-confirm`}
          className={inputClass}
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          autoComplete="off"
          autoFocus
          aria-describedby={fieldError ? `${uid}-confirm-error` : undefined}
        />
      </Field>
      <div className="flex flex-wrap gap-2">
        <Button type="submit" variant="danger" disabled={!matches || pending}>
          {pending ? 'Erasing…' : confirmLabel}
        </Button>
        <Button
          variant="secondary"
          onClick={() => {
            setOpen(false);
            setTyped('');
            setError(null);
          }}
          disabled={pending}
        >
          Cancel
        </Button>
      </div>
    </form>
  );
}
