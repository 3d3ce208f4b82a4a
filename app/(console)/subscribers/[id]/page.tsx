import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { formatAge, formatTime } from '@/lib/core/format';
import { displayMsisdn } from '@/lib/search/search';
import { requireViewer } from '@/lib/server/action';
import { forPage, subscriberFor } from '@/lib/server/access';
import { subscriberPage } from '@/lib/subscribers/views';
import { SubscriberActivity } from '@/components/subscriber-activity';
import { SubscriberConsents } from '@/components/subscriber-consents';
import { LastAttemptCell } from '@/components/device-history';
import { lastAttempts } from '@/lib/devices/history';
import { SubscriberErase } from '@/components/subscriber-erase';
import { eraseSubscriberAction } from './actions';
import { Card, EmptyState, Facts, PageHeader, Table, tdClass, thClass } from '@/components/ui';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Subscriber · Rewind' };

/** One subscriber for an agent: who they are, their handsets, what happened lately, and every consent answer. */
export default async function SubscriberPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const { db } = getContext();
  const sub = await forPage(() => subscriberFor(db, viewer, id));
  const { now, devices, activity, consents } = await subscriberPage(db, sub.id);
  const lastTries = await lastAttempts(
    db,
    devices.map(({ d }) => d.id),
    now,
  );

  return (
    <div className="space-y-6">
      <PageHeader title={sub.name} subtitle="Subscriber" back={{ href: '/', label: 'Search' }} />
      <Card title="Details">
        <Facts
          items={[
            ['MSISDN', sub.msisdns.length ? sub.msisdns.map(displayMsisdn).join(', ') : 'none'],
            ['Email', sub.email ?? 'none'],
            ['Handsets', String(sub.devices)],
            ['Customer since', formatTime(sub.createdAt)],
          ]}
        />
      </Card>

      <Card title="Handsets">
        {devices.length === 0 ? (
          <EmptyState title="No handset">This subscriber has no handset provisioned.</EmptyState>
        ) : (
          <Table caption="Handsets">
            <thead>
              <tr>
                <th className={thClass}>Handset</th>
                <th className={thClass}>Model</th>
                <th className={thClass}>Firmware</th>
                <th className={thClass}>Last seen</th>
                <th className={thClass}>Last good backup</th>
                <th className={thClass}>Last attempt</th>
              </tr>
            </thead>
            <tbody>
              {devices.map(({ d, last }) => (
                <tr key={d.id}>
                  <td className={tdClass}>
                    <Link href={`/devices/${d.id}`} className="font-mono text-sky-800 hover:underline">
                      {d.devId}
                    </Link>
                  </td>
                  <td className={tdClass}>{[d.manufacturer, d.model].filter(Boolean).join(' ') || 'unknown'}</td>
                  <td className={tdClass}>{d.firmware ?? 'unknown'}</td>
                  <td className={tdClass}>
                    <time
                      dateTime={d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : undefined}
                      title={formatTime(d.lastSeenAt)}
                    >
                      {formatAge(d.lastSeenAt, now)}
                    </time>
                  </td>
                  <td className={tdClass}>
                    {last ? (
                      <time
                        dateTime={new Date(last.completedAt ?? last.startedAt).toISOString()}
                        title={formatTime(last.completedAt ?? last.startedAt)}
                      >
                        {formatAge(last.completedAt ?? last.startedAt, now)}
                      </time>
                    ) : (
                      'none yet'
                    )}
                  </td>
                  <td className={tdClass}>
                    <LastAttemptCell entry={lastTries.get(d.id) ?? null} />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>

      <Card title="Recent activity">
        <SubscriberActivity rows={activity} now={now} />
      </Card>

      <Card title="Consent history">
        <SubscriberConsents rows={consents} />
      </Card>

      {viewer.role === 'admin' ? (
        <Card title="Erase subscriber">
          <SubscriberErase
            subscriberId={sub.id}
            name={sub.name}
            devices={devices.length}
            action={eraseSubscriberAction}
          />
        </Card>
      ) : null}
    </div>
  );
}
