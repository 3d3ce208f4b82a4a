/**
 * The search box's results: one card per subscriber with their numbers, email, handset count
 * and what the query matched (the handset itself when an IMEI did). Server-safe, so the page
 * renders it without JavaScript too. Arrow keys move between results (search-box.tsx).
 */
import Link from 'next/link';
import { displayMsisdn, type SearchHit } from '@/lib/search/search';
import { Badge } from './ui';

const MATCHED: Record<SearchHit['match']['kind'], string> = {
  name: 'Name',
  email: 'Email',
  msisdn: 'MSISDN',
  imei: 'IMEI',
  devId: 'DevId',
};

export function SearchResults({ hits }: { hits: readonly SearchHit[] }) {
  return (
    <ol className="space-y-2" aria-label="Subscribers found">
      {hits.map((h) => (
        <li key={h.id} className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm">
          <div className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
            <Link
              href={`/subscribers/${h.id}`}
              data-result
              className="text-base font-medium text-sky-800 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-sky-500"
            >
              {h.name}
            </Link>
            <span className="text-sm text-slate-600">{h.devices === 1 ? '1 handset' : `${h.devices} handsets`}</span>
          </div>
          <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1 text-sm text-slate-700">
            {h.msisdns.length ? (
              <span className="tabular-nums">{h.msisdns.map(displayMsisdn).join(', ')}</span>
            ) : (
              <span className="text-slate-500">no MSISDN</span>
            )}
            {h.email ? <span className="break-all">{h.email}</span> : null}
          </div>
          <div className="mt-2 flex flex-wrap items-center gap-2 text-sm">
            <Badge tone="info">{MATCHED[h.match.kind]}</Badge>
            {h.device ? (
              <Link href={`/devices/${h.device.id}`} className="font-mono text-sky-800 hover:underline">
                {h.device.devId}
                {h.device.manufacturer || h.device.model ? (
                  <span className="font-sans text-slate-600">
                    {' '}
                    ({[h.device.manufacturer, h.device.model].filter(Boolean).join(' ')})
                  </span>
                ) : null}
              </Link>
            ) : (
              <span className="text-slate-600 break-all">
                {h.match.kind === 'msisdn' ? displayMsisdn(h.match.value) : h.match.value}
              </span>
            )}
          </div>
        </li>
      ))}
    </ol>
  );
}
