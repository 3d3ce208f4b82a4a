/** The handset's unfinished jobs, each with why it has not finished, linked to its live page. */
import Link from 'next/link';
import type { PendingJobView } from '@/lib/devices/views';
import { formatAge, formatTime } from '@/lib/core/format';
import { Badge, EmptyState, StatusBadge } from './ui';

export function DeviceJobs({ jobs, now }: { jobs: PendingJobView[]; now: number }) {
  if (!jobs.length)
    return <EmptyState title="Nothing pending">No job is queued or running for this handset.</EmptyState>;
  return (
    <ul className="divide-y divide-slate-100">
      {jobs.map((j) => (
        <li key={j.id} className="flex flex-wrap items-start justify-between gap-2 py-2">
          <div className="min-w-0">
            <Link href={`/jobs/${j.id}`} className="font-medium text-sky-700 hover:underline">
              {j.title}
            </Link>{' '}
            <StatusBadge status={j.status} />
            <p className="mt-0.5 text-sm">
              <Badge tone={j.tone}>{j.tone === 'info' ? 'pending' : j.tone === 'warn' ? 'deferred' : 'blocked'}</Badge>{' '}
              {j.reason}
            </p>
            {j.detail ? <p className="text-xs text-slate-600">{j.detail}</p> : null}
          </div>
          <p className="text-xs text-slate-500">
            asked{' '}
            <time dateTime={new Date(j.createdAt).toISOString()} title={formatTime(j.createdAt)}>
              {formatAge(j.createdAt, now)}
            </time>
            {j.attempts ? ` · ${j.attempts} attempt${j.attempts === 1 ? '' : 's'}` : ''}
          </p>
        </li>
      ))}
    </ul>
  );
}
