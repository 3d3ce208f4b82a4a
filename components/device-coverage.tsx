/** Backup coverage per category: the last good backup that held it, how long ago, and a warning when stale or never. */
import Link from 'next/link';
import type { CategoryCoverage } from '@/lib/devices/views';
import { formatAge, formatTime } from '@/lib/core/format';
import { Badge, Table, tdClass, HeadRow } from './ui';

const STATE = {
  fresh: { tone: 'good', text: 'up to date' },
  stale: { tone: 'warn', text: 'stale' },
  never: { tone: 'bad', text: 'never backed up' },
} as const;

export function DeviceCoverage({ deviceId, rows, now }: { deviceId: string; rows: CategoryCoverage[]; now: number }) {
  return (
    <Table caption="Backup coverage per category">
      <HeadRow columns={['Category', 'Last good backup', 'State']} />
      <tbody>
        {rows.map((r) => (
          <tr key={r.category}>
            <th scope="row" className={`${tdClass} font-medium`}>
              {r.label}
              {!r.inPolicy ? (
                <span className="block text-xs font-normal text-slate-500">not in this handset&apos;s policy</span>
              ) : null}
            </th>
            <td className={tdClass}>
              {r.lastAt !== null && r.snapshotId ? (
                <Link
                  href={`/devices/${deviceId}/snapshots/${r.snapshotId}`}
                  className="text-sky-700 hover:underline"
                  title={formatTime(r.lastAt)}
                >
                  {formatAge(r.lastAt, now)}
                </Link>
              ) : (
                'never'
              )}
            </td>
            <td className={`${tdClass} whitespace-nowrap`}>
              {/* Outside the policy, "never" is expected: said plainly, not as an alarm. */}
              <Badge tone={!r.inPolicy && r.state !== 'fresh' ? 'neutral' : STATE[r.state].tone}>
                {STATE[r.state].text}
              </Badge>
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
