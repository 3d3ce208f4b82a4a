import type { Metadata } from 'next';
import Link from 'next/link';
import { AdminButton } from '@/components/admin-form';
import { WebhookAddForm } from '@/components/webhook-form';
import { Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { webhookList } from '@/lib/alerts/webhooks';
import { WEBHOOK_EVENTS } from '@/lib/alerts/schemas';
import { requireViewer } from '@/lib/server/action';
import { addWebhookAction, removeWebhookAction, testWebhookAction } from './actions';

export const metadata: Metadata = { title: 'Webhooks · Rewind' };
export const dynamic = 'force-dynamic';

/** Admins: where alerts and job events go, a test button, and each webhook's delivery log. */
export default async function WebhooksPage() {
  await requireViewer(['admin']);
  const hooks = await webhookList(getContext().db);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Webhooks"
        subtitle="Alerts and job events POSTed as signed JSON; a receiver that does not answer 2xx gets the event again, later."
      />
      <Card title="Add a webhook">
        <WebhookAddForm action={addWebhookAction} events={WEBHOOK_EVENTS.map((e) => ({ value: e, label: e }))} />
      </Card>
      <Card title="Webhooks">
        {hooks.length === 0 ? (
          <EmptyState title="No webhooks yet">Add one above for each system that should hear about alerts.</EmptyState>
        ) : (
          <Table caption="Webhooks">
            <thead>
              <tr>
                <th className={thClass}>URL</th>
                <th className={thClass}>Events</th>
                <th className={thClass}>Added</th>
                <th className={thClass}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {hooks.map((w) => (
                <tr key={w.id}>
                  <td className={`${tdClass} break-all`}>
                    <Link href={`/admin/webhooks/${w.id}`} className="text-sky-800 underline">
                      {w.url}
                    </Link>
                  </td>
                  <td className={tdClass}>{w.events.join(', ')}</td>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(w.createdAt)}</td>
                  <td className={`${tdClass} space-x-2 whitespace-nowrap`}>
                    <AdminButton
                      action={testWebhookAction}
                      values={{ id: w.id }}
                      label="Send test"
                      success="Test sent"
                    />
                    <AdminButton
                      action={removeWebhookAction}
                      values={{ id: w.id }}
                      label="Remove"
                      success="Webhook removed"
                      variant="danger"
                      confirm={`Remove the webhook to ${w.url}? Its pending deliveries go with it.`}
                    />
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
