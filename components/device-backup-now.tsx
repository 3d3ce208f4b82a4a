'use client';
/** "Back up now": queues an on-demand backup (or joins the one pending) and says which, with a link to follow it. */
import Link from 'next/link';
import { useHydrated } from './use-hydrated';
import { ActionForm, type FormAction } from './action-form';
import { Button } from './ui';

export function BackUpNow({
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
        d.created ? 'Backup queued: the handset is being woken' : 'A backup was already pending: following that one'
      }
      className="flex flex-col items-end gap-1"
    >
      {({ pending, result }) => (
        <>
          <input type="hidden" name="deviceId" value={deviceId} />
          <Button type="submit" disabled={!hydrated || pending}>
            {pending ? 'Queueing…' : 'Back up now'}
          </Button>
          {result?.ok ? (
            <Link href={`/jobs/${result.data.jobId}`} className="text-xs text-sky-700 hover:underline">
              Follow the backup job
            </Link>
          ) : null}
        </>
      )}
    </ActionForm>
  );
}
