'use client';
/**
 * "Back up now" on a subscriber's handset: queues the backup, says so, and follows it live
 * (polling while it runs); when it ends the page is read again, so "Last backup" and the list
 * of backups show it.
 */
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { ActionResult } from '@/lib/core/action-result';
import { JobLiveMini } from './job-live';
import { useToast } from './toast';
import { useHydrated } from './use-hydrated';
import { Button, ErrorNote } from './ui';

export function PortalBackupNow({
  deviceId,
  label,
  action,
  runningJobId,
}: {
  deviceId: string;
  label: string;
  action: (prev: null, input: { deviceId: string }) => Promise<ActionResult<{ jobId: string; created: boolean }>>;
  /** A backup already queued or running for the handset, followed from the start. */
  runningJobId: string | null;
}) {
  const toast = useToast();
  const router = useRouter();
  const [jobId, setJobId] = useState<string | null>(runningJobId);
  const hydrated = useHydrated();
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setPending(true);
    setError(null);
    const r = await action(null, { deviceId });
    setPending(false);
    if (!r.ok) {
      setError(r.error);
      return;
    }
    toast(r.data.created ? 'Backup queued' : 'A backup is already on its way');
    setJobId(r.data.jobId);
    router.refresh();
  };
  return (
    <div className="space-y-2">
      {/* The visible words start the accessible name; the handset's name tells cards apart. */}
      <Button onClick={run} disabled={!hydrated || pending}>
        {pending ? 'Queueing…' : 'Back up now'}
        <span className="sr-only">: {label}</span>
      </Button>
      {error ? <ErrorNote>{error}</ErrorNote> : null}
      {jobId ? <JobLiveMini jobId={jobId} href={`/portal/jobs/${jobId}`} onFinished={() => router.refresh()} /> : null}
    </div>
  );
}
