import Link from 'next/link';
import { AuditDetails } from '@/components/audit-details';
import {
  ButtonLink,
  Card,
  EmptyState,
  PageHeader,
  Table,
  buttonClass,
  inputClass,
  tdClass,
  thClass,
} from '@/components/ui';
import { auditDetailLines, auditFilterProblem, auditPage, auditQueryOf, type AuditQuery } from '@/lib/audit/views';
import { ErrorNote } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { formatTime } from '@/lib/core/format';
import { requireViewer } from '@/lib/server/action';

export const dynamic = 'force-dynamic';

function href(path: string, q: AuditQuery): string {
  const s = new URLSearchParams(Object.entries(q).filter(([, v]) => v) as Array<[string, string]>).toString();
  return s ? `${path}?${s}` : path;
}

export default async function AuditPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await requireViewer(['agent', 'admin']);
  const q = auditQueryOf(await searchParams);
  const { before, after, ...filters } = q;
  const { db } = getContext();
  const problem = auditFilterProblem(q);
  const { rows, next, prev } = problem ? { rows: [] } : await auditPage(db, q);
  const filtered = Object.keys(filters).length > 0;
  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        subtitle="Every agent and admin action, API and CLI write, and every answer a handset's user gave to a prompt; newest first."
        actions={
          <a href={href('/audit/export', filters)} className={buttonClass('secondary')} download>
            Export CSV
          </a>
        }
      />
      <Card>
        <form
          method="get"
          className="grid grid-cols-1 gap-3 sm:grid-cols-2 sm:items-end lg:grid-cols-3"
          role="search"
          aria-label="Filter the audit log"
        >
          <div>
            <label htmlFor="audit-devId" className="block text-sm font-medium">
              Handset (DevId)
            </label>
            <input
              id="audit-devId"
              name="devId"
              defaultValue={q.devId ?? ''}
              placeholder="IMEI:356938035643809"
              className={inputClass}
            />
          </div>
          <div>
            <label htmlFor="audit-actor" className="block text-sm font-medium">
              Person
            </label>
            <input
              id="audit-actor"
              name="actor"
              defaultValue={q.actor ?? ''}
              placeholder="ada@example.com, ada*, *lovelace"
              className={inputClass}
              aria-describedby="audit-star"
            />
          </div>
          <div>
            <label htmlFor="audit-action" className="block text-sm font-medium">
              Action
            </label>
            <input
              id="audit-action"
              name="action"
              defaultValue={q.action ?? ''}
              placeholder="policy.updated, consent.*, *viewed"
              className={inputClass}
              aria-describedby="audit-star"
            />
          </div>
          <div>
            <label htmlFor="audit-from" className="block text-sm font-medium">
              From (UTC day)
            </label>
            <input id="audit-from" name="from" type="date" defaultValue={q.from ?? ''} className={inputClass} />
          </div>
          <div>
            <label htmlFor="audit-to" className="block text-sm font-medium">
              To (UTC day, included)
            </label>
            <input id="audit-to" name="to" type="date" defaultValue={q.to ?? ''} className={inputClass} />
          </div>
          <div className="flex gap-2">
            <button type="submit" className={buttonClass('primary')}>
              Filter
            </button>
            {filtered ? <ButtonLink href="/audit">Clear</ButtonLink> : null}
          </div>
          <p id="audit-star" className="text-xs text-slate-600 sm:col-span-2 lg:col-span-3">
            A person or action is matched exactly. End it with * for everything that starts with it (consent.*), start
            it with * for everything that holds it, in any case (*lovelace).
          </p>
        </form>
        {problem ? (
          <div className="mt-3">
            <ErrorNote>{problem}</ErrorNote>
          </div>
        ) : null}
      </Card>
      <Card>
        {rows.length === 0 ? (
          <EmptyState title={filtered ? 'Nothing matches these filters' : 'Nothing has been recorded yet'}>
            {filtered
              ? 'Check the DevId, person or action, or clear the filters.'
              : 'Actions appear here as people and handsets take them.'}
          </EmptyState>
        ) : (
          <Table caption="Audit events, newest first">
            <thead>
              <tr>
                <th className={thClass}>When (UTC)</th>
                <th className={thClass}>Who</th>
                <th className={thClass}>Action</th>
                <th className={thClass}>Handset</th>
                <th className={thClass}>Details</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((e) => (
                <tr key={e.id}>
                  <td className={`${tdClass} whitespace-nowrap tabular-nums`}>
                    <time dateTime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
                  </td>
                  <td className={`${tdClass} break-all`}>
                    <Link href={href('/audit', { ...filters, actor: e.actor })} className="hover:underline">
                      {e.actor}
                    </Link>
                  </td>
                  <td className={tdClass}>
                    <Link href={href('/audit', { ...filters, action: e.action })} className="font-mono hover:underline">
                      {e.action}
                    </Link>
                  </td>
                  <td className={`${tdClass} font-mono`}>
                    {e.devId && e.deviceId ? (
                      <Link href={`/devices/${e.deviceId}`} className="text-sky-700 hover:underline">
                        {e.devId}
                      </Link>
                    ) : e.deviceId ? (
                      <span className="text-slate-500">removed</span>
                    ) : (
                      ''
                    )}
                  </td>
                  <td className={tdClass}>
                    <AuditDetails lines={auditDetailLines(e.details)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </Table>
        )}
        <nav aria-label="Audit log pages" className="mt-3 flex flex-wrap gap-2">
          {before || after ? <ButtonLink href={href('/audit', filters)}>Newest</ButtonLink> : null}
          {prev ? <ButtonLink href={href('/audit', { ...filters, after: prev })}>Newer</ButtonLink> : null}
          {next ? <ButtonLink href={href('/audit', { ...filters, before: next })}>Older</ButtonLink> : null}
        </nav>
      </Card>
    </div>
  );
}
