import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { devicePageData, LIST_MAX } from '@/lib/devices/page';
import { TIMELINE_TONES } from '@/lib/devices/views';
import { formatAge } from '@/lib/core/format';
import { deviceHistoryData, historyFilterSchema } from '@/lib/devices/history';
import { SCHEME_LABEL } from '@/lib/gateway/server-auth';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { BackupTimeline, SnapshotList, WhatChangedSince } from '@/components/backup-timeline';
import { AutoRefresh } from '@/components/device-auto-refresh';
import { BackUpNow } from '@/components/device-backup-now';
import { DeviceCoverage } from '@/components/device-coverage';
import { DeviceDs } from '@/components/device-ds';
import { BackUpContactsNow } from '@/components/device-ds-backup-now';
import { DeviceJobs } from '@/components/device-jobs';
import { DeviceConsents, FirmwareHistory, JobHistory, LastAttempt, SessionHistory } from '@/components/device-history';
import { LocalTime } from '@/components/local-time';
import { DeviceLocalBackups } from '@/components/device-local-backups';
import { Badge, Card, Facts, PageHeader } from '@/components/ui';
import { backUpNow } from './actions';
import { backUpContactsNow } from './ds/actions';

export const metadata: Metadata = { title: 'Handset · Rewind' };
export const dynamic = 'force-dynamic';

/** One handset for care agents: what it is, how well it is backed up, what is pending, and its backups over time. */
export default async function DevicePage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<{ kind?: string; outcome?: string }>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const { db } = getContext();
  const device = await forPage(() => deviceFor(db, viewer, id));
  const d = await devicePageData(db, device);
  const { subscriber, network: net, now } = d;
  const h = await deviceHistoryData(db, device.id, historyFilterSchema.parse(await searchParams), now);

  return (
    <div className="space-y-6">
      <AutoRefresh active={d.pending.length > 0} />
      <PageHeader
        title={[device.manufacturer, device.model].filter(Boolean).join(' ') || 'Handset'}
        subtitle={<span className="font-mono">{device.devId}</span>}
        back={
          subscriber
            ? { href: `/subscribers/${subscriber.id}`, label: subscriber.name }
            : { href: '/', label: 'Search' }
        }
        actions={<BackUpNow deviceId={device.id} action={backUpNow} />}
      />

      <LastAttempt entry={h.last} />

      <Card title="Handset">
        <Facts
          items={[
            ['Model', device.model ?? 'unknown'],
            ['Manufacturer', device.manufacturer ?? 'unknown'],
            ['Firmware', device.firmware ?? 'not yet reported'],
            [
              'DevId',
              <span key="d" className="font-mono">
                {device.devId}
              </span>,
            ],
            [
              'Subscriber',
              subscriber ? (
                <Link key="s" href={`/subscribers/${subscriber.id}`} className="text-sky-700 hover:underline">
                  {subscriber.name}
                  {subscriber.msisdns[0] ? ` · +${subscriber.msisdns[0]}` : ''}
                </Link>
              ) : (
                'none'
              ),
            ],
            [
              'Network',
              net ? (
                <span key="n">
                  {net.bearer === 'wifi' ? 'Wi-Fi' : (net.bearer ?? 'unknown bearer')}
                  {net.operator ? ` · ${net.operator}` : ''}
                  {net.roaming ? (
                    <>
                      {' '}
                      · <Badge tone="warn">roaming</Badge>
                    </>
                  ) : (
                    ' · home network'
                  )}
                </span>
              ) : (
                'not yet reported'
              ),
            ],
            [
              'Last seen',
              device.lastSeenAt ? (
                <span key="l">
                  {formatAge(device.lastSeenAt, now)} (<LocalTime at={device.lastSeenAt} />)
                </span>
              ) : (
                'never'
              ),
            ],
            // The DM account's scheme each way (DMAcc AppAuth): the server's follows what the handset asks for.
            [
              'DM authentication',
              `handset → server ${SCHEME_LABEL[device.clientAuth]} · server → handset ${SCHEME_LABEL[device.serverAuth]}`,
            ],
            ['Backup policy', d.policy],
          ]}
        />
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Backup coverage">
          <DeviceCoverage deviceId={device.id} rows={d.coverage} now={now} />
        </Card>
        <Card title="Pending and deferred jobs">
          <DeviceJobs jobs={d.pending} now={now} />
        </Card>
      </div>

      <Card title="Session history">
        <SessionHistory deviceId={device.id} entries={h.sessions} total={h.total} filter={h.filter} />
      </Card>

      <div className="grid gap-6 lg:grid-cols-2">
        <Card title="Job history">
          <JobHistory jobs={h.jobs} />
        </Card>
        <div className="space-y-6">
          <Card title="Firmware history">
            <FirmwareHistory runs={h.firmware} now={now} />
          </Card>
          <Card title="Consents">
            <DeviceConsents consents={h.consents} />
          </Card>
        </div>
      </div>

      <Card title="Backup timeline" actions={<WhatChangedSince deviceId={device.id} defaultDay={d.sinceDefault} />}>
        <BackupTimeline points={d.points} tones={TIMELINE_TONES} />
        <div className="mt-4">
          <SnapshotList deviceId={device.id} snapshots={d.snapshots} previous={d.previous} />
          {d.attempts > LIST_MAX ? (
            <p className="mt-2 text-xs text-slate-500">
              The {LIST_MAX} newest of {d.attempts} attempts are listed.
            </p>
          ) : null}
        </div>
      </Card>

      <Card
        title="Contacts and calendar"
        actions={
          d.ds.accounts.length ? <BackUpContactsNow deviceId={device.id} action={backUpContactsNow} /> : undefined
        }
      >
        <DeviceDs
          deviceId={device.id}
          accounts={d.ds.accounts}
          backups={d.ds.snapshots}
          more={d.ds.more}
          now={now}
          isAdmin={viewer.role === 'admin'}
        />
      </Card>

      <Card title="Local backups on the handset">
        <DeviceLocalBackups rows={d.localBackups} now={now} />
      </Card>
    </div>
  );
}
