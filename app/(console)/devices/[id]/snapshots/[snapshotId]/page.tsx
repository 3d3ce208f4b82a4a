import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { notFound } from 'next/navigation';
import { getContext } from '@/lib/core/context';
import { snapshotBrowser } from '@/lib/backup/browse';
import { formatBytes, formatTime } from '@/lib/core/format';
import { airtime, airtimeText, changeDetectionText } from '@/lib/backup/airtime';
import { requireViewer } from '@/lib/server/action';
import { forPage, snapshotFor } from '@/lib/server/access';
import { SnapshotBrowser } from '@/components/snapshot-browser';
import { ButtonLink, Card, ErrorNote, Facts, PageHeader, StatusBadge } from '@/components/ui';

export const metadata: Metadata = { title: 'Backup · Rewind' };
export const dynamic = 'force-dynamic';

/**
 * One backup of a handset: applications, firmware, settings, certificates and a gallery of its
 * pictures and sounds; a search through it (`?q=`); the raw tree behind a toggle. Opening it is
 * recorded in the audit log (the view function does it).
 */
export default async function SnapshotPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string; snapshotId: string }>;
  searchParams: Promise<{ q?: string | string[] }>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id, snapshotId } = await params;
  const rawQ = (await searchParams).q;
  const { db, blobs } = getContext();
  const { snapshot, device } = await forPage(() => snapshotFor(db, viewer, snapshotId));
  // The URL names the handset too: a snapshot of another handset is not found under this one.
  if (device.id !== id) notFound();

  const back = { href: `/devices/${device.id}`, label: device.devId };
  const title = `Backup of ${formatTime(snapshot.completedAt ?? snapshot.startedAt)}`;
  const facts: Array<[string, ReactNode]> = [
    ['Trigger', snapshot.trigger],
    ['Status', <StatusBadge key="s" status={snapshot.status} />],
    ['Started', formatTime(snapshot.startedAt)],
    ['Completed', formatTime(snapshot.completedAt)],
    ['Nodes', String(snapshot.entries)],
    ['Size', formatBytes(snapshot.bytes)],
    ['New content', formatBytes(snapshot.newBytes)],
    ['Over the air', airtimeText(airtime(snapshot))],
    ['What travelled', changeDetectionText(snapshot.changeDetection)],
    ...(snapshot.digestDefect ? [['Digest defect', snapshot.digestDefect] as [string, ReactNode]] : []),
    [
      'Root hash',
      <span key="h" className="font-mono text-xs">
        {snapshot.rootHash ?? '-'}
      </span>,
    ],
  ];

  const d = await snapshotBrowser(db, blobs, viewer, device, snapshot, {
    q: typeof rawQ === 'string' ? rawQ : undefined,
  });

  return (
    <div className="space-y-6">
      <PageHeader
        title={title}
        subtitle={
          <Link href={`/devices/${device.id}`} className="font-mono text-sky-800 hover:underline">
            {device.devId}
          </Link>
        }
        back={back}
        actions={
          d.browsable ? (
            <>
              {d.previous ? (
                <ButtonLink href={`/devices/${device.id}/diff?from=${d.previous}&to=${snapshot.id}`}>
                  Diff with previous
                </ButtonLink>
              ) : null}
              <ButtonLink href={`/devices/${device.id}/restore?snapshot=${snapshot.id}`} variant="primary">
                Restore from this backup
              </ButtonLink>
            </>
          ) : null
        }
      />
      <Card title="About this backup">
        <Facts items={facts} />
      </Card>
      {d.browsable ? <SnapshotBrowser snapshotId={snapshot.id} view={d} /> : <ErrorNote>{d.problem}</ErrorNote>}
    </div>
  );
}
