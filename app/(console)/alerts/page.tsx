import type { Metadata } from 'next';
import Link from 'next/link';
import { AdminButton, AdminForm } from '@/components/admin-form';
import { Badge, Card, EmptyState, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { alertList } from '@/lib/alerts/alerts';
import { alertRules, THRESHOLD_UNIT } from '@/lib/alerts/rules';
import { alertListQuerySchema } from '@/lib/alerts/schemas';
import { requireViewer } from '@/lib/server/action';
import { acknowledgeAlertAction, resolveAlertAction, saveAlertRuleAction } from './actions';

export const metadata: Metadata = { title: 'Alerts · Rewind' };
export const dynamic = 'force-dynamic';

const FILTERS = [
  { status: 'unresolved', label: 'Unresolved' },
  { status: 'resolved', label: 'Resolved' },
  { status: 'all', label: 'All' },
] as const;
const TONE = { open: 'bad', acknowledged: 'warn', resolved: 'good' } as const;

/** Alerts the rules raised: acknowledge (someone is on it) and resolve; admins set the rules. */
export default async function AlertsPage({ searchParams }: { searchParams: Promise<{ status?: string | string[] }> }) {
  const viewer = await requireViewer(['agent', 'admin']);
  const raw = (await searchParams).status;
  const q = alertListQuerySchema.safeParse({ status: typeof raw === 'string' ? raw : undefined, limit: 200 });
  const query = q.success ? q.data : { status: 'unresolved' as const, limit: 200 };
  const db = getContext().db;
  const [{ alerts, unresolved }, rules] = await Promise.all([alertList(db, query), alertRules(db)]);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Alerts"
        subtitle={`${unresolved} unresolved. Each is raised once per handset and condition, and resolved by the system when the condition clears.`}
      />
      <nav aria-label="Alert filter" className="flex gap-2 text-sm">
        {FILTERS.map((f) => (
          <Link
            key={f.status}
            href={`/alerts?status=${f.status}`}
            aria-current={query.status === f.status ? 'page' : undefined}
            className={`rounded px-2 py-1 ${query.status === f.status ? 'bg-slate-900 text-white' : 'text-slate-700 hover:bg-slate-100'}`}
          >
            {f.label}
          </Link>
        ))}
      </nav>
      <Card title="Alerts">
        {alerts.length === 0 ? (
          <EmptyState title="No alerts here">Nothing the rules below watch for has happened.</EmptyState>
        ) : (
          <Table caption="Alerts, newest first">
            <thead>
              <tr>
                <th className={thClass}>Raised</th>
                <th className={thClass}>Status</th>
                <th className={thClass}>Handset</th>
                <th className={thClass}>What</th>
                <th className={thClass}>
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {alerts.map((a) => (
                <tr key={a.id}>
                  <td className={`${tdClass} whitespace-nowrap`}>{formatTime(a.raisedAt)}</td>
                  <td className={tdClass}>
                    <Badge tone={TONE[a.status]}>{a.status}</Badge>
                    {a.acknowledgedBy && a.status === 'acknowledged' ? (
                      <div className="text-xs text-slate-500">by {a.acknowledgedBy}</div>
                    ) : null}
                    {a.resolvedBy ? <div className="text-xs text-slate-500">by {a.resolvedBy}</div> : null}
                  </td>
                  <td className={`${tdClass} whitespace-nowrap`}>
                    {a.deviceId ? (
                      <Link href={`/devices/${a.deviceId}`} className="text-sky-800 underline">
                        {a.devId}
                      </Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td className={tdClass}>{a.message}</td>
                  <td className={`${tdClass} space-x-2 whitespace-nowrap`}>
                    {a.status === 'open' ? (
                      <AdminButton
                        action={acknowledgeAlertAction}
                        values={{ id: a.id }}
                        label="Acknowledge"
                        success="Alert acknowledged"
                      />
                    ) : null}
                    {a.status !== 'resolved' ? (
                      <AdminButton
                        action={resolveAlertAction}
                        values={{ id: a.id }}
                        label="Resolve"
                        success="Alert resolved"
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
      </Card>
      <Card title="Rules">
        <ul className="space-y-4">
          {rules.map((r) => (
            <li key={r.kind} className="border-b border-slate-100 pb-3 last:border-0">
              <p className="text-sm">
                <span className="font-medium">{r.kind}</span> · {r.description}
                {r.enabled ? '' : ' (off)'}
              </p>
              {viewer.role === 'admin' ? (
                <AdminForm
                  action={saveAlertRuleAction}
                  submit="Save rule"
                  success="Rule saved"
                  columns={3}
                  fields={[
                    { kind: 'hidden', name: 'kind', value: r.kind },
                    THRESHOLD_UNIT[r.kind]
                      ? {
                          kind: 'number',
                          name: 'threshold',
                          label: `Threshold (${THRESHOLD_UNIT[r.kind]})`,
                          defaultValue: r.threshold,
                          min: 1,
                        }
                      : { kind: 'hidden', name: 'threshold', value: String(r.threshold) },
                    { kind: 'checkbox', name: 'enabled', label: 'On', defaultChecked: r.enabled },
                  ]}
                />
              ) : null}
            </li>
          ))}
        </ul>
      </Card>
    </div>
  );
}
