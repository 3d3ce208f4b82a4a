import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { forPage, jobFor } from '@/lib/server/access';
import { liveJob } from '@/lib/jobs/live';
import { JobLive } from '@/components/job-live';
import { PageHeader } from '@/components/ui';
import { UndoRestore } from '@/components/restore-wizard';
import { portalConfirmRestoreAction, portalUndoPreviewAction } from '../../actions';

export const metadata: Metadata = { title: 'Progress · Rewind' };
export const dynamic = 'force-dynamic';

/** A backup or restore of one of the subscriber's handsets, live. */
export default async function PortalJobPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(['subscriber']);
  const { id } = await params;
  const { db } = getContext();
  const { job, device } = await forPage(() => jobFor(db, viewer, id));
  const live = await liveJob(db, job);
  return (
    <div>
      <PageHeader
        title={job.kind === 'restore' ? 'Restore' : job.kind === 'backup' ? 'Backup' : 'Progress'}
        back={{ href: `/portal/devices/${device.id}`, label: 'My backups' }}
      />
      <JobLive
        initial={live}
        deviceHref={`/portal/devices/${device.id}`}
        undo={
          job.kind === 'restore' ? (
            <UndoRestore
              jobId={job.id}
              preview={portalUndoPreviewAction}
              confirm={portalConfirmRestoreAction}
              jobHref="/portal/jobs/"
              audience="subscriber"
            />
          ) : undefined
        }
      />
    </div>
  );
}
