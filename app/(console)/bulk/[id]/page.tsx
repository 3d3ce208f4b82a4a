import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { notFound } from 'next/navigation';
import { AppError } from '@/lib/core/errors';
import { bulkProgressById } from '@/lib/bulk/views';
import { BulkProgressView } from '@/components/bulk-progress';
import { PageHeader } from '@/components/ui';
import { cancelBulkAction } from '../actions';

export const metadata: Metadata = { title: 'Bulk operation · Rewind' };
export const dynamic = 'force-dynamic';

/** A bulk operation, live: it updates itself until every handset's outcome is known. */
export default async function BulkPage({ params }: { params: Promise<{ id: string }> }) {
  await requireViewer(['admin']);
  const { id } = await params;
  const progress = await bulkProgressById(getContext(), id).catch((err: unknown) => {
    if (err instanceof AppError && err.kind === 'not-found') notFound();
    throw err;
  });
  return (
    <div>
      <PageHeader
        title="Bulk operation"
        subtitle={<span className="font-mono">{progress.id}</span>}
        back={{ href: '/bulk', label: 'Bulk operations' }}
      />
      <BulkProgressView initial={progress} cancel={cancelBulkAction} />
    </div>
  );
}
