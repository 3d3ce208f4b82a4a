import type { Metadata } from 'next';
import Link from 'next/link';
import type { Db } from '@/db/client';
import { listConsents } from '@/db/queries/restore';
import { lastCompleteSnapshot } from '@/db/queries/snapshots';
import { devicesOfSubscriber, subscriberActivity } from '@/db/queries/subscribers';
import { getContext } from '@/lib/core/context';
import { formatAge, formatTime } from '@/lib/core/format';
import { displayMsisdn } from '@/lib/search/search';
import { requireViewer } from '@/lib/server/action';
import { forPage, subscriberFor } from '@/lib/server/access';
import { json } from '@/lib/backup/views';
import { SubscriberActivity, type ActivityRow } from '@/components/subscriber-activity';
import { SubscriberConsents, type ConsentRowView } from '@/components/subscriber-consents';
import { SubscriberErase } from '@/components/subscriber-erase';
import { eraseSubscriberAction } from './actions';
import { Card, EmptyState, Facts, PageHeader, Table, tdClass, thClass } from '@/components/ui';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Subscriber · Rewind' };

/** A network state column as a person reads it: "Wi-Fi", "cellular, roaming (Orbit)". */
function networkText(raw: string | null): string {
  const n = json(raw) as { bearer?: string | null; roaming?: boolean; operator?: string | null } | null;
  if (!n || typeof n !== 'object') return '-';
  const bearer = n.bearer === 'wifi' ? 'Wi-Fi' : n.bearer ?? 'unknown bearer';
  return `${bearer}${n.roaming ? ', roaming' : ''}${n.operator ? ` (${n.operator})` : ''}`;
}

/** What the page shows, read at one instant (`now` for every age on it). */
async function pageData(db: Db, subscriberId: string) {
  const now = Date.now();
  const devices = [];
  for (const d of await devicesOfSubscriber(db, subscriberId)) devices.push({ d, last: await lastCompleteSnapshot(db, d.id) });
  const devIds = new Map(devices.map(({ d }) => [d.id, d.devId]));

  const activity: ActivityRow[] = (await subscriberActivity(db, subscriberId, 30)).map((e) => e.type === 'job'
    ? {
      key: `j-${e.job.id}`, at: e.at, deviceId: e.deviceId, devId: e.devId, href: `/jobs/${e.job.id}`,
      what: `${e.job.kind[0]!.toUpperCase()}${e.job.kind.slice(1)} job`, status: e.job.status,
      detail: e.job.error ?? (e.job.status === 'queued' && e.job.notBefore && e.job.notBefore > now ? `waits until ${formatTime(e.job.notBefore)}` : ''),
    }
    : {
      key: `s-${e.snapshot.id}`, at: e.at, deviceId: e.deviceId, devId: e.devId, href: `/devices/${e.deviceId}/snapshots/${e.snapshot.id}`,
      what: `Backup (${e.snapshot.trigger})`, status: e.snapshot.status,
      detail: e.snapshot.error ?? `${e.snapshot.entries} nodes`,
    });

  const consents: ConsentRowView[] = (await listConsents(db, { subscriberId }, 100)).map((c) => ({
    id: c.id, at: c.at, deviceId: c.deviceId, devId: devIds.get(c.deviceId) ?? c.deviceId, jobId: c.jobId,
    prompt: c.prompt, answer: c.answer, cost: c.cost, network: networkText(c.network),
  }));

  return { now, devices, activity, consents };
}

/** One subscriber for an agent: who they are, their handsets, what happened lately, and every consent answer. */
export default async function SubscriberPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const { db } = getContext();
  const sub = await forPage(() => subscriberFor(db, viewer, id));
  const { now, devices, activity, consents } = await pageData(db, sub.id);

  return (
    <div className="space-y-6">
      <PageHeader title={sub.name} subtitle="Subscriber" back={{ href: '/', label: 'Search' }} />
      <Card title="Details">
        <Facts items={[
          ['MSISDN', sub.msisdns.length ? sub.msisdns.map(displayMsisdn).join(', ') : 'none'],
          ['Email', sub.email ?? 'none'],
          ['Handsets', String(sub.devices)],
          ['Customer since', formatTime(sub.createdAt)],
        ]} />
      </Card>

      <Card title="Handsets">
        {devices.length === 0 ? (
          <EmptyState title="No handset">This subscriber has no handset provisioned.</EmptyState>
        ) : (
          <Table caption="Handsets">
            <thead>
              <tr><th className={thClass}>Handset</th><th className={thClass}>Model</th><th className={thClass}>Firmware</th><th className={thClass}>Last seen</th><th className={thClass}>Last good backup</th></tr>
            </thead>
            <tbody>
              {devices.map(({ d, last }) => (
                <tr key={d.id}>
                  <td className={tdClass}><Link href={`/devices/${d.id}`} className="font-mono text-sky-800 hover:underline">{d.devId}</Link></td>
                  <td className={tdClass}>{[d.manufacturer, d.model].filter(Boolean).join(' ') || 'unknown'}</td>
                  <td className={tdClass}>{d.firmware ?? 'unknown'}</td>
                  <td className={tdClass}><time dateTime={d.lastSeenAt ? new Date(d.lastSeenAt).toISOString() : undefined} title={formatTime(d.lastSeenAt)}>{formatAge(d.lastSeenAt, now)}</time></td>
                  <td className={tdClass}>{last ? <time dateTime={new Date(last.completedAt ?? last.startedAt).toISOString()} title={formatTime(last.completedAt ?? last.startedAt)}>{formatAge(last.completedAt ?? last.startedAt, now)}</time> : 'none yet'}</td>
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
          <SubscriberErase subscriberId={sub.id} name={sub.name} devices={devices.length} action={eraseSubscriberAction} />
        </Card>
      ) : null}
    </div>
  );
}
