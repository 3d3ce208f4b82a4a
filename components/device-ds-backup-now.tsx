'use client';
/** "Back up contacts now": queues a Data Sync backup (or joins the one pending) and links to the job. */
import Link from 'next/link';
import { useHydrated } from './use-hydrated';
import { ActionForm, type FormAction } from './action-form';
import { Button } from './ui';

export function BackUpContactsNow({
  deviceId,
  action,
}: {
  deviceId: string;
  action: FormAction<{ jobId: string; created: boolean }>;
}) {
  const hydrated = useHydrated();
  return (
    <ActionForm
      action={action}
      success={(d) =>
        d.created
          ? 'Contacts backup queued: the handset is being told to sync'
          : 'A contacts backup was already pending: following that one'
      }
      className="flex flex-col items-end gap-1"
    >
      {({ pending, result }) => (
        <>
          <input type="hidden" name="deviceId" value={deviceId} />
          <Button type="submit" variant="secondary" disabled={!hydrated || pending}>
            {pending ? 'Queueing…' : 'Back up contacts now'}
          </Button>
          {result?.ok ? (
            <Link href={`/jobs/${result.data.jobId}`} className="text-xs text-sky-700 hover:underline">
              Follow the contacts backup
            </Link>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
