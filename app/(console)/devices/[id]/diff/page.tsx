import type { Metadata } from 'next';
import Link from 'next/link';
import { getContext } from '@/lib/core/context';
import { diffPageData } from '@/lib/devices/page';
import { formatTime } from '@/lib/core/format';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { WhatChangedSince } from '@/components/backup-timeline';
import { DiffGroups, DiffPickers, VersionChanges } from '@/components/diff-view';
import { Card, ErrorNote, PageHeader } from '@/components/ui';

export const metadata: Metadata = { title: 'What changed · Rewind' };
export const dynamic = 'force-dynamic';

type Query = { from?: string | string[]; to?: string | string[]; since?: string | string[] };
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.slice(0, 64) || undefined;

/** Two backups of one handset side by side: `?from=&to=`, `?since=YYYY-MM-DD`, or by default the newest two. */
export default async function DiffPage({
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
  const d = await diffPageData(db, blobs, device, { from: one(q.from), to: one(q.to), since: one(q.since) });

  return (
    <div className="space-y-6">
      <PageHeader
        title="What changed"
        subtitle={
          <Link href={`/devices/${device.id}`} className="font-mono text-sky-800 hover:underline">
            {device.devId}
          </Link>
        }
        back={{ href: `/devices/${device.id}`, label: device.devId }}
      />
      <Card title="Compare">
        <div className="space-y-4">
          {d.options.length >= 2 ? (
            <DiffPickers
              deviceId={device.id}
              options={d.options}
              from={d.ok ? d.from : undefined}
              to={d.ok ? d.to : undefined}
            />
          ) : null}
          <WhatChangedSince deviceId={device.id} defaultDay={d.sinceDefault} />
        </div>
      </Card>
      {!d.ok ? (
        <ErrorNote>{d.error}</ErrorNote>
      ) : (
        <>
          {d.note ? (
            <p className="rounded border border-sky-200 bg-sky-50 px-3 py-2 text-sm text-sky-900">{d.note}</p>
          ) : null}
          <Card title="Summary">
            <p className="text-sm">
              <strong>{formatTime(d.fromAt)}</strong> → <strong>{formatTime(d.toAt)}</strong>: {d.summary}
            </p>
            <p className="mt-1 text-xs text-slate-600">{d.unchanged} nodes unchanged.</p>
          </Card>
          <Card title="Firmware and app versions">
            <VersionChanges firmware={d.firmware} apps={d.apps} />
          </Card>
          <DiffGroups groups={d.groups} fromId={d.from} toId={d.to} />
        </>
      )}
    </div>
  );
}
