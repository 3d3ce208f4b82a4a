import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { portalConsents } from '@/lib/subscribers/portal';
import { formatTime } from '@/lib/core/format';
import { Card, EmptyState, PageHeader, StatusBadge, Table, tdClass, thClass } from '@/components/ui';

export const metadata: Metadata = { title: 'My consent history · Rewind' };
export const dynamic = 'force-dynamic';

/** Every answer the subscriber gave on a handset to a restore prompt, newest first. */
export default async function PortalConsentsPage() {
  const viewer = await requireViewer(['subscriber']);
  const rows = await portalConsents(getContext().db, viewer);
  return (
    <div>
      <PageHeader
        title="My consent history"
        subtitle="What each handset asked you before a restore, and what you answered."
      />
      {rows.length === 0 ? (
        <EmptyState title="No answers yet">
          When a restore asks you on your handset, your answer is kept here.
        </EmptyState>
      ) : (
        <Card>
          <Table caption="Consent answers, newest first">
            <thead>
              <tr>
                {/* On a phone's width the handset and the cost go under the time, so nothing scrolls sideways. */}
                <th className={thClass}>When</th>
                <th className={`${thClass} hidden sm:table-cell`}>Handset</th>
                <th className={thClass}>Asked</th>
                <th className={thClass}>Answer</th>
                <th className={`${thClass} hidden sm:table-cell`}>Cost quoted</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => (
                <tr key={c.id}>
                  <td className={tdClass}>
                    {formatTime(c.at)}
                    <span className="block text-xs break-all text-slate-600 sm:hidden">
                      {c.devId ?? 'a handset no longer yours'}
                      {c.cost ? ` · ${c.cost}` : ''}
                    </span>
                  </td>
                  <td className={`${tdClass} hidden font-mono text-xs sm:table-cell`}>
                    {c.devId ?? 'a handset no longer yours'}
                  </td>
                  <td className={`${tdClass} break-words`}>{c.prompt}</td>
                  <td className={tdClass}>
                    <StatusBadge status={c.answer} />
                  </td>
                  <td className={`${tdClass} hidden sm:table-cell`}>{c.cost ?? '-'}</td>
                </tr>
              ))}
            </tbody>
          </Table>
        </Card>
      )}
    </div>
  );
}
