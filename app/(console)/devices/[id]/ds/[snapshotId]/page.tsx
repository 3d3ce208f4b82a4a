import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { getContext } from '@/lib/core/context';
import { dsSnapshotPageData, DsNotFound } from '@/lib/ds/views';
import { formatBytes, formatTime } from '@/lib/core/format';
import { requireViewer } from '@/lib/server/action';
import { deviceFor, forPage } from '@/lib/server/access';
import { DsBrowseControls, DsItemList, DsNothing } from '@/components/device-ds-items';
import { ButtonLink, Card, Facts, PageHeader } from '@/components/ui';

export const metadata: Metadata = { title: 'Contacts and calendar backup · Rewind' };
export const dynamic = 'force-dynamic';

type Query = { store?: string | string[]; page?: string | string[]; q?: string | string[] };
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)?.slice(0, 100) || undefined;

/** One DS backup: its contacts or its events by name, a page at a time, each with its fields. */
export default async function DsSnapshotPage({
  params,
  searchParams,
}: {
  params: Promise<{ id: string; snapshotId: string }>;
  searchParams: Promise<Query>;
}) {
  const viewer = await requireViewer(['agent', 'admin']);
  const { id, snapshotId } = await params;
  const q = await searchParams;
  const { db, blobs } = getContext();
  const device = await forPage(() => deviceFor(db, viewer, id));
  let d;
  try {
    d = await dsSnapshotPageData(db, blobs, device, snapshotId, {
      store: one(q.store),
      page: Number(one(q.page) ?? 1) || 1,
      q: one(q.q),
      reader: viewer,
    });
  } catch (err) {
    if (err instanceof DsNotFound) notFound();
    throw err;
  }
  const s = d.snapshot;
  const base = `/devices/${device.id}/ds/${s.id}`;
  return (
    <div className="space-y-6">
      <PageHeader
        title="Contacts and calendar backup"
        subtitle={
          <>
            {formatTime(s.createdAt)} ·{' '}
            <Link href={`/devices/${device.id}`} className="font-mono text-sky-800 hover:underline">
              {device.devId}
            </Link>
          </>
        }
        back={{ href: `/devices/${device.id}`, label: device.devId }}
        actions={
          <ButtonLink href={`/devices/${device.id}/ds/diff?to=${s.id}`}>Compare with the previous backup</ButtonLink>
        }
      />
      <Card title="Backup">
        <Facts
          items={[
            ['Taken', formatTime(s.createdAt)],
            ['Sync', s.syncType],
            ['Contacts', String(s.contacts)],
            ['Events', String(s.events)],
            ['Size', formatBytes(s.bytes)],
            ['New content', formatBytes(s.newBytes)],
          ]}
        />
      </Card>
      <Card title={d.store === 'contacts' ? 'Contacts' : 'Events'}>
        <div className="space-y-4">
          <DsBrowseControls
            base={base}
            store={d.store}
            counts={d.counts}
            q={d.q}
            page={d.page}
            pages={d.pages}
            total={d.total}
          />
          {d.items.length ? (
            <DsItemList items={d.items} label={d.store === 'contacts' ? 'Contacts' : 'Events'} />
          ) : (
            <DsNothing>
              {d.q
                ? 'Nothing matches that name.'
                : d.store === 'contacts'
                  ? 'This backup holds no contacts.'
                  : 'This backup holds no events.'}
            </DsNothing>
          )}
        </div>
      </Card>
    </div>
  );
}
