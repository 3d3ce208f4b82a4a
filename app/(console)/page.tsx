import type { Metadata } from 'next';
import { getContext } from '@/lib/core/context';
import { requireViewer } from '@/lib/server/action';
import { MAX_QUERY_LENGTH } from '@/lib/search/search';
import { findSubscribers } from '@/lib/subscribers/views';
import { SearchBox } from '@/components/search-box';
import { PageHeader } from '@/components/ui';

export const metadata: Metadata = { title: 'Search · Rewind' };

/**
 * The agent's home: one search box. `?q=` is searched here too, so the box works without
 * JavaScript and a reloaded or shared address shows its results at once.
 */
export default async function SearchPage({ searchParams }: { searchParams: Promise<{ q?: string | string[] }> }) {
  await requireViewer(['agent', 'admin']);
  const raw = (await searchParams).q;
  const q = (typeof raw === 'string' ? raw : '').trim().slice(0, MAX_QUERY_LENGTH);
  const hits = q ? await findSubscribers(getContext().db, q) : [];
  return (
    <div className="mx-auto max-w-3xl">
      <PageHeader title="Find a subscriber" subtitle="By MSISDN, IMEI, name or email" />
      <SearchBox key={q} initialQuery={q} initialHits={hits} />
    </div>
  );
}
