'use client';
/**
 * "Delete my backups", with an explicit confirmation: the subscriber types the handset's
 * name before the button does anything, and is told what went.
 */
import { useRouter } from 'next/navigation';
import { useId, useState } from 'react';
import type { ActionResult } from '@/lib/action-result';
import { useToast } from './toast';
import { Button, ErrorNote, Field, inputClass } from './ui';

export function PortalErase({ deviceId, name, count, action }: {
  deviceId: string;
  name: string;
  count: number;
  action: (prev: null, input: { deviceId: string; confirm: string }) => Promise<ActionResult<{ snapshots: number; held: number; localBackups: number }>>;
}) {
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
    const r = await action(null, { deviceId, confirm: typed });
    setPending(false);
    if (!r.ok) { setError(r.error); setFieldError(r.fieldErrors?.confirm?.[0]); return; }
    const text = `Deleted ${r.data.snapshots} backup${r.data.snapshots === 1 ? '' : 's'}${r.data.held ? `; ${r.data.held} kept under a legal hold` : ''}`;
    toast(text);
    setDone(text);
    setOpen(false);
    setTyped('');
    router.refresh();
  };

  if (!open) {
    return (
      <div className="space-y-2">
        {done ? <p role="status" className="text-sm text-emerald-800">{done}.</p> : null}
        <Button variant="danger" onClick={() => setOpen(true)} disabled={count === 0}>Delete my backups…</Button>
        {count === 0 ? <p className="text-sm text-slate-600">There are no backups of this handset to delete.</p> : null}
      </div>
    );
  }
  return (
    <form onSubmit={submit} className="space-y-3 rounded border border-red-200 bg-red-50 p-3" noValidate>
      <p className="text-sm text-red-900">
        This deletes all {count} backup{count === 1 ? '' : 's'} of {name} kept by Rewind, and forgets the backups the handset reported keeping itself.
        It cannot be undone, and you cannot restore from them afterwards.
      </p>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      <Field id={`${uid}-confirm`} label={`Type “${name}” to confirm`} error={fieldError}>
        <input id={`${uid}-confirm`} className={inputClass} value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" autoFocus
          aria-describedby={fieldError ? `${uid}-confirm-error` : undefined} />
      </Field>
      <div className="flex flex-wrap gap-2">
        <Button type="submit" variant="danger" disabled={!matches || pending}>{pending ? 'Deleting…' : 'Delete all backups of this handset'}</Button>
        <Button variant="secondary" onClick={() => { setOpen(false); setTyped(''); setError(null); }} disabled={pending}>Cancel</Button>
      </div>
    </form>
  );
}
