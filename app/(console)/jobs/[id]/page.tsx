import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { forPage, jobFor } from '@/lib/server/access';
import { liveJob } from '@/lib/jobs/live';
import { JobLive } from '@/components/job-live';
import { PageHeader } from '@/components/ui';
import { retryFailedAction } from './actions';
import { confirmRestoreAction, undoPreviewAction } from '../../devices/[id]/restore/actions';
import { UndoRestore } from '@/components/restore-wizard';

export const metadata: Metadata = { title: 'Job · Rewind' };
export const dynamic = 'force-dynamic';

/** A backup or restore job, live: it updates itself until the job is over. */
export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const { db } = getContext();
  const { job, device } = await forPage(() => jobFor(db, viewer, id));
  const live = await liveJob(db, job);
  return (
    <div>
      <PageHeader
        title={job.kind === 'restore' ? 'Restore job' : job.kind === 'backup' ? 'Backup job' : 'Job'}
        subtitle={<span className="font-mono">{job.id}</span>}
        back={{ href: `/devices/${device.id}`, label: device.devId }}
      />
      <JobLive
        initial={live}
        retry={retryFailedAction}
        deviceHref={`/devices/${device.id}`}
        undo={
          job.kind === 'restore' ? (
            <UndoRestore
              jobId={job.id}
              preview={undoPreviewAction}
              confirm={confirmRestoreAction}
              jobHref="/jobs/"
              audience="staff"
            />
          ) : undefined
        }
      />
    </div>
  );
}
