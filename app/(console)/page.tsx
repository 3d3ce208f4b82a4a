import type { Metadata } from 'next';
import { requireViewer } from '@/lib/server/action';
import { PageHeader } from '@/components/ui';

export const metadata: Metadata = { title: 'Search · Rewind' };

/** The agent's home: one search box (built out with the search index). */
export default async function SearchPage() {
  await requireViewer(['agent', 'admin']);
  return <PageHeader title="Find a subscriber" subtitle="MSISDN, IMEI, name or email" />;
}
