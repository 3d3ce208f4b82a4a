/** Every consent prompt a subscriber's handsets showed, with the answer given, newest first. */
import Link from 'next/link';
import { formatTime } from '@/lib/core/format';
import { EmptyState, StatusBadge, Table, tdClass, thClass } from './ui';

export interface ConsentRowView {
  id: string;
  at: number;
  deviceId: string;
  devId: string;
  jobId: string | null;
  prompt: string;
  answer: string;
  cost: string | null;
  /** The network the prompt was shown on, in words. */
  network: string;
}

export function SubscriberConsents({ rows }: { rows: readonly ConsentRowView[] }) {
  if (!rows.length)
    return (
      <EmptyState title="No consent asked yet">
        A restore asks the handset’s user first; their answers will be listed here.
      </EmptyState>
    );
  return (
    <Table caption="Consent history, newest first">
      <thead>
        <tr>
          <th className={thClass}>Time (UTC)</th>
          <th className={thClass}>Handset</th>
          <th className={thClass}>Prompt</th>
          <th className={thClass}>Answer</th>
          <th className={thClass}>Cost</th>
          <th className={thClass}>Network</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={c.id}>
            <td className={`${tdClass} whitespace-nowrap`}>
              {c.jobId ? (
                <Link href={`/jobs/${c.jobId}`} className="text-sky-800 hover:underline">
                  {formatTime(c.at)}
                </Link>
              ) : (
                formatTime(c.at)
              )}
            </td>
            <td className={tdClass}>
              <Link href={`/devices/${c.deviceId}`} className="font-mono text-sky-800 hover:underline">
                {c.devId}
              </Link>
            </td>
            <td className={`${tdClass} min-w-48`}>{c.prompt}</td>
            <td className={tdClass}>
              <StatusBadge status={c.answer} />
            </td>
            <td className={tdClass}>{c.cost ?? 'free'}</td>
            <td className={tdClass}>{c.network}</td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
