/** A subscriber's recent jobs and backups across their handsets, newest first. */
import Link from 'next/link';
import { formatAge, formatTime } from '@/lib/core/format';
import { EmptyState, StatusBadge, Table, tdClass, thClass } from './ui';

export interface ActivityRow {
  key: string;
  at: number;
  deviceId: string;
  devId: string;
  /** Where the entry itself is shown: the job, or the snapshot browser for a backup. */
  href: string;
  what: string;
  status: string;
  detail: string;
}

export function SubscriberActivity({ rows, now }: { rows: readonly ActivityRow[]; now: number }) {
  if (!rows.length)
    return (
      <EmptyState title="Nothing yet">
        No job has run and no backup has been taken on this subscriber’s handsets.
      </EmptyState>
    );
  return (
    <Table caption="Recent activity, newest first">
      <thead>
        <tr>
          <th className={thClass}>When</th>
          <th className={thClass}>Handset</th>
          <th className={thClass}>What</th>
          <th className={thClass}>Status</th>
          <th className={thClass}>Detail</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.key}>
            <td className={`${tdClass} whitespace-nowrap`}>
              <time dateTime={new Date(r.at).toISOString()} title={formatTime(r.at)}>
                {formatAge(r.at, now)}
              </time>
            </td>
            <td className={tdClass}>
              <Link href={`/devices/${r.deviceId}`} className="font-mono text-sky-800 hover:underline">
                {r.devId}
              </Link>
            </td>
            <td className={tdClass}>
              <Link href={r.href} className="text-sky-800 hover:underline">
                {r.what}
              </Link>
            </td>
            <td className={tdClass}>
              <StatusBadge status={r.status} />
            </td>
            <td className={`${tdClass} break-words text-slate-600`}>{r.detail}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
