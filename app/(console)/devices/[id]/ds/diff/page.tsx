import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { DS_DIFF_MAX, dsDiffPageData, diffSummary } from '@/lib/ds/views';
import { formatTime } from '@/lib/core/format';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { DsChangedList, DsItemList } from '@/components/device-ds-items';
import { Card, ErrorNote, PageHeader, buttonClass, inputClass } from '@/components/ui';

export const metadata: Metadata = { title: 'Contacts and calendar: what changed · Rewind' };
export const dynamic = 'force-dynamic';

type Query = { from?: string | string[]; to?: string | string[] };
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.slice(0, 64) || undefined;

function More({ shown, total }: { shown: number; total: number }) {
  return total > shown ? (
    <p className="mt-2 text-xs text-slate-500">
      The first {shown} of {total} are shown; the REST API lists them all.
    </p>
  ) : null;
}

/** Two DS backups of one handset: contacts and events added, removed and changed (`?from=&to=`, by default the newest two). */
export default async function DsDiffPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string }>;
  searchParams: Promise<Query>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id } = await params;
  const q = await searchParams;
  const { db, blobs } = getContext();
  const device = await forPage(() => deviceFor(db, viewer, id));
  const d = await dsDiffPageData(db, blobs, device, { from: one(q.from), to: one(q.to), reader: viewer }, formatTime);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Contacts and calendar: what changed"
        subtitle={
          <Link href={`/devices/${device.id}`} className="font-mono text-sky-800 hover:underline">
            {device.devId}
          </Link>
        }
        back={{ href: `/devices/${device.id}`, label: device.devId }}
      />
      {d.options.length >= 2 ? (
        <Card title="Compare">
          <form method="get" className="flex flex-wrap items-end gap-3">
            {(['from', 'to'] as const).map((side) => (
              <div key={side} className="min-w-0">
                <label htmlFor={`ds-${side}`} className="block text-sm font-medium">
                  {side === 'from' ? 'Older backup' : 'Newer backup'}
                </label>
                <select
                  id={`ds-${side}`}
                  name={side}
                  defaultValue={d.ok ? d[side].id : undefined}
                  className={`${inputClass} max-w-full`}
                >
                  {d.options.map((o) => (
                    <option key={o.id} value={o.id}>
                      {o.label}
                    </option>
                  ))}
                </select>
              </div>
            ))}
            <button type="submit" className={buttonClass('secondary')}>
              Compare
            </button>
          </form>
        </Card>
      ) : null}
      {!d.ok ? (
        <ErrorNote>{d.error}</ErrorNote>
      ) : (
        <>
          <Card title="Summary">
            <p className="text-sm">
              <strong>{formatTime(d.from.createdAt)}</strong> → <strong>{formatTime(d.to.createdAt)}</strong>:{' '}
              {diffSummary(d.byStore)}
            </p>
            <p className="mt-1 text-xs text-slate-600">
              {d.unchanged} {d.unchanged === 1 ? 'item' : 'items'} unchanged.
            </p>
          </Card>
          <Card title={`Changed (${d.totals.changed})`}>
            {d.changed.length ? (
              <DsChangedList items={d.changed} />
            ) : (
              <p className="text-sm text-slate-600">No contact or event changed.</p>
            )}
            <More shown={Math.min(DS_DIFF_MAX, d.totals.changed)} total={d.totals.changed} />
          </Card>
          <div className="grid gap-6 lg:grid-cols-2">
            <Card title={`Added (${d.totals.added})`}>
              {d.added.length ? (
                <DsItemList items={d.added} tone="added" label="Added" />
              ) : (
                <p className="text-sm text-slate-600">Nothing was added.</p>
              )}
              <More shown={Math.min(DS_DIFF_MAX, d.totals.added)} total={d.totals.added} />
            </Card>
            <Card title={`Removed (${d.totals.removed})`}>
              {d.removed.length ? (
                <DsItemList items={d.removed} tone="removed" label="Removed" />
              ) : (
                <p className="text-sm text-slate-600">Nothing was removed.</p>
              )}
              <More shown={Math.min(DS_DIFF_MAX, d.totals.removed)} total={d.totals.removed} />
            </Card>
          </div>
        </>
      )}
    </div>
  );
}
