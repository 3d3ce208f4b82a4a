import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { formatBytes, formatTime } from '@/lib/core/format';
import { handsetName } from '@/lib/subscribers/erasure';
import { pendingBackupId, portalHistory } from '@/lib/subscribers/portal';
import { DsBackups } from '@/components/device-ds';
import { dsSectionData } from '@/lib/ds/views';
import { PortalBackupNow } from '@/components/portal-backup-now';
import { PortalErase } from '@/components/portal-erase';
import { LocalTime } from '@/components/local-time';
import { subscriberHistory } from '@/lib/devices/history';
import { ButtonLink, Card, EmptyState, PageHeader, StatusBadge, Table, tdClass, thClass } from '@/components/ui';
import { backUpNowAction, eraseBackupsAction } from '../../actions';

export const metadata: Metadata = { title: 'My backups · Rewind' };
export const dynamic = 'force-dynamic';

const TRIGGER_WORDS: Record<string, string> = {
  'on-demand': 'asked for',
  scheduled: 'scheduled',
  safety: 'before a change',
  device: 'from the handset',
  local: 'on the handset',
};

/** One of the subscriber's handsets: its backups (restore from any), recent jobs, and erasure. */
export default async function PortalDevicePage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(['subscriber']);
  const { id } = await params;
  const { db } = getContext();
  const device = await forPage(() => deviceFor(db, viewer, id));
  const name = handsetName(device);
  const { snapshots: snaps, jobs } = await portalHistory(db, device.id);
  const complete = snaps.filter((s) => s.status === 'complete');
  const ds = await dsSectionData(db, device, 20);
  const runningJobId = await pendingBackupId(db, device.id);
  const story = await subscriberHistory(db, device.id);
  return (
    <div className="space-y-4">
      <PageHeader
        title={name}
        subtitle={<span className="font-mono">{device.devId}</span>}
        back={{ href: '/portal', label: 'My devices' }}
        actions={
          complete.length ? (
            <ButtonLink href={`/portal/devices/${device.id}/restore`} variant="primary">
              Restore…
            </ButtonLink>
          ) : null
        }
      />
      <Card title="What happened lately">
        {story.length ? (
          <ul className="divide-y divide-slate-100 text-sm" aria-label="What happened lately, newest first">
            {story.map((e) => (
              <li key={e.key} className="flex flex-wrap items-baseline gap-x-3 py-1.5">
                <LocalTime at={e.at} className="whitespace-nowrap text-xs text-slate-600" />
                <span className={e.ok ? '' : 'text-red-800'}>{e.text}</span>
              </li>
            ))}
          </ul>
        ) : (
          <EmptyState title="Nothing yet">Your phone has not connected to us yet.</EmptyState>
        )}
      </Card>
      <Card title="Back up">
        <PortalBackupNow deviceId={device.id} label={name} action={backUpNowAction} runningJobId={runningJobId} />
      </Card>
      <Card title={`My backups (${snaps.length})`}>
        {snaps.length === 0 ? (
          <EmptyState title="No backup yet">
            Press “Back up now”: the handset is backed up the next time it connects.
          </EmptyState>
        ) : (
          <Table caption={`Backups of ${name}, newest first`}>
            <thead>
              <tr>
                {/* On a phone's width the why, size and data used go under the time, so nothing scrolls sideways. */}
                <th className={thClass}>Taken</th>
                <th className={`${thClass} hidden sm:table-cell`}>Why</th>
                <th className={`${thClass} hidden sm:table-cell`}>Size</th>
                <th className={`${thClass} hidden sm:table-cell`}>Data used</th>
                <th className={thClass}>Status</th>
                <th className={thClass}>
                  <span className="sr-only">Restore</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {snaps.map((s) => (
                <tr key={s.id}>
                  <td className={tdClass}>
                    {formatTime(s.takenAt)} <span className="text-xs text-slate-500">({s.age})</span>
                    <span className="block text-xs text-slate-600 sm:hidden">
                      {TRIGGER_WORDS[s.trigger] ?? s.trigger} · {formatBytes(s.bytes)} · {s.used}
                    </span>
                  </td>
                  <td className={`${tdClass} hidden sm:table-cell`}>{TRIGGER_WORDS[s.trigger] ?? s.trigger}</td>
                  <td className={`${tdClass} hidden sm:table-cell`}>{formatBytes(s.bytes)}</td>
                  <td className={`${tdClass} hidden sm:table-cell`}>{s.used}</td>
                  <td className={tdClass}>
                    <StatusBadge status={s.status} />
                  </td>
                  <td className={tdClass}>
                    {s.status === 'complete' ? (
                      <Link
                        className="text-sky-800 underline"
                        href={`/portal/devices/${device.id}/restore?snapshot=${s.id}`}
                      >
                        Restore from this
                      </Link>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      {ds.snapshots.length ? (
        <Card title="Contacts and calendar">
          <p className="mb-2 text-sm text-slate-600">
            Your phonebook and calendar, backed up each time the handset syncs them with us.
          </p>
          <DsBackups deviceId={device.id} backups={ds.snapshots} now={ds.now} browse={false} />
        </Card>
      ) : null}
      {jobs.length ? (
        <Card title="Recent activity">
          <ul className="divide-y divide-slate-100 text-sm">
            {jobs.map((j) => (
              <li key={j.id} className="flex flex-wrap items-center gap-2 py-1.5">
                <StatusBadge status={j.status} />
                <Link className="underline" href={`/portal/jobs/${j.id}`}>
                  {j.kind === 'restore' ? 'Restore' : j.kind === 'backup' ? 'Backup' : j.kind}
                </Link>
                <span className="text-slate-600">{j.age}</span>
              </li>
            ))}
          </ul>
        </Card>
      ) : null}
      <Card title="Delete my backups">
        <PortalErase deviceId={device.id} name={name} count={snaps.length} action={eraseBackupsAction} />
      </Card>
    </div>
  );
}
