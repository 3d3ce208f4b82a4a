import type { Metadata } from 'next';
import Link from 'next/link';
import { AdminForm } from '@/components/admin-form';
import { LocalTime } from '@/components/local-time';
import { Card, EmptyState, HeadRow, PageHeader, StatusBadge, Table, tdClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { BULK_ACTION_WORDS } from '@/lib/bulk/schemas';
import { recentBulkProgress } from '@/lib/bulk/views';
import { budgetWords, wakeBudgetView } from '@/lib/jobs/wake-budget';
import { requireViewer } from '@/lib/server/action';
import { setWakeBudgetAction } from './actions';

export const metadata: Metadata = { title: 'Bulk operations · Rewind' };
export const dynamic = 'force-dynamic';

/** The recent bulk operations, and the wake budget every operation's Package #0 go out within. */
export default async function BulkOperationsPage() {
  await requireViewer(['admin']);
  const ctx = getContext();
  const operations = await recentBulkProgress(ctx);
  const budget = await wakeBudgetView(ctx.db, ctx.env);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Bulk operations"
        subtitle="Backups and assignments ordered on many handsets at once, from the device list"
      />
      <Card title="Recent operations">
        {operations.length ? (
          <Table caption="Recent bulk operations, newest first">
            <thead>
              <HeadRow columns={['Ordered', 'Action', 'Handsets', 'Progress', 'Status', 'By']} />
            </thead>
            <tbody>
              {operations.map((o) => (
                <tr key={o.id}>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    <Link href={`/bulk/${o.id}`} className="text-sky-700 hover:underline">
                      <LocalTime at={o.createdAt} />
                    </Link>
                  </td>
                  <td className={tdClass}>{BULK_ACTION_WORDS[o.action]}</td>
                  <td className={tdClass}>{o.total.toLocaleString('en-GB')}</td>
                  <td className={tdClass}>{o.percent}%</td>
                  <td className={tdClass}>
                    <StatusBadge status={o.finished ? (o.status === 'complete' ? 'done' : o.status) : 'running'} />
                  </td>
                  <td className={tdClass}>{o.actor}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        ) : (
          <EmptyState title="No bulk operation yet">
            Filter the <Link href="/devices">device list</Link>, then act on all the handsets it matches.
          </EmptyState>
        )}
      </Card>
      <Card title="Wake budget">
        <p className="mb-3 text-sm text-slate-700">
          At most this many handsets are woken (sent Package #0) per minute, by all server processes together; the
          others wait for the next minute. Now: {budgetWords(budget.perMinute)}
          {budget.fromSetting ? '' : ' (the default)'}; {budget.sentThisMinute.toLocaleString('en-GB')} sent this
          minute.
        </p>
        <AdminForm
          action={setWakeBudgetAction}
          fields={[
            {
              kind: 'number',
              name: 'wakeBudgetPerMinute',
              label: 'Wakes per minute',
              defaultValue: budget.perMinute,
              min: 0,
              hint: '0 means no limit.',
            },
          ]}
          submit="Save the wake budget"
          success="Saved the wake budget"
          columns={1}
        />
      </Card>
    </div>
  );
}
