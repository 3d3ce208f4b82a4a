import type { Metadata } from 'next';
import { AdminButton } from '@/components/admin-form';
import { Badge, Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { webhookDetail } from '@/lib/alerts/webhooks';
import { notFound } from 'next/navigation';
import { AppError } from '@/lib/core/errors';
import { requireViewer } from '@/lib/server/action';
import { testWebhookAction } from '../actions';

export const metadata: Metadata = { title: 'Webhook deliveries · Rewind' };
export const dynamic = 'force-dynamic';

const TONE = { delivered: 'good', pending: 'warn', failed: 'bad' } as const;

/** A webhook's delivery log: every event sent or still being retried, and what the receiver answered. */
export default async function WebhookPage({ params }: { params: Promise<{ id: string }> }) {
  await requireViewer(['admin']);
  const { id } = await params;
  const { webhook, deliveries } = await webhookDetail(getContext().db, id, 200).catch((err: unknown) => {
    if (err instanceof AppError && err.kind === 'not-found') notFound();
    throw err;
  });
  return (
    <div className="space-y-6">
      <PageHeader
        title="Webhook deliveries"
        subtitle={<span className="break-all">{webhook.url}</span>}
        back={{ href: '/admin/webhooks', label: 'Webhooks' }}
        actions={<AdminButton action={testWebhookAction} values={{ id }} label="Send test" success="Test sent" />}
      />
      <Card title="Delivery log">
        {deliveries.length === 0 ? (
          <EmptyState title="Nothing sent yet">Events this webhook asked for show here as they go out.</EmptyState>
        ) : (
          <Table caption="Deliveries, newest first">
            <thead>
              <tr>
                <th className={thClass}>Event</th>
                <th className={thClass}>Created</th>
                <th className={thClass}>Status</th>
                <th className={thClass}>Attempts</th>
                <th className={thClass}>Last answer</th>
                <th className={thClass}>Next attempt</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.id}>
                  <td className={tdClass}>{d.event}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(d.createdAt)}</td>
                  <td className={tdClass}>
                    <Badge tone={TONE[d.status]}>{d.status}</Badge>
                  </td>
                  <td className={tdClass}>{d.attempts}</td>
                  <td className={tdClass}>{d.lastError ?? (d.lastStatus ? `HTTP ${d.lastStatus}` : '—')}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    {d.nextAttemptAt ? formatTime(d.nextAttemptAt) : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
    </div>
  );
}
