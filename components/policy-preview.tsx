/**
 * When the next backups will run: each handset's next scheduled backup under its policy,
 * with where the policy came from. Server-rendered; it is read again after every save.
 */
import Link from 'next/link';
import { formatAge, formatTime } from '@/lib/core/format';
import { Badge, EmptyState, Table, tdClass, thClass } from './ui';

export interface NextBackupRow {
  deviceId: string;
  devId: string;
  manufacturer: string | null;
  model: string | null;
  groupName: string | null;
  policyName: string;
  source: 'device' | 'group' | 'model' | 'default';
  lastCompleteAt: number | null;
  nextAt: number | undefined;
}

const SOURCE: Record<NextBackupRow['source'], string> = {
  device: 'set on the handset',
  group: 'its group',
  model: 'its model',
  default: 'the default',
};

export function sourceText(r: Pick<NextBackupRow, 'source' | 'groupName' | 'manufacturer' | 'model'>): string {
  if (r.source === 'group') return `group ${r.groupName}`;
  if (r.source === 'model') return `model ${r.manufacturer}/${r.model}`;
  return SOURCE[r.source];
}

export function NextBackupTime({ at, now }: { at: number | undefined; now: number }) {
  if (at === undefined) return <span className="text-slate-600">not scheduled</span>;
  return (
    <span>
      <time dateTime={new Date(at).toISOString()} data-next-backup={at}>
        {formatTime(at)}
      </time>{' '}
      <span className="text-slate-600">({at <= now ? 'due now: the next pass queues it' : formatAge(at, now)})</span>
    </span>
  );
}

export function PolicyPreview({ rows, now, caption }: { rows: NextBackupRow[]; now: number; caption: string }) {
  if (!rows.length) {
    return (
      <EmptyState title="No handset follows this policy yet">
        Assign it to a model or a device group, or make it the default.
      </EmptyState>
    );
  }
  return (
    <Table caption={caption}>
      <thead>
        <tr>
          <th className={thClass}>Handset</th>
          <th className={thClass}>Model</th>
          <th className={thClass}>Policy from</th>
          <th className={thClass}>Last good backup</th>
          <th className={thClass}>Next backup</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.devId}>
            <td className={`${tdClass} font-mono`}>
              <Link href={`/devices/${r.deviceId}`} className="text-sky-700 hover:underline">
                {r.devId}
              </Link>
            </td>
            <td className={tdClass}>
              {r.manufacturer ?? '?'} {r.model ?? ''}
            </td>
            <td className={tdClass}>
              <Badge tone={r.source === 'default' ? 'neutral' : 'info'}>{sourceText(r)}</Badge>
            </td>
            <td className={tdClass}>{r.lastCompleteAt ? formatAge(r.lastCompleteAt, now) : 'none yet'}</td>
            <td className={tdClass}>
              <NextBackupTime at={r.nextAt} now={now} />
            </td>
          </tr>
        ))}
      </tbody>
    </Table>
  );
}
