import type { Metadata } from 'next';
import Link from 'next/link';
import { LocalTime } from '@/components/local-time';
import { buttonClass, Card, EmptyState, ErrorNote, PageHeader, Table, tdClass, thClass } from '@/components/ui';
import { getContext } from '@/lib/core/context';
import { firmwareSearchPage } from '@/lib/devices/firmware-search';
import { requireViewer } from '@/lib/server/action';

export const metadata: Metadata = { title: 'Firmware search · Rewind' };
export const dynamic = 'force-dynamic';

/**
 * Fault and recall tracing: which handsets ran a firmware version between two days, with the
 * last good backup of each. A plain GET form, so a search is a link to share.
 */
export default async function FirmwareSearchPage({
  searchParams,
}: {
  searchParams: Promise<{ firmware?: string; from?: string; to?: string }>;
}) {
  await requireViewer(['agent', 'admin']);
  const { db } = getContext();
  const { form, error, result, versions } = await firmwareSearchPage(db, await searchParams);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Firmware search"
        subtitle="Which handsets ran a firmware version between two days (UTC), as their inventories reported it, with the last good backup of each."
        back={{ href: '/fleet', label: 'Fleet' }}
      />
      <Card>
        <form method="get" className="flex flex-wrap items-end gap-3 text-sm">
          <label className="flex flex-col gap-1">
            <span className="text-slate-700">Firmware version</span>
            <input
              name="firmware"
              list="firmware-versions"
              defaultValue={form.firmware}
              required
              className="w-64 rounded border border-slate-300 px-2 py-1 font-mono"
            />
            <datalist id="firmware-versions">
              {versions.map((v) => (
                <option key={v.firmware} value={v.firmware}>
                  {v.handsets} handset{v.handsets === 1 ? '' : 's'}
                </option>
              ))}
            </datalist>
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-slate-700">From</span>
            <input
              type="date"
              name="from"
              defaultValue={form.from}
              className="rounded border border-slate-300 px-2 py-1"
            />
          </label>
          <label className="flex flex-col gap-1">
            <span className="text-slate-700">To</span>
            <input type="date" name="to" defaultValue={form.to} className="rounded border border-slate-300 px-2 py-1" />
          </label>
          <button type="submit" className={buttonClass('primary')}>
            Search
          </button>
        </form>
        {error ? (
          <div className="mt-3">
            <ErrorNote>{error}</ErrorNote>
          </div>
        ) : null}
      </Card>

      {result ? (
        <Card
          title={`${result.hits.length}${result.more ? '+' : ''} handset${result.hits.length === 1 ? '' : 's'} ran ${form.firmware}`}
        >
          {result.hits.length ? (
            <Table caption={`Handsets that ran ${form.firmware} between ${form.from} and ${form.to}`}>
              <thead>
                <tr>
                  <th className={thClass}>Handset</th>
                  <th className={thClass}>Subscriber</th>
                  <th className={thClass}>Ran it</th>
                  <th className={thClass}>Last good backup</th>
                </tr>
              </thead>
              <tbody>
                {result.hits.map((h) => (
                  <tr key={`${h.deviceId}-${h.from}`}>
                    <td className={tdClass}>
                      <Link href={`/devices/${h.deviceId}`} className="text-sky-700 hover:underline">
                        {h.model}
                      </Link>{' '}
                      <Link href={`/devices/${h.deviceId}`} className="font-mono text-xs text-sky-700 hover:underline">
                        {h.devId}
                      </Link>
                    </td>
                    <td className={tdClass}>
                      {h.subscriber ? (
                        <Link href={`/subscribers/${h.subscriber.id}`} className="text-sky-700 hover:underline">
                          {h.subscriber.name}
                        </Link>
                      ) : (
                        '-'
                      )}
                    </td>
                    <td className={`${tdClass} whitespace-nowrap`}>
                      <LocalTime at={h.from} /> – <LocalTime at={h.to} />
                    </td>
                    <td className={`${tdClass} whitespace-nowrap`}>
                      {h.lastGoodBackup ? (
                        <Link
                          href={`/devices/${h.deviceId}/snapshots/${h.lastGoodBackup.id}`}
                          className="text-sky-700 hover:underline"
                        >
                          <LocalTime at={h.lastGoodBackup.at} />
                        </Link>
                      ) : (
                        'none'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </Table>
          ) : (
            <EmptyState title="No handset ran it then">
              No handset reported {form.firmware} between {form.from} and {form.to}.
            </EmptyState>
          )}
          {result.more ? (
            <p className="mt-2 text-xs text-slate-500">Only the first {result.hits.length} are listed.</p>
          ) : null}
        </Card>
      ) : null}
    </div>
  );
}
